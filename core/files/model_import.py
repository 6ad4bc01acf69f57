"""Bringing a network trained elsewhere in: an ONNX graph or a PyTorch-style state dict, as a model file.

Only what this application's network can be is accepted: dense layers from 784 inputs to 10
classes, ReLU between them, at least one hidden layer. The file is untrusted: its size is bounded
before anything is parsed, every array's type and shape is checked, and every refusal is one
ModelFileError line naming the file and the first thing that does not fit.

An imported model becomes a Checkpoint with:
- the weights, and the layer sizes they imply;
- settings: the seed's Adam defaults with those hidden sizes (`train --resume` fine-tunes with
  them, from a fresh optimizer state; `--epochs N` sets how many epochs);
- an empty history (no curves, no test accuracy: `evaluate` measures it), at epoch 0;
- the class names and dataset name the file states (this application's ONNX export writes them),
  else the digits 0-9 on MNIST.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.engine.config import CLASS_COUNT, INPUT_SIZE, MAX_HIDDEN_UNITS, TrainConfig
from core.engine.network import FLOAT, MLP, parameter_count
from core.engine.run_state import Checkpoint, Position
from core.errors import ModelFileError

MAX_IMPORT_BYTES = 256 * 2**20  # 784-8192-8192-10 would be 281 MB; the bundled model is 0.9 MB
ZIP_MAGIC = b"PK\x03\x04"
DIGITS = tuple(str(digit) for digit in range(10))
MAX_NAME_LENGTH = 64


@dataclass(frozen=True)
class DenseLayers:
    """A file's network before it is trusted: weights (fan_in, fan_out) and biases (fan_out,), float32."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    file_format: str  # "ONNX" or "state dict"
    output: str  # "softmax", "log-softmax" or "logits": what the file's last node returned
    class_names: tuple[str, ...] | None = None
    dataset_name: str | None = None


@dataclass(frozen=True)
class ImportedModel:
    checkpoint: Checkpoint
    file_format: str
    output: str

    def describe(self) -> str:
        sizes = "-".join(map(str, self.checkpoint.model.layer_sizes))
        return f"a {sizes} perceptron ({self.file_format}, {self.output} output)"


def read_bounded(path: str | os.PathLike, limit: int = MAX_IMPORT_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (a FIFO or a device would never end)."""
    path = Path(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ModelFileError(f"{path}: not a regular file")
        if info.st_size > limit:
            raise ModelFileError(f"{path}: {info.st_size:,} bytes, more than the {limit:,} a model may take")
        with path.open("rb") as file:
            data = file.read(limit + 1)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such file") from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot be read ({error.strerror or error})") from None
    if len(data) > limit:
        raise ModelFileError(f"{path}: more than the {limit:,} bytes a model may take")
    return data


def import_model(path: str | os.PathLike) -> ImportedModel:
    """Read an ONNX file or a state dict (.npz), whichever the content is, into a Checkpoint."""
    from core.files.onnx_import import layers_from_onnx
    from core.files.state_dict import layers_from_state_dict

    path = Path(path)
    data = read_bounded(path)
    layers = layers_from_state_dict(data, path) if data.startswith(ZIP_MAGIC) else layers_from_onnx(data, path)
    return ImportedModel(checkpoint_from_layers(layers, path), layers.file_format, layers.output)


def checkpoint_from_layers(layers: DenseLayers, path: Path) -> Checkpoint:
    """The layers as this application's model, once they are checked to form one."""
    def fail(problem: str) -> ModelFileError:
        return ModelFileError(f"{path}: {problem}")

    if len(layers.weights) != len(layers.biases) or not layers.weights:
        raise fail("no dense layers found")
    if len(layers.weights) < 2:
        raise fail("a single dense layer: this application's networks have at least one hidden layer")
    sizes = [layers.weights[0].shape[0]]
    for index, (weight, bias) in enumerate(zip(layers.weights, layers.biases), 1):
        if weight.ndim != 2 or weight.shape[0] != sizes[-1]:
            raise fail(f"dense layer {index} takes {weight.shape[0] if weight.ndim == 2 else '?'} inputs "
                       f"where the layer before gives {sizes[-1]}")
        if bias.shape != (weight.shape[1],):
            raise fail(f"dense layer {index} has a bias of shape {bias.shape} for {weight.shape[1]} outputs")
        sizes.append(weight.shape[1])
    if sizes[0] != INPUT_SIZE or sizes[-1] != CLASS_COUNT:
        raise fail(f"layers {'-'.join(map(str, sizes))}: a model here takes {INPUT_SIZE} pixels "
                   f"and returns {CLASS_COUNT} classes")
    if any(size > MAX_HIDDEN_UNITS for size in sizes[1:-1]):
        raise fail(f"a hidden layer wider than {MAX_HIDDEN_UNITS} units")
    parameters = np.concatenate([part.astype(FLOAT).ravel() for layer in zip(layers.weights, layers.biases)
                                 for part in layer])
    if parameters.size != parameter_count(sizes):
        raise fail("its layers do not add up to a whole network")
    if not np.all(np.isfinite(parameters)):
        raise fail("its weights contain NaN or infinite values")
    model = MLP(sizes)
    model.flat[...] = parameters
    config = TrainConfig(hidden=tuple(sizes[1:-1]))
    names = layers.class_names
    class_names = names if names is not None and len(names) == CLASS_COUNT and all(map(_showable, names)) else DIGITS
    dataset_name = layers.dataset_name if _showable(layers.dataset_name) else "MNIST"
    return Checkpoint(model, config, dataset_name, class_names,
                      position=Position(lr=config.lr, shuffle_state=config.seed))


def _showable(name) -> bool:
    """A name a file states is shown in the window: a short printable string."""
    return isinstance(name, str) and 0 < len(name) <= MAX_NAME_LENGTH and name.isprintable()
