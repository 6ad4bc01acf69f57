"""Saving and loading a model as one .npz: weights, settings, curves and optimizer state.

The file holds only plain arrays (loaded with allow_pickle=False) plus one JSON string for the
metadata, so nothing in it can run code. It is written to a temp file and renamed into place, so
a crash mid-write never replaces the last good model.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from core.aligned import aligned_copy
from core.atomic_file import write_atomically
from core.config import TrainConfig
from core.errors import ConfigError, ModelFileError
from core.network import FLOAT, MLP, parameter_count
from core.run_state import Checkpoint, History, Position

FORMAT_NAME = "mnist-mlp"
FORMAT_VERSION = 1


def save_checkpoint(path: str | os.PathLike, checkpoint: Checkpoint) -> Path:
    path = Path(path)
    history = asdict(checkpoint.history)
    metadata = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "layer_sizes": list(checkpoint.model.layer_sizes),
        "config": checkpoint.config.to_dict(),
        "dataset_name": checkpoint.dataset_name,
        "class_names": list(checkpoint.class_names),
        "test_acc": history.pop("test_acc"),
        "position": {
            "epochs_done": checkpoint.position.epochs_done,
            "next_batch": checkpoint.position.next_batch,
            "lr": checkpoint.position.lr,
            "shuffle_state": checkpoint.position.shuffle_state,
            "shuffled_epoch": checkpoint.position.shuffled_epoch,
        },
        "optimizer_state_keys": sorted(checkpoint.optimizer_state),
    }
    arrays = {"metadata": np.array(json.dumps(metadata)), "parameters": checkpoint.model.flat}
    for name, values in history.items():
        arrays[f"history_{name}"] = np.asarray(values, dtype=np.float64)
    for name, value in checkpoint.optimizer_state.items():
        arrays[f"optimizer_{name}"] = np.asarray(value)
    if checkpoint.position.order is not None:
        arrays["position_order"] = np.asarray(checkpoint.position.order, dtype=np.int64)

    write_atomically(path, lambda temp_file: np.savez(temp_file, **arrays))
    return path


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a model file, or raise ModelFileError saying what is wrong with it."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such file") from None
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError) as error:
        raise ModelFileError(f"{path}: not a readable model file ({_reason(error)})") from None
    return _checkpoint_from_arrays(path, arrays)


def _reason(error: Exception) -> str:
    text = str(error)
    if "pickle" in text.lower():
        return "it holds pickled Python objects, which are never loaded"
    return text or type(error).__name__


def _checkpoint_from_arrays(path: Path, arrays: dict[str, np.ndarray]) -> Checkpoint:
    def fail(problem: str) -> ModelFileError:
        return ModelFileError(f"{path}: {problem}")

    if "metadata" not in arrays or "parameters" not in arrays:
        raise fail("not a model file of this application (no metadata or parameters)")
    try:
        metadata = json.loads(str(arrays["metadata"]))
    except (json.JSONDecodeError, TypeError):
        raise fail("its metadata is not valid JSON") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise fail("not a model file of this application")
    version = metadata.get("version")
    if version != FORMAT_VERSION:
        raise fail(f"file format version {version} is not supported (this version reads {FORMAT_VERSION})")
    try:
        config = TrainConfig.from_dict(metadata["config"])
        layer_sizes = tuple(int(size) for size in metadata["layer_sizes"])
    except (KeyError, TypeError, ValueError, ConfigError) as error:
        raise fail(f"its settings are invalid ({error})") from None
    if layer_sizes != config.layer_sizes:
        raise fail(f"its layer sizes {layer_sizes} do not match its settings {config.layer_sizes}")
    parameters = arrays["parameters"]
    expected = parameter_count(layer_sizes)
    if parameters.dtype != FLOAT or parameters.shape != (expected,):
        raise fail(f"expected {expected} float32 parameters for layers {layer_sizes}, "
                   f"found {parameters.size} of type {parameters.dtype}")
    if not np.all(np.isfinite(parameters)):
        raise fail("its weights contain NaN or infinite values")
    model = MLP(layer_sizes, aligned_copy(parameters))

    history = History(test_acc=metadata.get("test_acc"))
    for name in ("batch_losses", "epoch_losses", "val_accs", "epoch_seconds", "lrs"):
        values = arrays.get(f"history_{name}")
        if values is not None:
            if values.ndim != 1 or not np.issubdtype(values.dtype, np.number):
                raise fail(f"its {name} history is malformed")
            setattr(history, name, values.astype(float).tolist())

    optimizer_state = {key: arrays[f"optimizer_{key}"] for key in metadata.get("optimizer_state_keys", [])
                       if f"optimizer_{key}" in arrays}
    for key, value in optimizer_state.items():
        if value.ndim == 1 and value.shape != (expected,):
            raise fail(f"its optimizer state {key!r} does not match the model's size")

    stored = metadata.get("position", {})
    try:
        position = Position(int(stored.get("epochs_done", 0)), int(stored.get("next_batch", 0)),
                            float(stored.get("lr", config.lr)), int(stored.get("shuffle_state", config.seed)),
                            arrays.get("position_order"), int(stored.get("shuffled_epoch", 0)))
    except (TypeError, ValueError):
        raise fail("its training position is malformed") from None
    class_names = tuple(str(name) for name in metadata.get("class_names", range(10)))
    return Checkpoint(model, config, str(metadata.get("dataset_name", "MNIST")), class_names,
                      history, optimizer_state, position)
