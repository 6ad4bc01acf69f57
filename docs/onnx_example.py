import json

import numpy as np
import onnxruntime as ort

session = ort.InferenceSession("model.onnx", providers=["CPUExecutionProvider"])
class_names = json.loads(session.get_modelmeta().custom_metadata_map["class_names"])
image = np.zeros((28, 28), np.float32)  # as MNIST: row by row from the top, 0 background, 1 ink
image[4:24, 13:16] = 1.0  # one upright stroke: a 1
probabilities, logits = session.run(["probabilities", "logits"], {"pixels": image.reshape(1, 784)})
print(class_names[probabilities[0].argmax()], f"{probabilities[0].max():.1%}")
