"""The History tab with whatever the runs folder holds: the window starts, misfits are named in a
line each, nothing outside the folder is touched, models are pruned past the budget and pinned
runs are kept."""

import json
import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from core.runs.run_history import RunRecord, RunStore
from gui.history_view import BUDGET_SETTING, GB
from tests.gui.window_driver import open_errors

LEFT = Qt.MouseButton.LeftButton
STARTED = "2026-01-01T00:00:00"


def run_id(day: int) -> str:
    return f"202601{day:02d}-000000-000-adam"


def summary_of(checkpoint, **changes) -> str:
    values = json.loads(RunRecord.summarize(run_id(9), STARTED, "finished", checkpoint).to_json())
    return json.dumps({**values, **changes})


def plant_misfits(folder, checkpoint) -> None:
    """Every kind of file that once stopped the window from starting, or that should not be listed."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{run_id(10)}.json").write_text("{garbage")
    (folder / f"{run_id(11)}.json").write_text(summary_of(checkpoint, run_id=run_id(11), lr="0.001"))
    (folder / f"{run_id(12)}.json").write_text(summary_of(checkpoint, run_id=7))
    (folder / f"{run_id(13)}.json").write_text("[" * 200_000 + "]" * 200_000)
    (folder / "x.json").mkdir()
    (folder / f"{run_id(14)}.json").write_bytes(os.urandom(4096))
    unreadable = folder / f"{run_id(15)}.json"
    unreadable.write_text(summary_of(checkpoint, run_id=run_id(15)))
    unreadable.chmod(0)
    (folder / f"{run_id(16)}.json").write_text(summary_of(checkpoint, run_id="../../somewhere/precious"))


def test_the_window_starts_whatever_the_runs_folder_holds(qtbot, make_window, tmp_path):
    first = make_window()
    RunStore().save(run_id(1), STARTED, "finished", first.current)
    plant_misfits(RunStore().folder, first.current)
    first.close()
    permission_refused = not os.access(RunStore().summary_path(run_id(15)), os.R_OK)  # root reads through chmod 0
    window = make_window()
    history = window.history
    assert [record.run_id for record in history.records] == [run_id(1)] if permission_refused else [run_id(15),
                                                                                                    run_id(1)]
    assert not open_errors(window)  # a line in the view, never a dialog
    text = history.unreadable_label.text()
    assert len(history.unreadable) == 7 + permission_refused
    reasons = " ".join(f"{item.name}: {item.reason}" for item in history.unreadable)
    for expected in ("not valid JSON", "lr:", "run_id: 7", "nested", "x.json", "UTF-8", "../../somewhere/precious"):
        assert expected in reasons
    lines = text.splitlines()
    assert len(lines) == 7 and lines[0].startswith(f"Not listed: {history.unreadable[0].name}: ")
    assert lines[-1].startswith(f"…and {len(history.unreadable) - 6} more")
    window.tabs.setCurrentWidget(history)
    assert history.unreadable_label.isVisible()


def test_delete_never_reaches_outside_the_folder(qtbot, make_window, tmp_path, monkeypatch):
    window = make_window()
    store = window.store
    store.save(run_id(1), STARTED, "finished", window.current)
    precious = store.folder.parent.parent / "somewhere"
    precious.mkdir(parents=True)
    for name in ("precious.json", "precious.npz"):
        (precious / name).write_text("keep me")
    (store.folder / f"{run_id(2)}.json").write_text(summary_of(window.current, run_id="../../somewhere/precious"))
    (store.folder / f"{run_id(2)}.npz").write_bytes(store.model_path(run_id(1)).read_bytes())
    window.history.refresh()
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.Yes)
    while window.history.records:
        window.history.table.selectRow(0)
        qtbot.mouseClick(window.history.buttons["delete"], LEFT)
    assert sorted(path.name for path in precious.iterdir()) == ["precious.json", "precious.npz"]
    assert all((precious / name).read_text() == "keep me" for name in ("precious.json", "precious.npz"))


def test_the_budget_prunes_old_models_keeps_pinned_ones_and_is_remembered(qtbot, make_window, settings):
    window = make_window()
    store, history = window.store, window.history
    for day in (1, 2, 3):
        store.save(run_id(day), STARTED, "finished", window.current)
    history.refresh()
    assert [history.table.item(row, 8).text() for row in range(3)] == ["kept"] * 3
    assert "of 2.0 GB" in history.size_label.text()
    history.table.selectRow(2)  # the oldest
    qtbot.mouseClick(history.buttons["pin"], LEFT)
    assert history.table.item(2, 8).text() == "pinned" and history.buttons["pin"].text() == "Unpin"
    history.budget.setValue(0.1)
    history.budget.editingFinished.emit()
    assert settings.value(BUDGET_SETTING) is not None and store.budget == round(0.1 * GB)
    store.budget = 1  # below any model: everything unpinned goes
    history.refresh()
    assert [history.table.item(row, 8).text() for row in range(3)] == ["pruned", "pruned", "pinned"]
    assert store.model_path(run_id(1)).exists() and not store.model_path(run_id(3)).exists()
    history.table.selectRow(0)
    assert not history.buttons["load"].isEnabled() and history.buttons["show"].isEnabled()
    qtbot.mouseClick(history.buttons["show"], LEFT)  # drawn from the summary's curves
    assert len(window.curves.runs[run_id(3)].epoch_losses) == len(window.current.history.epoch_losses)
    assert not open_errors(window)
    window.close()
    reopened = make_window()
    assert reopened.history.budget.value() == 0.1 and reopened.store.budget == round(0.1 * GB)


def test_a_bad_budget_in_the_settings_file_is_the_default(qtbot, make_window, settings):
    settings.setValue(BUDGET_SETTING, "lots")
    window = make_window()
    assert window.store.budget == 2 * GB
