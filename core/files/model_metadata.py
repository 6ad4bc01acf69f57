"""The JSON metadata of a model file, checked field by field into a typed record.

A model file is untrusted: every field is checked for its type and range here (a bool is no
count, a string no number, NaN no accuracy), so that the rest of the code never meets a raw dict
from a file. Every problem is a ModelFileError "<file>: <field>: <problem>", on one line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from core.data.dataset import MAX_IMAGES
from core.engine.config import CLASS_COUNT, INPUT_SIZE, MAX_EPOCHS, MAX_HIDDEN_LAYERS, MAX_HIDDEN_UNITS, TrainConfig
from core.engine.lcg import MODULUS
from core.engine.network import parameter_count
from core.engine.optim import make_optimizer
from core.engine.run_state import Position
from core.errors import ConfigError, ModelFileError
from core.files.bounded_json import JsonBoundError, loads_bounded

FORMAT_NAME = "mnist-mlp"
FORMAT_VERSION = 1
MAX_METADATA_CHARS = 256 * 1024  # a real one is about 600 characters
MAX_METADATA_DEPTH = 8  # a real one nests 3 deep (metadata, config, hidden)
MAX_NAME_CHARS = 200
# A model this large takes 512 MB per buffer (parameters, and each of Adam's two moments): more than
# the window's six hidden layers would sensibly make, and the bound on what a file can make us allocate.
MAX_PARAMETERS = 2**27


@dataclass(frozen=True)
class ModelMetadata:
    config: TrainConfig
    dataset_name: str
    class_names: tuple[str, ...]
    test_acc: float | None
    position: Position  # without its order, which is an array of the file
    optimizer_state_keys: tuple[str, ...]

    @property
    def parameter_count(self) -> int:
        return parameter_count(self.config.layer_sizes)


def parse_metadata(path: Path, text: str) -> ModelMetadata:
    """The record held by the metadata JSON `text` of the model file `path`, or ModelFileError."""
    def fail(field: str, problem: str) -> ModelFileError:
        return ModelFileError(f"{path}: {field}: {problem}")

    try:
        metadata = loads_bounded(text, MAX_METADATA_CHARS, MAX_METADATA_DEPTH)
    except JsonBoundError as error:
        raise fail("metadata", str(error)) from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path}: not a model file of this application")
    version = metadata.get("version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise fail("version", f"file format version {_show(version)} is not supported "
                              f"(this version reads {FORMAT_VERSION})")
    if "config" not in metadata:
        raise fail("config", "missing")
    try:
        config = TrainConfig.from_dict(metadata["config"])
    except ConfigError as error:
        raise fail("config", str(error)) from None
    layer_sizes = metadata.get("layer_sizes")
    if not (isinstance(layer_sizes, list) and 3 <= len(layer_sizes) <= MAX_HIDDEN_LAYERS + 2
            and all(type(size) is int and 1 <= size <= max(MAX_HIDDEN_UNITS, INPUT_SIZE) for size in layer_sizes)):
        raise fail("layer_sizes", f"not a list of layer sizes: {_show(layer_sizes)}")
    if tuple(layer_sizes) != config.layer_sizes:
        raise fail("layer_sizes", f"{tuple(layer_sizes)} do not match its settings {config.layer_sizes}")
    if parameter_count(config.layer_sizes) > MAX_PARAMETERS:
        raise fail("layer_sizes", f"{parameter_count(config.layer_sizes):,} parameters, more than this "
                                  f"application loads ({MAX_PARAMETERS:,})")

    dataset_name = metadata.get("dataset_name", "MNIST")
    if not _is_name(dataset_name):
        raise fail("dataset_name", f"not a name: {_show(dataset_name)}")
    class_names = metadata.get("class_names", [str(digit) for digit in range(CLASS_COUNT)])
    if not (isinstance(class_names, list) and all(_is_name(name) for name in class_names)):
        raise fail("class_names", f"not a list of names: {_show(class_names)}")
    if len(class_names) != config.layer_sizes[-1]:
        raise fail("class_names", f"{len(class_names)} names for {config.layer_sizes[-1]} outputs")
    test_acc = metadata.get("test_acc")
    if test_acc is not None and not _is_number(test_acc, 0.0, 1.0):
        raise fail("test_acc", f"not an accuracy in [0, 1]: {_show(test_acc)}")

    position = _position(metadata.get("position", {}), config, fail)
    keys = metadata.get("optimizer_state_keys", [])
    own_keys = set(make_optimizer(config, 0, fused=False).state())
    if not (isinstance(keys, list) and all(isinstance(key, str) for key in keys)):
        raise fail("optimizer_state_keys", f"not a list of names: {_show(keys)}")
    if keys and sorted(keys) != sorted(own_keys):
        raise fail("optimizer_state_keys", f"{_show(sorted(keys))} is not the state of {config.optimizer} "
                                           f"({', '.join(sorted(own_keys)) or 'none'})")
    return ModelMetadata(config, dataset_name, tuple(class_names),
                         None if test_acc is None else float(test_acc), position, tuple(sorted(keys)))


def _position(stored, config: TrainConfig, fail) -> Position:
    """The training position, each counter in the range the config allows; the order array and the
    actual dataset are checked later (model_file, then the Trainer)."""
    if not isinstance(stored, dict):
        raise fail("position", f"not an object: {_show(stored)}")
    # Epoch counters are bounded by the most epochs any run has, not by this run's: a run resumed
    # with fewer epochs than it had done (`train --resume --epochs 3`) saves its settings so.
    limits = {  # field: (default, lowest, highest)
        "epochs_done": (0, 0, MAX_EPOCHS),
        "next_batch": (0, 0, MAX_IMAGES // config.batch_size),
        "shuffle_state": (config.seed, 0, MODULUS - 1),
        "shuffled_epoch": (0, 0, MAX_EPOCHS + 1),
    }
    counters = {}
    for name, (default, lowest, highest) in limits.items():
        value = stored.get(name, default)
        if type(value) is not int or not lowest <= value <= highest:
            raise fail(f"position.{name}", f"{_show(value)} is not an integer in [{lowest}, {highest}]")
        counters[name] = value
    lr = stored.get("lr", config.lr)
    if not _is_number(lr, 0.0, math.inf):
        raise fail("position.lr", f"{_show(lr)} is not a learning rate")
    return Position(counters["epochs_done"], counters["next_batch"], float(lr), counters["shuffle_state"],
                    None, counters["shuffled_epoch"])


def _is_number(value, lowest: float, highest: float) -> bool:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        value = float(value)
    except OverflowError:  # an integer of hundreds of digits
        return False
    return math.isfinite(value) and lowest <= value <= highest


def _is_name(value) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_NAME_CHARS and value.isprintable()


def _show(value) -> str:
    """A short one-line rendering of a value read from a file, for a message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
