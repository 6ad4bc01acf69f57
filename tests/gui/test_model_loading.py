"""Loading and saving models in the window: bad files are refused with a message, the old model stays."""

import json

import numpy as np
import pytest

from assets import pretrained_model_path
from core.files.model_file import load_checkpoint
from tests.damaged_models import CASES, make_case, write_base_model
from tests.gui.window_driver import set_up_run, start, take_error, wait_until_idle


def random_bytes(path):
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())


def truncated_pretrained(path):
    content = pretrained_model_path().read_bytes()
    path.write_bytes(content[: len(content) // 2])


def wrong_shapes(path):
    """A well-formed file of this application whose parameters do not fit its layers."""
    with np.load(pretrained_model_path(), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["parameters"] = arrays["parameters"][:-10]
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def nan_weights(path):
    with np.load(pretrained_model_path(), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["parameters"] = arrays["parameters"].copy()
    arrays["parameters"][123] = np.nan
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def foreign_npz(path):
    with open(path, "wb") as file:
        np.savez(file, weights=np.zeros((784, 10), np.float32))


def newer_version(path):
    with np.load(pretrained_model_path(), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    metadata = json.loads(str(arrays["metadata"]))
    metadata["version"] = 99
    arrays["metadata"] = np.array(json.dumps(metadata))
    with open(path, "wb") as file:
        np.savez(file, **arrays)


@pytest.mark.parametrize(("make_file", "problem"), [
    (random_bytes, "not a model file"),
    (truncated_pretrained, "not a readable model file"),
    (wrong_shapes, "float32 parameters for layers"),
    (nan_weights, "NaN"),
    (foreign_npz, "not a model file of this application"),
    (newer_version, "version 99 is not supported"),
    (lambda path: None, "no such file"),
])
def test_a_bad_model_file_is_refused_and_the_current_model_kept(qtbot, make_window, tmp_path, make_file, problem):
    window = make_window()
    current, pad_model = window.current, window.drawing.model
    label, title, runs = window.drawing.model_label.text(), window.windowTitle(), window.runs_list.run_ids()
    path = tmp_path / "model.npz"
    make_file(path)

    assert window.files.load_model(path) is False
    box_title, text = take_error(qtbot, window)
    assert box_title == "Cannot load the model"
    assert str(path) in text and problem in text and "The current model is kept" in text
    assert window.current is current and window.drawing.model is pad_model
    assert window.drawing.model_label.text() == label and window.windowTitle() == title
    assert window.runs_list.run_ids() == runs, "nothing is added to the charts"


def test_a_bad_file_is_refused_when_there_is_no_model_yet(qtbot, make_window, tmp_path):
    window = make_window(with_pretrained=False)
    path = tmp_path / "garbage.npz"
    random_bytes(path)
    assert window.files.load_model(path) is False
    take_error(qtbot, window)
    assert window.current is None and window.drawing.model is None
    assert window.drawing.model_label.text() == "no model"


def test_a_model_saved_from_the_window_loads_back_the_same(qtbot, window, tmp_path):
    set_up_run(qtbot, window, optimizer="momentum", epochs=2)
    start(qtbot, window)
    wait_until_idle(qtbot, window)
    trained = window.current
    path = tmp_path / "models" / "mine.npz"
    assert window.files.save_model(path) is True
    assert path.is_file() and f"Saved the model to {path}" in window.statusBar().currentMessage()
    assert sorted(p.name for p in path.parent.iterdir()) == ["mine.npz"], "no temp file left behind"

    assert window.files.load_model(pretrained_model_path(), source="bundled pretrained model")
    assert window.current is not trained
    assert window.files.load_model(path) is True
    loaded = window.current
    np.testing.assert_array_equal(loaded.model.flat, trained.model.flat)
    assert loaded.config == trained.config
    assert loaded.history.epoch_losses == trained.history.epoch_losses
    assert loaded.history.batch_losses == trained.history.batch_losses
    assert loaded.test_acc == trained.test_acc
    assert loaded.class_names == trained.class_names
    assert set(loaded.optimizer_state) == set(trained.optimizer_state)
    # the pad and the title follow the loaded file, and its curves are on the charts
    np.testing.assert_array_equal(window.drawing.model.flat, trained.model.flat)
    assert "mine.npz" in window.drawing.model_label.text() and "mine.npz" in window.windowTitle()
    newest = window.curves.runs[window.runs_list.run_ids()[0]]
    assert newest.label.startswith("mine.npz: Momentum") and len(newest.epoch_losses) == 2
    assert newest.test_acc == trained.test_acc


def test_the_bundled_model_saves_and_loads_back_unchanged(make_window, tmp_path):
    window = make_window()
    path = tmp_path / "copy.npz"
    assert window.files.save_model(path)
    original = load_checkpoint(pretrained_model_path())
    assert window.files.load_model(path)
    np.testing.assert_array_equal(window.current.model.flat, original.model.flat)
    assert window.current.config == original.config
    assert window.current.history.val_accs == original.history.val_accs


def test_saving_where_no_file_can_be_written_shows_an_error(qtbot, make_window, tmp_path):
    window = make_window()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    path = blocker / "model.npz"
    assert window.files.save_model(path) is False
    title, text = take_error(qtbot, window)
    assert title == "Cannot save the model" and str(path) in text
    assert window.current is not None


def test_every_damaged_file_of_the_corpus_shows_a_dialog_and_keeps_the_current_model(qtbot, make_window, tmp_path):
    """tests/damaged_models.py: the window's Load refuses each one with a dialog naming the file."""
    window = make_window()
    current, pad_model = window.current, window.drawing.model
    label, title, runs = window.drawing.model_label.text(), window.windowTitle(), window.runs_list.run_ids()
    base = write_base_model(tmp_path / "base.npz")
    for case in sorted(CASES):
        path = make_case(case, base, tmp_path)
        assert window.files.load_model(path) is False, case
        box_title, text = take_error(qtbot, window)
        assert box_title == "Cannot load the model" and str(path) in text and "The current model is kept" in text
        assert all(word in text for word in CASES[case][1]), (case, text)
        assert window.current is current and window.drawing.model is pad_model, case
        assert window.drawing.model_label.text() == label and window.windowTitle() == title, case
        assert window.runs_list.run_ids() == runs, case
    assert window.files.load_model(base) is True  # and the valid file it was made from is taken
    assert window.current is not current and "base.npz" in window.drawing.model_label.text()
