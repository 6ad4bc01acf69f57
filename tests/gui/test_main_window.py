"""The main window as a person uses it: open it, train on a small dataset, pause, stop, close."""

import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt

import gui.training_worker
from core.data.dataset import load_dataset
from core.engine.network import MLP
from core.engine.run_state import Checkpoint
from tests.gui.window_driver import (
    LEFT,
    RUN_TIMEOUT_MS,
    batch_count,
    live_run,
    press_shortcut,
    set_up_run,
    start,
    take_error,
    type_text,
    wait_for_batches,
    wait_until_idle,
)

# 640,000 one-image batches: far longer than any test waits. Short epochs (batch 32: 20 batches, a few ms)
# would flood the window with epoch ends and per-epoch saves; these take a good part of a second each.
LONG_RUN = {"epochs": 1000, "batch_size": 1}


def test_the_window_opens_with_the_bundled_model(make_window):
    window = make_window()
    assert window.isVisible()
    assert "bundled pretrained model" in window.drawing.model_label.text()
    assert "test accuracy" in window.drawing.model_label.text()
    assert isinstance(window.drawing.model, MLP) and isinstance(window.current, Checkpoint)
    assert window.save_action.isEnabled()
    # its saved curves are on the charts, as a finished run with its test accuracy in the legend
    (run_id,) = window.runs_list.run_ids()
    run = window.curves.runs[run_id]
    assert not run.live and len(run.epoch_losses) == len(window.current.history.epoch_losses) > 0
    assert "test" in window.runs_list.list.item(0).text()
    assert window.training_panel.start_button.isEnabled()


def test_without_the_bundled_model_there_is_no_model_and_ctrl_s_says_so(qtbot, make_window):
    window = make_window(with_pretrained=False)
    assert window.current is None and window.drawing.model is None
    assert window.drawing.model_label.text() == "no model"
    assert window.runs_list.run_ids() == [] and window.curves.runs == {}
    press_shortcut(qtbot, window, Qt.Key.Key_S)
    title, text = take_error(qtbot, window)
    assert title == "Nothing to save" and "Train a model or load one" in text


def test_a_small_run_goes_to_the_end_and_shows_its_curves_and_test_accuracy(qtbot, window, tiny_dataset_dir):
    panel = window.training_panel
    set_up_run(qtbot, window, optimizer="adam", epochs=3, batch_size=32)
    pretrained = window.current
    press_shortcut(qtbot, window, Qt.Key.Key_Return, panel.start_button)  # Ctrl+Return starts
    assert window.is_training()
    assert not panel.start_button.isEnabled() and panel.stop_button.isEnabled()
    assert not panel.epochs_box.isEnabled(), "settings are locked while a run uses them"
    assert panel.lr_field.isEnabled(), "but the learning rate steers the run"
    wait_until_idle(qtbot, window)

    batches_per_epoch = 640 // 32
    run = live_run(window)
    assert len(run.epoch_losses) == len(run.val_accs) == 3
    assert len(run.batch_losses) == len(run.smooth) == 3 * batches_per_epoch
    assert run.batches_per_epoch == batches_per_epoch
    x, y = run.accuracy.getData()
    assert len(x) == len(y) == 3
    np.testing.assert_allclose(x, [1, 2, 3])
    np.testing.assert_allclose(y, 100 * np.asarray(run.val_accs))
    assert len(run.drawn("epoch_loss")[0]) == 3
    assert len(run.drawn("raw")[0]) == len(run.drawn("smooth")[0]) == 3 * batches_per_epoch
    assert run.drawn("smooth")[0][-1] == 3.0, "the last batch of epoch 3 sits at x = 3"
    assert all(np.isfinite(run.batch_losses)) and run.epoch_losses[-1] < run.epoch_losses[0]

    # the test accuracy is shown in the progress bar and the runs list (the charts' legend)
    assert run.test_acc is not None and 0.0 <= run.test_acc <= 1.0
    shown = f"{run.test_acc:.2%}"
    assert panel.progress.format() == f"done: test accuracy {shown}"
    assert panel.progress.value() == panel.progress.maximum()
    assert run.legend_text().endswith(f"test {shown}")
    assert shown in window.runs_list.list.item(0).text()

    # the window is ready for another run, and the trained model is the current one
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()
    assert panel.lr_field.isEnabled()
    assert window.save_action.isEnabled()
    assert window.current is not pretrained and isinstance(window.current, Checkpoint)
    assert window.current.test_acc == run.test_acc
    assert window.current.history.epoch_losses == run.epoch_losses
    assert window.current.config.hidden == (32, 16) and window.current.config.epochs == 3
    assert window.current.dataset_name == window.dataset.name
    assert "this session's run (finished)" in window.drawing.model_label.text()
    assert window.drawing.model.layer_sizes == (784, 32, 16, 10)
    assert window.dataset is not None and window.dataset.folder == tiny_dataset_dir
    assert "640 training, 200 test images" in panel.dataset_status.text()


def test_pause_holds_the_run_resume_continues_it_and_stop_keeps_the_model(qtbot, window):
    panel = window.training_panel
    set_up_run(qtbot, window, **LONG_RUN)
    start(qtbot, window)
    wait_for_batches(qtbot, window)

    press_shortcut(qtbot, window, Qt.Key.Key_P, panel.pause_button)  # Ctrl+P pauses
    assert panel.pause_button.isChecked() and panel.pause_button.text() == "Resume"
    paused_at = settle(qtbot, window)
    assert still_paused_at(window, paused_at)
    assert window.is_training()

    qtbot.mouseClick(panel.pause_button, LEFT)  # Resume
    assert not panel.pause_button.isChecked() and panel.pause_button.text() == "Pause"
    wait_for_batches(qtbot, window, more_than=paused_at + 20)

    qtbot.mouseClick(panel.pause_button, LEFT)  # and Pause again
    assert panel.pause_button.isChecked()
    paused_again = settle(qtbot, window)
    assert still_paused_at(window, paused_again)

    qtbot.mouseClick(panel.stop_button, LEFT)  # Stop ends a paused run too
    wait_until_idle(qtbot, window)
    run = live_run(window)
    assert "stopped" in window.windowTitle()
    assert "this session's run (stopped)" in window.drawing.model_label.text()
    assert panel.progress.format().startswith("stopped after")
    assert run.test_acc is not None and f"{run.test_acc:.2%}" in panel.progress_detail.text()
    assert not run.live
    # the model trained so far is kept: current, on the pad, and savable
    assert window.current.history.batch_losses == run.batch_losses.tolist()
    assert len(run.batch_losses) >= paused_again
    assert np.all(np.isfinite(window.current.model.flat))
    assert window.drawing.model is not None and window.save_action.isEnabled()
    assert panel.start_button.isEnabled() and not panel.pause_button.isChecked()
    assert panel.pause_button.text() == "Pause"


def running_trainer(window):
    return window.session.thread.worker.trainer


def settle(qtbot, window) -> int:
    """After a pause: the trainer halted between chunks and every batch it trained on the charts (the
    worker sends all it has when the run pauses). Returns that batch count; counted, not timed."""
    trainer = running_trainer(window)
    qtbot.waitUntil(lambda: trainer.control.wait_until_halted(0), timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: batch_count(window) == len(trainer.history.batch_losses), timeout=RUN_TIMEOUT_MS)
    return batch_count(window)


def still_paused_at(window, count: int) -> bool:
    """A paused run does not move on: its trainer is halted and the charts hold what it trained."""
    return running_trainer(window).control.wait_until_halted(0) and batch_count(window) == count


def test_closing_the_window_during_a_run_stops_its_thread(qtbot, window, training_threads):
    set_up_run(qtbot, window, epochs=200)
    start(qtbot, window)
    wait_for_batches(qtbot, window)
    (thread,) = training_threads
    assert thread.isRunning()
    trainer = running_trainer(window)
    window.close()
    assert not thread.isRunning()
    assert len(trainer.history.epoch_losses) < 200, "closing stops the run, it does not wait for its end"
    assert not window.isVisible()


def test_closing_the_window_hides_it_before_waiting_for_the_runs_thread(qtbot, window, monkeypatch):
    seen = []
    monkeypatch.setattr(window.session, "shutdown", lambda: seen.append(window.isVisible()))
    window.show()
    window.close()
    assert seen == [False]


def test_closing_the_window_while_paused_stops_its_thread(qtbot, window, training_threads):
    set_up_run(qtbot, window, **LONG_RUN)
    start(qtbot, window)
    wait_for_batches(qtbot, window)
    qtbot.mouseClick(window.training_panel.pause_button, LEFT)
    (thread,) = training_threads
    trainer = running_trainer(window)
    window.close()
    assert not thread.isRunning()
    assert len(trainer.history.epoch_losses) < LONG_RUN["epochs"], "closing stops the paused run"


def test_a_diverging_run_stops_and_says_to_lower_the_learning_rate(qtbot, window):
    panel = window.training_panel
    # SGD at lr 10 (the field's maximum) with one image per batch blows up on the small dataset
    set_up_run(qtbot, window, optimizer="sgd", lr="10", epochs=2, batch_size=1)
    assert panel.config().lr == 10.0
    start(qtbot, window)
    title, text = take_error(qtbot, window, timeout=RUN_TIMEOUT_MS)
    assert title == "Training diverged"
    assert "learning rate" in text and "Lower it" in text
    wait_until_idle(qtbot, window)
    assert panel.progress.format() == "diverged" and panel.progress_detail.text() == "lower the learning rate"
    assert "diverged" in window.windowTitle()
    assert np.all(np.isfinite(window.current.model.flat)), "the weights from before the blow-up are kept"
    assert np.all(np.isfinite(window.drawing.model.flat))
    assert all(np.isfinite(live_run(window).batch_losses))
    assert panel.start_button.isEnabled()


def test_a_folder_without_a_dataset_is_refused_before_any_thread_starts(qtbot, make_window, tmp_path,
                                                                       training_threads):
    empty = tmp_path / "empty"
    empty.mkdir()
    window = make_window(data_dir=empty)
    panel = window.training_panel
    assert "Missing here" in panel.dataset_status.text() and "Download MNIST" in panel.dataset_status.text()
    set_up_run(qtbot, window)
    start(qtbot, window)
    title, text = take_error(qtbot, window)
    assert title == "No dataset"
    assert str(empty) in text and "four IDX files" in text and "Download MNIST" in text
    assert training_threads == [] and not window.is_training()
    assert panel.start_button.isEnabled() and panel.lr_field.isEnabled()

    missing = tmp_path / "not-there"
    set_up_run(qtbot, window, data_dir=missing)
    assert "No such folder" in panel.dataset_status.text()
    start(qtbot, window)
    title, text = take_error(qtbot, window)
    assert title == "No dataset" and "no such folder" in text
    assert training_threads == []


def test_runs_that_cannot_start_are_reported_and_the_window_recovers(qtbot, window, tmp_path, tiny_dataset_dir):
    panel = window.training_panel
    set_up_run(qtbot, window, batch_size=1000)  # the small dataset has 640 training images
    start(qtbot, window)
    title, text = take_error(qtbot, window)
    assert title == "Training could not start" and "batch size 1000" in text
    wait_until_idle(qtbot, window)
    assert panel.progress.format() == "could not start" and panel.start_button.isEnabled()

    broken = tmp_path / "broken"
    broken.mkdir()
    for source in tiny_dataset_dir.iterdir():
        content = source.read_bytes()
        (broken / source.name).write_bytes(content[: len(content) // 2] if "train-images" in source.name else content)
    set_up_run(qtbot, window, data_dir=broken)
    start(qtbot, window)
    title, text = take_error(qtbot, window)
    assert title == "Training could not start" and "train-images" in text
    wait_until_idle(qtbot, window)
    assert panel.progress.format() == "could not start" and panel.start_button.isEnabled()
    assert "bundled pretrained model" in window.drawing.model_label.text()
    assert len(window.runs_list.run_ids()) == 1, "nothing was added to the charts"


def test_while_a_run_goes_on_the_pad_uses_it_and_its_curves_cannot_be_removed(qtbot, window):
    pretrained = window.current
    set_up_run(qtbot, window, **LONG_RUN)
    start(qtbot, window)
    qtbot.waitUntil(lambda: "the run in progress" in window.drawing.model_label.text(), timeout=RUN_TIMEOUT_MS)
    assert window.drawing.model.layer_sizes == (784, 32, 16, 10)
    assert window.current is pretrained, "Save keeps the last whole model until the run ends"
    assert not window.save_action.isEnabled()

    live_id = window.session.run_id
    assert window.runs_list.run_ids()[0] == live_id
    window.runs_list.list.setCurrentRow(0)
    qtbot.mouseClick(window.runs_list.remove_button, LEFT)
    assert live_id in window.curves.runs and window.runs_list.run_ids()[0] == live_id
    assert "cannot be removed" in window.statusBar().currentMessage()
    qtbot.mouseClick(window.training_panel.stop_button, LEFT)
    wait_until_idle(qtbot, window)


def test_two_runs_stay_on_the_charts_and_the_runs_list_hides_and_removes_them(qtbot, window):
    set_up_run(qtbot, window, optimizer="sgd", lr="0.05", epochs=2)
    start(qtbot, window)
    wait_until_idle(qtbot, window)
    dataset = window.dataset
    set_up_run(qtbot, window, optimizer="momentum", epochs=2)
    start(qtbot, window)
    assert window.training_panel.progress.format() == "starting…", "the loaded dataset is not read again"
    wait_until_idle(qtbot, window)
    assert window.dataset is dataset
    run_ids = window.runs_list.run_ids()
    assert len(run_ids) == 3  # newest first: the two runs, then the bundled model's curves
    momentum, sgd, pretrained = (window.curves.runs[run_id] for run_id in run_ids)
    assert momentum.label.startswith("Momentum lr 0.001") and sgd.label.startswith("SGD lr 0.05")
    assert len(momentum.val_accs) == len(sgd.val_accs) == 2
    assert len({momentum.color, sgd.color, pretrained.color}) == 3
    assert [window.runs_list.list.item(row).text() for row in range(3)] == [
        momentum.legend_text(), sgd.legend_text(), pretrained.legend_text()]

    runs = window.runs_list.list
    runs.setFocus()
    runs.setCurrentRow(1)
    qtbot.keyClick(runs, Qt.Key.Key_Space)  # untick SGD
    assert runs.item(1).checkState() == Qt.CheckState.Unchecked
    curves = [item for key in ("raw", "smooth", "epoch_loss", "accuracy") for item in sgd.chart_items(key)]
    assert not sgd.visible and not any(curve.isVisible() for curve in curves)
    assert "SGD" not in window.curves.describe(1.0) and "Momentum" in window.curves.describe(1.0)
    qtbot.keyClick(runs, Qt.Key.Key_Space)  # and tick it again
    assert sgd.accuracy.isVisible() and not any(item.isVisible() for item in sgd.chart_items("raw"))

    qtbot.mouseClick(window.runs_list.remove_button, LEFT)
    assert window.runs_list.run_ids() == [run_ids[0], run_ids[2]]
    assert run_ids[1] not in window.curves.runs
    assert all(curve.scene() is None for curve in curves), "its curves are off the chart"
    assert [window.runs_list.list.item(row).text() for row in range(2)] == [
        momentum.legend_text(), pretrained.legend_text()]
    runs.setFocus()
    runs.setCurrentRow(0)
    qtbot.keyClick(runs, Qt.Key.Key_Delete)  # Delete removes the selected run too
    assert window.runs_list.run_ids() == [run_ids[2]]


def test_the_paused_indicator_stays_while_the_run_is_paused(qtbot, window):
    panel = window.training_panel
    set_up_run(qtbot, window, **LONG_RUN)
    start(qtbot, window)
    wait_for_batches(qtbot, window)
    # The GUI thread busy for a moment (a repaint, a save) while the worker keeps sending progress:
    # the updates sent before the pause took effect arrive after the click.
    sent = threading.Event()
    window.session.thread.worker.progressed.connect(lambda progress: sent.set(), Qt.ConnectionType.DirectConnection)
    assert sent.wait(RUN_TIMEOUT_MS / 1000), "the worker sends progress while the GUI thread is blocked"
    qtbot.mouseClick(panel.pause_button, LEFT)
    settle(qtbot, window)
    assert panel.progress.format().endswith("· paused"), "a paused run should say so until resumed"
    qtbot.mouseClick(panel.pause_button, LEFT)
    qtbot.waitUntil(lambda: "paused" not in panel.progress.format())


def test_stop_right_after_start_ends_without_a_run_and_says_so(qtbot, window, monkeypatch):
    # Stop pressed while the worker still reads the dataset: the run never starts.
    release = threading.Event()

    def slow_load(folder):
        release.wait(5)
        return load_dataset(folder)

    monkeypatch.setattr(gui.training_worker, "load_dataset", slow_load)
    panel = window.training_panel
    set_up_run(qtbot, window)
    start(qtbot, window)
    assert panel.progress.format() == "loading the dataset…"
    qtbot.mouseClick(panel.stop_button, LEFT)
    release.set()
    wait_until_idle(qtbot, window)
    assert len(window.runs_list.run_ids()) == 1, "only the bundled model's curves"
    assert "bundled pretrained model" in window.drawing.model_label.text()
    assert panel.start_button.isEnabled()
    assert "stopping" not in panel.progress.format(), "the run has ended: the progress bar should say so"


def test_ctrl_p_pauses_and_resumes_again_and_again(qtbot, window):
    panel = window.training_panel
    set_up_run(qtbot, window, **LONG_RUN)
    start(qtbot, window)
    wait_for_batches(qtbot, window)
    for paused in (True, False, True, False):
        press_shortcut(qtbot, window, Qt.Key.Key_P, panel.pause_button)
        assert panel.pause_button.isChecked() is paused
    qtbot.mouseClick(panel.stop_button, LEFT)
    wait_until_idle(qtbot, window)


def test_the_window_is_ready_again_as_soon_as_a_run_ends(qtbot, window, training_threads):
    """No freeze between a run's end and the next Start: the GUI thread never blocks on the run's
    thread (it used to, for seconds, when quitting the thread was queued behind the GUI's own slots);
    checked by what the window does, not by a clock."""
    order, waits = [], []
    window.session.run_finished.connect(lambda *args: order.append("finished"))
    window.session.idle.connect(lambda: order.append("idle"))
    window.session.run_started.connect(lambda *args: watch_waits(window.session.thread.thread, waits))
    set_up_run(qtbot, window, epochs=2)
    start(qtbot, window)
    wait_until_idle(qtbot, window)
    assert order == ["finished", "idle"]
    assert waits == [True], "the GUI thread waited once, for a thread that had already ended"
    assert not training_threads[0].isRunning()


def watch_waits(thread, waits: list) -> None:
    """Record, for each wait() on `thread` from Python, whether the thread had ended already."""
    real_wait = thread.wait

    def wait(*args):
        waits.append(thread.isFinished())
        return real_wait(*args)

    thread.wait = wait


def test_a_new_learning_rate_steers_the_running_run_and_the_chart_marks_it(qtbot, window):
    """Issue 15: change the learning rate during a run; the charts mark the change."""
    set_up_run(qtbot, window, epochs=1000, batch_size=8, hidden="256,128,64")  # far longer than the test
    panel = window.training_panel
    start(qtbot, window)
    wait_for_batches(qtbot, window)
    qtbot.mouseClick(panel.pause_button, LEFT)  # held, so that the run cannot end before the change
    assert panel.lr_field.isEnabled() and not panel.epochs_box.isEnabled()
    type_text(qtbot, panel.lr_field, "0.0123")
    qtbot.keyClick(panel.lr_field, Qt.Key.Key_Return)
    messages = []  # every status message: an epoch's end may replace this one before the check
    window.statusBar().messageChanged.connect(messages.append)
    with qtbot.waitSignal(window.session.lr_changed, timeout=30_000) as changed:
        qtbot.mouseClick(panel.pause_button, LEFT)  # resume: the next chunk trains at the new rate
    run_id, event = changed.args
    assert event.lr == pytest.approx(0.0123)
    (mark,) = window.curves.runs[run_id].lr_marks
    assert mark.scene() is window.curves.loss_plot.scene() and mark.label.toPlainText() == "lr 0.0123"
    assert any("Learning rate 0.0123" in message for message in messages), messages
    qtbot.mouseClick(panel.stop_button, LEFT)
    wait_until_idle(qtbot, window)
    assert window.current.position.lr <= 0.0123 * (1 + 1e-9), "the run went on from the new rate, decaying"
