"""A corpus of damaged model files, each built from a valid small one, for every reader of models.

`CASES` maps a case name to (maker, words): `maker(base, path)` writes the damaged file at `path`
from the valid model `base`; the error message must name the file and hold every word. The same
corpus goes through load_checkpoint, `evaluate`, `predict`, `train --resume` and the window's Load.
"""

from __future__ import annotations

import io
import json
import struct
import warnings
import zipfile
from pathlib import Path

import numpy as np

from core.engine.config import TrainConfig
from core.engine.network import MLP
from core.engine.optim import make_optimizer
from core.engine.run_state import Checkpoint, History, Position
from core.files.model_file import save_checkpoint

TRAIN_ROWS = 640  # tests/fake_data.write_dataset's training set, which `train --resume` uses


def write_base_model(path: Path) -> Path:
    """A valid Adam checkpoint of a 784-16-8-10 network, one epoch and five batches into a run on
    640 training rows in batches of 32: resumable on the tests' tiny dataset."""
    config = TrainConfig(hidden=(16, 8), batch_size=32, epochs=3)
    model = MLP.initialized(config.layer_sizes, config.seed)
    optimizer = make_optimizer(config, model.flat.size, fused=False)
    state = {key: np.array(value, copy=True) for key, value in optimizer.state().items()}
    state["m"][:] = 0.001
    history = History([2.3] * 25, [2.0], [0.5], [0.1], [config.lr], None)
    order = np.random.default_rng(1).permutation(TRAIN_ROWS).astype(np.int64)
    position = Position(1, 5, config.lr * config.lr_decay, 4242, order, 2)
    return save_checkpoint(path, Checkpoint(model, config, "MNIST", tuple("0123456789"), history, state, position))


def arrays_of(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def with_metadata(change):
    """A maker that applies `change(metadata dict)` (which may return a replacement) to the JSON."""
    def make(base: Path, path: Path) -> None:
        arrays = arrays_of(base)
        metadata = json.loads(str(arrays["metadata"]))
        replaced = change(metadata)
        text = replaced if isinstance(replaced, str) else json.dumps(metadata if replaced is None else replaced)
        arrays["metadata"] = np.array(text)
        write_arrays(path, arrays)
    return make


def setting(*keys_and_value):
    """with_metadata setting metadata[k1][k2]... = value."""
    *keys, value = keys_and_value

    def change(metadata):
        target = metadata
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return with_metadata(change)


def with_array(name, value):
    """A maker that replaces (or adds) the array `name`; value None removes it."""
    def make(base: Path, path: Path) -> None:
        arrays = arrays_of(base)
        if value is None:
            arrays.pop(name)
        else:
            arrays[name] = value(arrays) if callable(value) else value
        write_arrays(path, arrays)
    return make


def rewritten_zip(member_bytes):
    """A maker rewriting the zip: member_bytes(name, content) -> new content, or None to drop it."""
    def make(base: Path, path: Path) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(base) as source, zipfile.ZipFile(buffer, "w") as target:
            for info in source.infolist():
                content = member_bytes(info.filename, source.read(info))
                if content is not None:
                    target.writestr(info.filename, content)
        path.write_bytes(buffer.getvalue())
    return make


def patched_directory(member: str, offset: int, value: int, width: int = 2):
    """A maker setting a field of `member`'s central directory entry and local header (same field
    at `offset` in the central entry, offset - 2 in the local header), e.g. the compression method."""
    def make(base: Path, path: Path) -> None:
        content = bytearray(base.read_bytes())
        with zipfile.ZipFile(base) as archive:
            local = archive.getinfo(member).header_offset
        entry = content.find(b"PK\x01\x02", content.rfind(b"PK\x05\x06") - 4096)
        while content[entry + 46:entry + 46 + len(member)] != member.encode():
            entry = content.find(b"PK\x01\x02", entry + 4)
        field = struct.Struct("<H" if width == 2 else "<L")
        field.pack_into(content, entry + offset, value)
        field.pack_into(content, local + offset - 2, value)
        path.write_bytes(bytes(content))
    return make


def npy_header(descr: str, shape_text: str) -> bytes:
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}"
    text += " " * (63 - (len(text) + 10) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode("latin-1")


def parameters_with_header(header: bytes):
    return rewritten_zip(lambda name, content: header + content[128:] if name == "parameters.npy" else content)


def deeply_nested(metadata):
    metadata["extra"] = "@"
    return json.dumps(metadata).replace('"@"', "[" * 100_000 + "]" * 100_000)


def tiny_png(base: Path, path: Path) -> None:
    path.write_bytes(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                                   "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"))


def permutation_with(change):
    def value(arrays):
        order = arrays["position_order"].copy()
        return change(order)
    return value


def swap_first(order):
    order[0] = order[1]
    return order


CASES = {
    # the training position: the compiled step must never see an unchecked index
    "next-batch-negative": (setting("position", "next_batch", -50), ["position.next_batch", "-50"]),
    "next-batch-past-the-epoch": (setting("position", "next_batch", 21), ["position", "21"]),
    "next-batch-string": (setting("position", "next_batch", "5"), ["position.next_batch"]),
    "epochs-done-past-any-run": (setting("position", "epochs_done", 10001), ["position.epochs_done"]),
    "shuffle-state-out-of-range": (setting("position", "shuffle_state", 2**31), ["position.shuffle_state"]),
    "position-lr-nan": (setting("position", "lr", float("nan")), ["position.lr"]),
    "position-not-an-object": (setting("position", [1, 2]), ["position"]),
    "order-out-of-range": (with_array("position_order", permutation_with(lambda o: o + 10**6)), ["permutation"]),
    "order-negative": (with_array("position_order", permutation_with(lambda o: o - 320)), ["permutation"]),
    "order-repeats-a-row": (with_array("position_order", permutation_with(swap_first)), ["permutation"]),
    "order-float": (with_array("position_order", permutation_with(lambda o: o.astype(np.float64))),
                    ["position_order", "float64"]),
    "order-string": (with_array("position_order", permutation_with(lambda o: o.astype(str))), ["position_order"]),
    "order-2d": (with_array("position_order", permutation_with(lambda o: o.reshape(2, -1))), ["position_order"]),
    "order-shorter-than-a-batch": (with_array("position_order", np.arange(5)), ["position_order", "5 rows"]),
    # the zip container
    "compression-method-99": (patched_directory("parameters.npy", 10, 99), ["parameters", "method 99"]),
    "encrypted-member": (patched_directory("metadata.npy", 8, 0x1), ["metadata", "encrypted"]),
    "patched-data-flag": (patched_directory("parameters.npy", 8, 0x20), ["parameters", "flag"]),
    "unknown-member": (with_array("junk", np.zeros(3)), ["junk", "cannot have"]),
    "oversized-member": (with_array("parameters", np.zeros(3_000_000, np.float32)),
                         ["parameters", "more than its layout allows"]),
    "truncated": (lambda base, path: path.write_bytes(base.read_bytes()[:len(base.read_bytes()) // 2]),
                  ["not a readable model file"]),
    "random-bytes": (lambda base, path: path.write_bytes(np.random.default_rng(0).bytes(5000)), ["not a model file"]),
    "empty-file": (lambda base, path: path.write_bytes(b""), ["not a model file", "empty"]),
    "a-png": (tiny_png, ["not a model file", "PNG"]),
    "a-pickle": (lambda base, path: path.write_bytes(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01."),
                 ["not a model file", "pickle"]),
    "pickled-array": (with_array("metadata", np.array([{"a": 1}], dtype=object)), ["pickled"]),
    # .npy headers
    "mangled-npy-header": (parameters_with_header(npy_header("<f4", "((((")), ["parameters", "malformed"]),
    "npy-header-unterminated": (parameters_with_header(b"\x93NUMPY\x01\x00\x76\x00{'descr': '<f4" + b" " * 100 + b"\n"),
                                ["parameters", "malformed"]),
    "npy-header-claims-4-tib": (parameters_with_header(npy_header("<f4", "(1099511627776,)")),
                                ["parameters", "header declares shape"]),
    "npy-header-length-huge": (parameters_with_header(b"\x93NUMPY\x02\x00\xff\xff\xff\x7f"), ["parameters", "header"]),
    "npy-version-9": (parameters_with_header(b"\x93NUMPY\x09\x00" + npy_header("<f4", "(5,)")[8:]),
                      ["parameters", "version 9"]),
    "not-npy": (rewritten_zip(lambda name, content: b"hello" if name == "parameters.npy" else content),
                ["parameters", "not a .npy"]),
    # the metadata
    "metadata-not-json": (with_metadata(lambda metadata: "{not json"), ["metadata", "not valid JSON"]),
    "metadata-nested-100000-deep": (with_metadata(deeply_nested), ["metadata", "nested"]),
    "metadata-too-large": (setting("padding", "x" * 300_000), ["metadata"]),
    "metadata-a-number": (with_array("metadata", np.array(3.5)), ["metadata", "text"]),
    "metadata-a-list": (with_metadata(lambda metadata: [1, 2]), ["not a model file"]),
    "version-true": (setting("version", True), ["version"]),
    "version-99": (setting("version", 99), ["version 99 is not supported"]),
    "config-missing": (with_metadata(lambda metadata: {k: v for k, v in metadata.items() if k != "config"}),
                       ["config", "missing"]),
    "config-lr-string": (setting("config", "lr", "0.001"), ["config", "lr"]),
    "config-batch-size-bool": (setting("config", "batch_size", True), ["config", "batch_size"]),
    "config-batch-size-fraction": (setting("config", "batch_size", 32.5), ["config", "batch_size"]),
    "config-lr-huge-integer": (setting("config", "lr", 10**400), ["config", "lr"]),
    "config-hidden-strings": (setting("config", "hidden", ["16", "8"]), ["config", "hidden"]),
    "config-optimizer-unknown": (setting("config", "optimizer", "rmsprop"), ["config", "optimizer"]),
    "layer-sizes-strings": (setting("layer_sizes", ["784", "16", "8", "10"]), ["layer_sizes"]),
    "layer-sizes-mismatch": (setting("layer_sizes", [784, 32, 8, 10]), ["layer_sizes", "do not match"]),
    "class-names-three": (setting("class_names", ["a", "b", "c"]), ["class_names", "3 names for 10"]),
    "class-names-numbers": (setting("class_names", list(range(10))), ["class_names"]),
    "class-names-newline": (setting("class_names", [f"a\nb{k}" for k in range(10)]), ["class_names"]),
    "test-acc-string": (setting("test_acc", "0.98"), ["test_acc"]),
    "test-acc-above-one": (setting("test_acc", 98.3), ["test_acc"]),
    "test-acc-nan": (setting("test_acc", float("nan")), ["test_acc"]),
    "dataset-name-a-list": (setting("dataset_name", ["MNIST"]), ["dataset_name"]),
    "optimizer-keys-foreign": (setting("optimizer_state_keys", ["velocity"]), ["optimizer_state_keys"]),
    "optimizer-keys-not-a-list": (setting("optimizer_state_keys", "m"), ["optimizer_state_keys"]),
    # arrays
    "parameters-short": (with_array("parameters", lambda arrays: arrays["parameters"][:-5]), ["parameters", "float32"]),
    "parameters-float64": (with_array("parameters", lambda arrays: arrays["parameters"].astype(np.float64)),
                           ["parameters"]),
    "parameters-nan": (with_array("parameters", lambda arrays: np.where(np.arange(arrays["parameters"].size) == 7,
                                                                        np.float32(np.nan), arrays["parameters"])),
                       ["parameters", "NaN"]),
    "parameters-missing": (with_array("parameters", None), ["no metadata or parameters"]),
    "optimizer-m-wrong-shape": (with_array("optimizer_m", lambda arrays: arrays["optimizer_m"][:100]), ["optimizer_m"]),
    "optimizer-v-float64": (with_array("optimizer_v", lambda arrays: arrays["optimizer_v"].astype(np.float64)),
                            ["optimizer_v"]),
    "optimizer-t-negative": (with_array("optimizer_t", np.array(-3)), ["optimizer_t"]),
    "optimizer-t-a-vector": (with_array("optimizer_t", np.arange(3)), ["optimizer_t"]),
    "optimizer-m-missing": (with_array("optimizer_m", None), ["optimizer_m", "missing"]),
    "history-2d": (with_array("history_batch_losses", np.zeros((5, 5))), ["history_batch_losses"]),
    "history-strings": (with_array("history_val_accs", np.array(["0.5"])), ["history_val_accs"]),
    "history-infinite": (with_array("history_epoch_losses", np.array([np.inf])), ["history_epoch_losses", "infinite"]),
    "history-lengths-differ": (with_array("history_lrs", np.zeros(2)), ["history", "differ"]),
}


def duplicate_member(base: Path, path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(buffer, "w") as target, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name it is asked to write
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
        target.writestr("parameters.npy", source.read("parameters.npy"))
    path.write_bytes(buffer.getvalue())


CASES["duplicate-member"] = (duplicate_member, ["parameters", "twice"])


def make_case(name: str, base: Path, folder: Path) -> Path:
    """Write the damaged file of case `name` into `folder` and return its path."""
    path = folder / f"{name}.npz"
    CASES[name][0](base, path)
    return path
