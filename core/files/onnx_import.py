"""Reading an untrusted ONNX file's network as dense layers, or refusing it in one line.

Accepted: a chain from the one graph input through dense layers (Gemm, or MatMul followed by an
Add of the bias), with a Relu after each but the last, ending on the last layer's output (logits)
or on a Softmax or LogSoftmax of it; a leading Flatten (axis 1) is allowed, as PyTorch exports an
nn.Flatten. Anything else (another op, a branch, a custom domain, Gemm's alpha, beta or transA)
is refused, naming the first node that does not fit by its op type and name.

The bytes are parsed in memory (onnx.load would follow the external-data paths a file names);
initializers are decoded here, from raw_data or the typed lists, after checking their type and
shape against their length, and one that refers to external data is refused.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from core.engine.network import FLOAT
from core.errors import ModelFileError
from core.files.model_import import DenseLayers
from core.files.onnx_export import require_onnx

SUPPORTED = "only Gemm, MatMul+Add and Relu layers, then Softmax, LogSoftmax or nothing, make a network here"
FLOAT_TYPES = {1: np.dtype("<f4"), 11: np.dtype("<f8")}  # TensorProto.FLOAT, TensorProto.DOUBLE
DEFAULT_DOMAINS = ("", "ai.onnx")
MAX_METADATA_CHARS = 4096


class _Refusal(Exception):
    """A reason to refuse the file, raised deep in the walk and worded with the path at the top."""


def layers_from_onnx(data: bytes, path: Path) -> DenseLayers:
    """The dense layers of the ONNX model in `data` (the bytes of `path`), or ModelFileError."""
    onnx = require_onnx()
    from google.protobuf.message import DecodeError

    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, ValueError, RuntimeError):
        raise ModelFileError(f"{path}: neither an ONNX file nor a state dict (it does not parse as ONNX)") from None
    if not model.graph.node:
        raise ModelFileError(f"{path}: neither an ONNX file nor a state dict (no graph nodes)")
    try:
        walk = _ChainWalk(model.graph)
        walk.run()
    except _Refusal as refusal:
        raise ModelFileError(f"{path}: {refusal}") from None
    metadata = {prop.key: prop.value for prop in model.metadata_props if len(prop.value) <= MAX_METADATA_CHARS}
    return DenseLayers(tuple(walk.weights), tuple(walk.biases), "ONNX", walk.output,
                       _class_names(metadata.get("class_names")), metadata.get("dataset_name"))


def _class_names(text: str | None) -> tuple[str, ...] | None:
    try:
        names = json.loads(text) if text else None
    except json.JSONDecodeError:
        return None
    return tuple(names) if isinstance(names, list) and all(isinstance(name, str) for name in names) else None


def _label(node, index: int) -> str:
    name = f"'{node.name}'" if node.name else f"#{index + 1} (unnamed)"
    return f"{node.op_type} node {name}"


class _ChainWalk:
    """Follows the graph's nodes in order, each continuing the chain from the input."""

    def __init__(self, graph) -> None:
        self.graph = graph
        self.initializers = {tensor.name: tensor for tensor in graph.initializer}
        if len(graph.sparse_initializer):
            raise _Refusal("sparse initializers are not supported")
        inputs = [value for value in graph.input if value.name not in self.initializers]
        if len(inputs) != 1:
            raise _Refusal(f"the graph has {len(inputs)} inputs; a network here takes one batch of images")
        element_type = inputs[0].type.tensor_type.elem_type
        if element_type not in (0, 1):  # 0: not stated
            raise _Refusal(f"the graph's input {inputs[0].name!r} is not float32")
        self.current = inputs[0].name
        self.chain = {self.current}
        self.weights: list[np.ndarray] = []
        self.biases: list[np.ndarray] = []
        self.output = "logits"
        self.expect = "dense"  # or "activation": a Relu, a Softmax, or the end

    def run(self) -> None:
        nodes = list(self.graph.node)
        index = 0
        while index < len(nodes):
            node = nodes[index]
            if node.domain not in DEFAULT_DOMAINS:
                raise _Refusal(f"{_label(node, index)} is not supported (custom domain {node.domain!r}): {SUPPORTED}")
            if len(node.output) != 1:
                raise self._unsupported(node, index, f"{len(node.output)} outputs")
            if node.op_type == "Flatten" and index == 0:
                self._flatten(node, index)
            elif node.op_type == "Gemm" and self.expect == "dense":
                self._gemm(node, index)
            elif node.op_type == "MatMul" and self.expect == "dense":
                index += self._matmul(node, index, nodes[index + 1] if index + 1 < len(nodes) else None)
            elif node.op_type == "Relu" and self.expect == "activation" and len(node.input) == 1:
                self._check_attributes(node, index, {})
                self._follow(node, index, expect="dense")
            elif node.op_type in ("Softmax", "LogSoftmax") and self.expect == "activation" and len(node.input) == 1:
                self._check_attributes(node, index, {"axis": (1, -1)})
                self._follow(node, index, expect="end")
                self.output = "softmax" if node.op_type == "Softmax" else "log-softmax"
            else:
                raise self._unsupported(node, index)
            index += 1
        if self.expect == "dense":
            raise _Refusal("the graph ends on a Relu or before any dense layer: its last layer must be dense")
        stray = [value.name for value in self.graph.output if value.name not in self.chain]
        if stray:
            raise _Refusal(f"the graph output {stray[0]!r} is not along the chain of dense layers")

    def _unsupported(self, node, index: int, reason: str = "") -> _Refusal:
        return _Refusal(f"{_label(node, index)} is not supported{f' ({reason})' if reason else ''}: {SUPPORTED}")

    def _follow(self, node, index: int, expect: str) -> None:
        """The node takes the chain's tensor as its first input, and its output continues the chain."""
        if not node.input or node.input[0] != self.current:
            raise self._unsupported(node, index, f"it does not take {self.current!r}, the chain's last tensor")
        self.current = node.output[0]
        self.chain.add(self.current)
        self.expect = expect

    def _check_attributes(self, node, index: int, allowed: dict[str, tuple]) -> dict[str, float]:
        values = {}
        for attribute in node.attribute:
            value = attribute.i if attribute.type == 2 else attribute.f if attribute.type == 1 else None  # INT, FLOAT
            if attribute.name not in allowed or value not in allowed[attribute.name]:
                raise self._unsupported(node, index, f"{attribute.name}={value if value is not None else '…'}")
            values[attribute.name] = value
        return values

    def _flatten(self, node, index: int) -> None:
        self._check_attributes(node, index, {"axis": (1,)})
        if len(node.input) != 1:
            raise self._unsupported(node, index)
        self._follow(node, index, expect="dense")

    def _gemm(self, node, index: int) -> None:
        attributes = self._check_attributes(node, index, {"alpha": (1.0,), "beta": (1.0,), "transA": (0,),
                                                          "transB": (0, 1)})
        if len(node.input) not in (2, 3):
            raise self._unsupported(node, index)
        weight = self._matrix(node, index, node.input[1])
        if attributes.get("transB", 0):
            weight = weight.T
        bias = np.zeros(weight.shape[1], FLOAT)
        if len(node.input) == 3 and node.input[2]:
            bias = self._bias(node, index, node.input[2], weight.shape[1])
        self._follow(node, index, expect="activation")
        self.weights.append(weight)
        self.biases.append(bias)

    def _matmul(self, node, index: int, following) -> int:
        """A MatMul by an initializer, with the Add of a bias that follows it; returns the extra nodes taken."""
        self._check_attributes(node, index, {})
        if len(node.input) != 2:
            raise self._unsupported(node, index)
        weight = self._matrix(node, index, node.input[1])
        self._follow(node, index, expect="activation")
        bias, taken = np.zeros(weight.shape[1], FLOAT), 0
        if following is not None and following.op_type == "Add" and following.domain in DEFAULT_DOMAINS \
                and len(following.input) == 2 and len(following.output) == 1 and self.current in following.input:
            other = following.input[1] if following.input[0] == self.current else following.input[0]
            if other in self.initializers:
                bias = self._bias(following, index + 1, other, weight.shape[1])
                self.current = following.output[0]
                self.chain.add(self.current)
                taken = 1
        self.weights.append(weight)
        self.biases.append(bias)
        return taken

    def _matrix(self, node, index: int, name: str) -> np.ndarray:
        values = self._initializer(node, index, name)
        if values.ndim != 2:
            raise self._unsupported(node, index, f"its weight {name!r} has shape {values.shape}, not a matrix")
        return values

    def _bias(self, node, index: int, name: str, width: int) -> np.ndarray:
        values = self._initializer(node, index, name)
        if values.shape not in ((width,), (1, width)):
            raise self._unsupported(node, index, f"its bias {name!r} has shape {values.shape} for {width} outputs")
        return values.reshape(width)

    def _initializer(self, node, index: int, name: str) -> np.ndarray:
        tensor = self.initializers.get(name)
        if tensor is None:
            raise self._unsupported(node, index, f"{name!r} is not a weight stored in the file")
        if tensor.data_location == 1 or len(tensor.external_data):  # TensorProto.EXTERNAL
            raise _Refusal(f"the weight {name!r} refers to external data, which is never read: "
                           "save the model with its weights inside the file")
        dtype = FLOAT_TYPES.get(tensor.data_type)
        if dtype is None:
            raise self._unsupported(node, index, f"its weight {name!r} is not float32 (type {tensor.data_type})")
        shape = tuple(tensor.dims)
        if len(shape) > 2 or any(size < 0 for size in shape):
            raise self._unsupported(node, index, f"its weight {name!r} has shape {shape}")
        count = math.prod(shape)
        raw = tensor.raw_data  # each read of the field may copy it
        if raw:
            if len(raw) != count * dtype.itemsize:
                raise _Refusal(f"the weight {name!r} holds {len(raw)} bytes for shape {shape}")
            values = np.frombuffer(raw, dtype)
        else:
            typed = tensor.float_data if dtype.itemsize == 4 else tensor.double_data
            if len(typed) != count:
                raise _Refusal(f"the weight {name!r} holds {len(typed)} values for shape {shape}")
            values = np.array(typed, dtype)
        return values.astype(FLOAT).reshape(shape)
