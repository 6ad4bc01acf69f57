"""A model as an ONNX graph, to run it elsewhere (onnxruntime in a web page, a phone, a C++ program).

The graph is the network as core/engine/network.py computes it: one Gemm per layer (weights in this
project's (fan_in, fan_out) layout, so transB = 0), Relu between them, and a Softmax over the last
layer's output. Its interface, documented in the README ("Use your model elsewhere"):

- input `pixels`: float32 (batch, 784), a dynamic batch dimension; each row is a 28x28 image read
  row by row from the top, 0 for the background and 1 for full ink (MNIST's orientation: light
  digits on black, uint8 values / 255);
- outputs `probabilities` (batch, 10), float32 summing to 1, and `logits` (batch, 10), the last
  layer's output before the softmax;
- metadata_props: `class_names` (a JSON list), `layer_sizes`, `dataset_name`, `input`, and
  `test_acc` when the run measured it.

Opset 13 and IR version 7 (onnx 1.8, 2020): old enough for any onnxruntime of the last years,
onnxruntime-web included. `onnx` is an optional extra (`pip install ".[onnx]"`), imported only here
and in core/files/onnx_import.py, when a graph is built or read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from core.atomic_file import write_atomically
from core.engine.run_state import Checkpoint
from core.errors import OptionalDependencyError

OPSET = 13
IR_VERSION = 7
INPUT_NAME = "pixels"
PROBABILITIES = "probabilities"
LOGITS = "logits"
PRODUCER = "mnist-mlp"
INPUT_DESCRIPTION = ("float32 (batch, 784): a 28x28 image row by row from the top, 0 background to 1 ink "
                     "(MNIST: light digits on black, uint8 / 255)")
ONNX_HINT = 'install the onnx extra: pip install ".[onnx]" (or pip install onnx)'


def onnx_available() -> bool:
    """Whether the optional `onnx` package can be imported (the window greys out Export without it)."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        return False
    return True


def require_onnx():
    """The `onnx` module, or an error telling how to install it."""
    try:
        import onnx
    except ImportError:
        raise OptionalDependencyError(f"ONNX files need the onnx package: {ONNX_HINT}") from None
    return onnx


def onnx_model(checkpoint: Checkpoint):
    """The checkpoint's network as a checked `onnx.ModelProto` (see the module docstring)."""
    onnx = require_onnx()
    from onnx import TensorProto, helper, numpy_helper

    model = checkpoint.model
    sizes = model.layer_sizes
    nodes, initializers = [], []
    previous = INPUT_NAME
    last = len(model.weights) - 1
    for index, (weight, bias) in enumerate(zip(model.weights, model.biases)):
        layer = index + 1
        initializers += [numpy_helper.from_array(weight, f"dense{layer}.weight"),
                         numpy_helper.from_array(bias, f"dense{layer}.bias")]
        z = LOGITS if index == last else f"z{layer}"
        nodes.append(helper.make_node("Gemm", [previous, f"dense{layer}.weight", f"dense{layer}.bias"], [z],
                                      name=f"dense{layer}"))
        if index < last:
            previous = f"h{layer}"
            nodes.append(helper.make_node("Relu", [z], [previous], name=f"relu{layer}"))
    nodes.append(helper.make_node("Softmax", [LOGITS], [PROBABILITIES], name="softmax", axis=1))
    graph = helper.make_graph(
        nodes, "mnist_mlp",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", sizes[0]])],
        [helper.make_tensor_value_info(PROBABILITIES, TensorProto.FLOAT, ["batch", sizes[-1]]),
         helper.make_tensor_value_info(LOGITS, TensorProto.FLOAT, ["batch", sizes[-1]])],
        initializers)
    graph.input[0].doc_string = INPUT_DESCRIPTION
    exported = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name=PRODUCER,
                                 doc_string="-".join(map(str, sizes)) + " perceptron: ReLU hidden layers, softmax")
    exported.ir_version = IR_VERSION
    properties = {"class_names": json.dumps(list(checkpoint.class_names)),
                  "layer_sizes": ",".join(map(str, sizes)),
                  "dataset_name": checkpoint.dataset_name,
                  "input": INPUT_DESCRIPTION}
    if checkpoint.test_acc is not None:
        properties["test_acc"] = f"{checkpoint.test_acc:.6g}"
    helper.set_model_props(exported, properties)
    onnx.checker.check_model(exported, full_check=True)
    return exported


def export_onnx(checkpoint: Checkpoint, path: str | os.PathLike) -> Path:
    """Write the checkpoint's network to `path` as ONNX, atomically."""
    return write_atomically(path, onnx_model(checkpoint).SerializeToString())
