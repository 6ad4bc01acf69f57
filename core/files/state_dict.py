"""PyTorch-style state dicts saved as .npz: the layer names and layout torch.nn.Linear uses.

A network `nn.Sequential(nn.Linear(784, 256), nn.ReLU(), ..., nn.Linear(64, 10))` has the state
dict `0.weight`, `0.bias`, `2.weight`, `2.bias`, ... with each weight in PyTorch's (fan_out, fan_in)
layout, the transpose of this project's. Saved as an .npz of float32 arrays it crosses over both
ways: `{name: tensor.numpy() for name, tensor in net.state_dict().items()}` into `np.savez`, and
`net.load_state_dict({name: torch.from_numpy(array) for name, array in np.load(path).items()})` back.

Read, any common prefix and any numbering are accepted (`net.0.weight`, `fc1.weight`): layers are
ordered by the number that ends their name; every array must be a layer's weight or bias.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

import numpy as np

from core.atomic_file import write_atomically
from core.engine.network import FLOAT, MLP
from core.errors import ModelFileError
from core.files.model_import import MAX_IMPORT_BYTES, DenseLayers
from core.files.npz_reader import read_float_arrays

PARAMETER_NAME = re.compile(r"(?P<prefix>.*?)(?P<number>\d+)\.(?P<kind>weight|bias)")


def state_dict(model: MLP) -> dict[str, np.ndarray]:
    """The model's parameters under nn.Sequential's names (a ReLU between Linears: 0, 2, 4, ...)."""
    arrays = {}
    for index, (weight, bias) in enumerate(zip(model.weights, model.biases)):
        arrays[f"{2 * index}.weight"] = np.ascontiguousarray(weight.T)
        arrays[f"{2 * index}.bias"] = np.array(bias)
    return arrays


def export_state_dict(model: MLP, path: str | os.PathLike) -> Path:
    """Write the model's state dict to `path` as an .npz, atomically."""
    return write_atomically(path, lambda file: np.savez(file, **state_dict(model)))


def layers_from_state_dict(data: bytes, path: Path) -> DenseLayers:
    """The dense layers of the state dict in `data` (the bytes of `path`), or ModelFileError."""
    if "metadata.npy" in _member_names(data):
        raise ModelFileError(f"{path}: this is a model file of this application already: load it as it is")
    arrays = read_float_arrays(path, MAX_IMPORT_BYTES, data)  # the bytes checked, not the file read again
    layers: dict[int, dict[str, np.ndarray]] = {}
    prefixes = set()
    for name, values in arrays.items():
        match = PARAMETER_NAME.fullmatch(name)
        if match is None:
            raise ModelFileError(f"{path}: {name!r} is not a dense layer's weight or bias "
                                 "(names like 0.weight, 0.bias, 2.weight are)")
        prefixes.add(match["prefix"])
        if len(prefixes) > 1:
            raise ModelFileError(f"{path}: {name!r} does not share the other layers' prefix {sorted(prefixes)[0]!r}")
        layers.setdefault(int(match["number"]), {})[match["kind"]] = values
    weights, biases = [], []
    for number in sorted(layers):
        layer = layers[number]
        if "weight" not in layer or "bias" not in layer:
            missing = "weight" if "weight" not in layer else "bias"
            raise ModelFileError(f"{path}: layer {number} has no {missing}")
        weight, bias = layer["weight"], layer["bias"]
        if weight.ndim != 2 or bias.ndim != 1:
            raise ModelFileError(f"{path}: layer {number}'s weight must be a matrix and its bias a vector")
        weights.append(weight.T.astype(FLOAT))
        biases.append(bias.astype(FLOAT))
    return DenseLayers(tuple(weights), tuple(biases), "state dict", "logits")


def _member_names(data: bytes) -> list[str]:
    """The member names of the .npz archive `data`, or [] when it is no zip archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return []
