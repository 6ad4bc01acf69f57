"""File -> Import model and File -> Export to ONNX, and the History view's curves as JSON Lines."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from assets import pretrained_model_path
from core.engine.network import MLP
from core.files.model_file import load_checkpoint
from core.files.model_import import import_model
from core.files.onnx_export import onnx_available
from core.files.state_dict import export_state_dict
from core.runs.run_history import local_time
from tests.gui.window_driver import LEFT, take_error


def answer_dialogs(monkeypatch, name: str, *paths) -> None:
    answers = iter([(str(path), "") for path in paths])
    monkeypatch.setattr(QFileDialog, name, lambda *args, **kwargs: next(answers))


def file_menu_texts(window) -> list[str]:
    (file_menu,) = [action.menu() for action in window.menuBar().actions() if action.text() == "&File"]
    return [action.text() for action in file_menu.actions() if not action.isSeparator()]


@pytest.mark.skipif(not onnx_available(), reason="onnx is not installed (pip install '.[onnx]')")
def test_export_writes_the_current_model_as_onnx(qtbot, window, tmp_path, monkeypatch):
    export = window.interchange.export_action
    assert export.isEnabled() and "onnxruntime" in export.toolTip()
    assert file_menu_texts(window)[2:4] == ["&Import model (ONNX, state dict)…", "&Export to ONNX…"]
    answer_dialogs(monkeypatch, "getSaveFileName", tmp_path / "digits")
    export.trigger()
    written = tmp_path / "digits.onnx"
    np.testing.assert_array_equal(import_model(written).checkpoint.model.flat, window.current.model.flat)
    assert str(written) in window.statusBar().currentMessage()


def test_without_onnx_export_is_greyed_out_and_says_what_it_needs(qtbot, make_window, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` fails, as when the extra is not installed
    window = make_window()
    export = window.interchange.export_action
    assert not export.isEnabled() and 'pip install ".[onnx]"' in export.toolTip()
    assert window.menuBar().actions()[0].menu().toolTipsVisible()  # a greyed-out item shows its tip
    window.save_action.setEnabled(False)
    window.save_action.setEnabled(True)  # Save coming back does not bring Export back without onnx
    assert not export.isEnabled()


def test_export_is_allowed_when_save_is(qtbot, window):
    window.save_action.setEnabled(False)
    assert not window.interchange.export_action.isEnabled()
    window.save_action.setEnabled(True)
    assert window.interchange.export_action.isEnabled() == onnx_available()


def test_import_makes_a_state_dict_the_current_model(qtbot, window, tmp_path, monkeypatch):
    model = MLP.initialized((784, 40, 20, 10), seed=11)
    path = export_state_dict(model, tmp_path / "torch_weights.npz")
    answer_dialogs(monkeypatch, "getOpenFileName", path)
    window.interchange.import_action.trigger()
    np.testing.assert_array_equal(window.current.model.flat, model.flat)
    np.testing.assert_array_equal(window.drawing.model.flat, model.flat)
    assert "torch_weights.npz, imported" in window.windowTitle()
    assert "784-40-20-10" in window.statusBar().currentMessage()
    saved = tmp_path / "kept.npz"
    assert window.files.save_model(saved)
    assert load_checkpoint(saved).config.hidden == (40, 20)


def test_a_refused_import_says_why_and_keeps_the_current_model(qtbot, window, tmp_path, monkeypatch):
    before = window.current.model.flat.copy()
    bad = tmp_path / "notes.onnx"
    bad.write_text("not a model")
    answer_dialogs(monkeypatch, "getOpenFileName", bad)
    window.interchange.import_action.trigger()
    title, text = take_error(qtbot, window)
    assert title == "Cannot import the model" and "notes.onnx" in text and "current model is kept" in text
    np.testing.assert_array_equal(window.current.model.flat, before)


def test_the_history_view_exports_a_runs_curves_as_json_lines(qtbot, window, tmp_path, monkeypatch):
    checkpoint = load_checkpoint(pretrained_model_path())
    window.store.save("20261204-030000-000-adam", local_time(), "finished", checkpoint)
    window.history.refresh()
    window.history.table.selectRow(0)
    answer_dialogs(monkeypatch, "getSaveFileName", tmp_path / "curves.jsonl")
    qtbot.mouseClick(window.history.buttons["curves"], LEFT)
    lines = [json.loads(line) for line in (tmp_path / "curves.jsonl").read_text().splitlines()]
    epochs = [line for line in lines if line["event"] == "epoch"]
    assert [line["loss"] for line in epochs] == checkpoint.history.epoch_losses
    assert set(epochs[0]) == {"event", "epoch", "loss", "val_acc", "seconds", "lr"}
    assert lines[-1] == {"event": "test", "test_acc": checkpoint.test_acc, "status": "finished",
                         "epochs": len(checkpoint.history.epoch_losses)}
