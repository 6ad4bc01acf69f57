"""Saving and loading a model as one .npz: weights, settings, curves and optimizer state.

The file holds only plain arrays plus one JSON string for the metadata, so nothing in it can run
code. It is written to a temp file and renamed into place, so a crash mid-write never replaces
the last good model. Reading trusts nothing: the metadata is read first (bounded, core/
model_metadata.py), then the zip directory is checked against the sizes the architecture implies
before any array is inflated (core/files/npz_reader.py), then every array is checked for dtype, shape
and range; the training order must be a permutation of the training rows.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np

from core.atomic_file import write_atomically
from core.compiled.aligned import aligned_copy
from core.data.dataset import MAX_IMAGES
from core.engine.config import MAX_EPOCHS
from core.engine.network import FLOAT, MLP
from core.engine.optim import make_optimizer
from core.engine.run_state import Checkpoint, History
from core.errors import ModelFileError
from core.files.model_metadata import FORMAT_NAME, FORMAT_VERSION, MAX_METADATA_CHARS, ModelMetadata, parse_metadata
from core.files.npz_reader import NpzArchive

HISTORY_NAMES = ("batch_losses", "epoch_losses", "val_accs", "epoch_seconds", "lrs")
EPOCH_HISTORY_NAMES = HISTORY_NAMES[1:]  # one value per epoch each: the charts pair them up
MAX_HISTORY_POINTS = 2**24  # batch losses: 280 epochs of MNIST in batches of 1


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
    """Read a model file, or raise ModelFileError naming the file and the field that is wrong."""
    path = Path(path)
    with NpzArchive(path) as archive:
        if "metadata" not in archive.members or "parameters" not in archive.members:
            raise ModelFileError(f"{path}: not a model file of this application (no metadata or parameters)")
        archive.check_member("metadata", 4 * MAX_METADATA_CHARS)
        return _read_checkpoint(archive, parse_metadata(path, str(archive.read("metadata", "U", 0)[()])))


def _member_sizes(metadata: ModelMetadata) -> dict[str, int]:
    """The most data bytes each member may hold, from the architecture and the settings."""
    config, parameters = metadata.config, metadata.parameter_count
    batches = min(MAX_HISTORY_POINTS, (MAX_EPOCHS + 1) * (MAX_IMAGES // config.batch_size))
    sizes = {"metadata": 4 * MAX_METADATA_CHARS, "parameters": 4 * parameters, "position_order": 8 * MAX_IMAGES,
             "history_batch_losses": 8 * batches}
    sizes.update({f"history_{name}": 8 * (MAX_EPOCHS + 1) for name in EPOCH_HISTORY_NAMES})
    state = make_optimizer(config, 0, fused=False).state()
    sizes.update({f"optimizer_{key}": 8 if state[key].ndim == 0 else 4 * parameters
                  for key in metadata.optimizer_state_keys})
    return sizes


def _read_checkpoint(archive: NpzArchive, metadata: ModelMetadata) -> Checkpoint:
    archive.check_members(_member_sizes(metadata))
    config, expected = metadata.config, metadata.parameter_count
    for key in metadata.optimizer_state_keys:
        if f"optimizer_{key}" not in archive.members:
            raise archive.fail(f"optimizer_{key}", "listed in optimizer_state_keys but missing")

    parameters = archive.read("parameters", "f", 1)
    if parameters.dtype != FLOAT or parameters.shape != (expected,):
        raise archive.fail("parameters", f"expected {expected} float32 parameters for layers {config.layer_sizes}, "
                                         f"found {parameters.size} of type {parameters.dtype}")
    if not np.all(np.isfinite(parameters)):
        raise archive.fail("parameters", "its weights contain NaN or infinite values")
    model = MLP(config.layer_sizes, aligned_copy(parameters))

    history = History(test_acc=metadata.test_acc)
    for name in HISTORY_NAMES:
        if f"history_{name}" in archive.members:
            values = archive.read(f"history_{name}", "fiu", 1)
            if np.isinf(values).any():
                raise archive.fail(f"history_{name}", "holds infinite values")
            setattr(history, name, values.astype(float).tolist())
    lengths = {len(getattr(history, name)) for name in EPOCH_HISTORY_NAMES}
    if len(lengths) > 1:
        raise archive.fail("history", "its per-epoch curves differ in length")

    optimizer_state = {}
    template = make_optimizer(config, 0, fused=False).state()  # its keys, dtypes and dimensions, no buffers
    for key in metadata.optimizer_state_keys:
        want = template[key]
        value = archive.read(f"optimizer_{key}", "f" if want.ndim else "iu", want.ndim)
        if want.ndim and (value.dtype != want.dtype or value.shape != (expected,) or not np.isfinite(value).all()):
            raise archive.fail(f"optimizer_{key}", f"expected {expected} finite {want.dtype} values, "
                                                   f"found {value.size} of type {value.dtype}")
        if not want.ndim and not 0 <= int(value) < 2**62:
            raise archive.fail(f"optimizer_{key}", f"step count {int(value)} out of range")
        optimizer_state[key] = value if want.ndim else np.array(int(value), dtype=want.dtype)

    position = metadata.position
    if "position_order" in archive.members:
        order = archive.read("position_order", "iu", 1)
        if not config.batch_size <= len(order) <= MAX_IMAGES:
            raise archive.fail("position_order", f"{len(order)} rows, not between the batch size "
                                                 f"{config.batch_size} and {MAX_IMAGES:,}")
        position.order = order.astype(np.int64)
    try:
        position.check_fits(MAX_IMAGES if position.order is None else len(position.order), config.batch_size)
    except ValueError as error:
        raise archive.fail("position", str(error)) from None
    return Checkpoint(model, config, metadata.dataset_name, metadata.class_names, history, optimizer_state,
                      position)
