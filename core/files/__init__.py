"""Model files and interchange formats: validating readers, atomic writers, ONNX, curves."""
