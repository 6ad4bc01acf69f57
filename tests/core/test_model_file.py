import json
import pickle
import tracemalloc
import zipfile

import numpy as np
import pytest

from core.engine.config import TrainConfig
from core.engine.network import MLP
from core.engine.run_state import Checkpoint, History, Position
from core.errors import ModelFileError
from core.files.model_file import load_checkpoint, save_checkpoint
from tests.damaged_models import CASES, TRAIN_ROWS, make_case, write_base_model


def a_checkpoint(hidden=(16, 8)):
    config = TrainConfig(hidden=hidden, epochs=2)
    model = MLP.initialized(config.layer_sizes)
    history = History([1.0, 0.5], [0.75], [0.9], [0.1], [0.0005], 0.91)
    state = {"m": np.ones(model.flat.size, np.float32), "v": np.zeros(model.flat.size, np.float32),
             "t": np.array(7)}
    return Checkpoint(model, config, "MNIST", tuple("0123456789"), history, state,
                      Position(1, 3, 0.00048, 12345, np.random.default_rng(0).permutation(640), 2))


def test_round_trip_keeps_everything(tmp_path):
    original = a_checkpoint()
    loaded = load_checkpoint(save_checkpoint(tmp_path / "model.npz", original))
    np.testing.assert_array_equal(loaded.model.flat, original.model.flat)
    assert loaded.model.flat.ctypes.data % 64 == 0  # a cache line (core/compiled/aligned.py)
    assert loaded.config == original.config
    assert loaded.history == original.history
    assert loaded.position.epochs_done == 1 and loaded.position.next_batch == 3
    np.testing.assert_array_equal(loaded.position.order, original.position.order)
    assert int(loaded.optimizer_state["t"]) == 7
    np.testing.assert_array_equal(loaded.optimizer_state["m"], original.optimizer_state["m"])
    assert not list(tmp_path.glob("*.tmp"))


def test_a_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "model.npz", a_checkpoint())
    before = path.read_bytes()

    def broken_savez(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError):
        save_checkpoint(path, a_checkpoint(hidden=(4,)))
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.tmp"))


def test_pickled_content_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, metadata=np.array([{"a": 1}], dtype=object), parameters=np.zeros(3, np.float32))
    with pytest.raises(ModelFileError, match="pickle"):
        load_checkpoint(path)
    plain_pickle = tmp_path / "model.pkl"
    plain_pickle.write_bytes(pickle.dumps({"weights": [1, 2]}))
    with pytest.raises(ModelFileError):
        load_checkpoint(plain_pickle)


def test_wrong_shapes_are_refused(tmp_path):
    path = save_checkpoint(tmp_path / "model.npz", a_checkpoint())
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["parameters"] = arrays["parameters"][:-5]
    np.savez(tmp_path / "short.npz", **arrays)
    with pytest.raises(ModelFileError, match="parameters"):
        load_checkpoint(tmp_path / "short.npz")


def test_other_versions_and_foreign_files_are_refused(tmp_path):
    path = save_checkpoint(tmp_path / "model.npz", a_checkpoint())
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    metadata = json.loads(str(arrays["metadata"]))
    metadata["version"] = 99
    arrays["metadata"] = np.array(json.dumps(metadata))
    np.savez(tmp_path / "future.npz", **arrays)
    with pytest.raises(ModelFileError, match="version 99"):
        load_checkpoint(tmp_path / "future.npz")
    np.savez(tmp_path / "foreign.npz", weights=np.zeros(3))
    with pytest.raises(ModelFileError, match="not a model file"):
        load_checkpoint(tmp_path / "foreign.npz")
    (tmp_path / "garbage.npz").write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(ModelFileError):
        load_checkpoint(tmp_path / "garbage.npz")
    with pytest.raises(ModelFileError, match="no such file"):
        load_checkpoint(tmp_path / "missing.npz")


def test_non_finite_weights_are_refused(tmp_path):
    checkpoint = a_checkpoint()
    checkpoint.model.flat[0] = np.nan
    path = save_checkpoint(tmp_path / "nan.npz", checkpoint)
    with pytest.raises(ModelFileError, match="NaN"):
        load_checkpoint(path)


# The corpus of damaged files (tests/damaged_models.py): each is a ModelFileError on one line that
# names the file and the field, never another exception.

@pytest.fixture(scope="module")
def base_model(tmp_path_factory):
    return write_base_model(tmp_path_factory.mktemp("base") / "base.npz")


def test_the_corpus_base_model_is_valid(base_model):
    checkpoint = load_checkpoint(base_model)
    assert checkpoint.position.next_batch == 5 and len(checkpoint.position.order) == TRAIN_ROWS
    assert checkpoint.position.order.dtype == np.int64 and checkpoint.position.order.flags.writeable


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_damaged_model_file_is_a_model_file_error_naming_the_file_and_the_field(base_model, tmp_path, case):
    path = make_case(case, base_model, tmp_path)
    with pytest.raises(ModelFileError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message, message
    for word in CASES[case][1]:
        assert word in message, message


def test_a_folder_is_named_as_one(tmp_path):
    with pytest.raises(ModelFileError, match="is a folder"):
        load_checkpoint(tmp_path)


@pytest.mark.parametrize("member", ["parameters", "history_lrs", "junk"])
def test_a_zip_bomb_member_is_refused_before_it_is_inflated(base_model, tmp_path, member):
    """256 MB of deflated zeros (250 KB in the file) in place of a member, or beside the others."""
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(base_model) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != f"{member}.npy":
                target.writestr(info.filename, source.read(info), compress_type=zipfile.ZIP_STORED)
        with target.open(f"{member}.npy", "w", force_zip64=True) as bomb:
            zeros = bytes(1 << 22)
            for _ in range(64):
                bomb.write(zeros)
    assert path.stat().st_size < 2 << 20
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=member):
            load_checkpoint(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"{peak:,} bytes held while reading"
