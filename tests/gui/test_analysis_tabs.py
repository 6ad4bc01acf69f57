"""The views that look inside a model, driven through the window: errors, filters, dataset, history, race."""

from __future__ import annotations

import csv
import re
import threading

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt, QThreadPool
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QMessageBox

from assets import pretrained_model_path
from core.data.dataset import load_dataset
from core.errors import ModelFileError
from core.runs.run_history import RunRecord, RunStore
from gui.curves_view import EMPTY_TEXT as CURVES_EMPTY_TEXT
from tests.gui.pixels import correlation, image_28x28, pixels_of_colour, red_and_blue_pixels
from tests.gui.window_driver import LEFT, set_up_run, start, wait_until_idle

RACE_TIMEOUT_MS = 40_000


def switch_to(qtbot, window, widget) -> None:
    """Ctrl+<tab number>, as the View menu offers."""
    number = window.tabs.indexOf(widget) + 1
    qtbot.keyClick(window, getattr(Qt.Key, f"Key_{number}"), Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is widget


def click_cell(qtbot, matrix, row: int, col: int) -> None:
    """A real mouse click in the middle of confusion-matrix cell (row, col)."""
    scene_point = matrix.getViewBox().mapViewToScene(QPointF(col + 0.5, row + 0.5))
    qtbot.mouseClick(matrix.viewport(), LEFT, pos=matrix.mapFromScene(scene_point))


def evaluated(qtbot, window):
    switch_to(qtbot, window, window.errors)
    qtbot.waitUntil(lambda: window.errors.evaluation is not None, timeout=10_000)
    qtbot.waitUntil(lambda: not window.errors.gallery.is_filling(), timeout=5000)  # tiles come in steps
    return window.errors.evaluation


def test_the_errors_tab_scores_the_model_on_the_test_set(qtbot, window, tiny_dataset_dir):
    evaluation = evaluated(qtbot, window)
    dataset = load_dataset(tiny_dataset_dir)
    expected = window.drawing.model.predict(dataset.test_images)
    assert evaluation.confusion.sum() == len(dataset.test_images) == 200
    np.testing.assert_array_equal(evaluation.predicted, expected)
    mistakes = int(np.sum(expected != dataset.test_labels))
    assert window.errors.gallery.list.count() == mistakes
    assert f"{mistakes:,} mistakes" in window.errors.status.text()


def test_clicking_a_cell_shows_its_images_and_clicking_an_image_puts_it_on_the_pad(qtbot, window):
    evaluation = evaluated(qtbot, window)
    confusion = evaluation.confusion.copy()
    np.fill_diagonal(confusion, 0)
    row, col = np.unravel_index(int(confusion.argmax()), confusion.shape)
    assert confusion[row, col] > 0, "the bundled model should make mistakes on the fake digits"
    click_cell(qtbot, window.errors.matrix, row, col)
    qtbot.waitUntil(lambda: not window.errors.gallery.is_filling(), timeout=5000)
    shown = window.errors.gallery.displayed_indices()
    assert len(shown) == confusion[row, col]
    assert np.all(evaluation.labels[shown] == row) and np.all(evaluation.predicted[shown] == col)
    confidences = evaluation.confidence[shown]
    assert np.all(np.diff(confidences) <= 0), "most confident mistakes first"

    gallery = window.errors.gallery.list
    first = gallery.item(0)
    qtbot.mouseClick(gallery.viewport(), LEFT, pos=gallery.visualItemRect(first).center())
    prediction = window.drawing.prediction
    assert prediction.predicted_index == col
    assert f"test image #{shown[0]}" in prediction.confidence_label.text()
    test_image = np.asarray(window.dataset.test_images[shown[0]], dtype=float)
    assert correlation(image_28x28(prediction.preview.pixmap()), test_image) > 0.95, "it shows that test digit"


def test_the_least_confident_order_reverses_the_gallery(qtbot, window):
    evaluated(qtbot, window)
    gallery = window.errors.gallery
    most_first = gallery.displayed_indices()
    gallery.order_box.setCurrentIndex(1)
    confidences = window.errors.evaluation.confidence[gallery.displayed_indices()]
    assert np.all(np.diff(confidences) >= 0)
    assert sorted(gallery.displayed_indices()) == sorted(most_first)


def test_the_filters_tab_shows_the_first_layer_of_the_current_model(qtbot, window):
    switch_to(qtbot, window, window.filters)
    qtbot.waitUntil(lambda: window.filters.shown_weights is not None, timeout=5000)
    np.testing.assert_array_equal(window.filters.shown_weights, window.drawing.model.weights[0])


def test_the_dataset_tab_loads_the_dataset_and_a_chosen_image_goes_to_the_pad(qtbot, window, tiny_dataset_dir):
    switch_to(qtbot, window, window.dataset_view)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    view = window.dataset_view
    view.select_class(4)
    index = int(view.page_indices()[0])
    with qtbot.waitSignal(view.image_chosen, timeout=2000) as chosen:
        view.image_chosen.emit(window.dataset.train_images[index].reshape(28, 28), 4)
    assert chosen.args[1] == 4
    assert "truly 4" in window.drawing.prediction.confidence_label.text()


def test_a_finished_run_is_kept_and_can_be_shown_loaded_exported_and_deleted(qtbot, window, tmp_path,
                                                                             monkeypatch):
    set_up_run(qtbot, window, epochs=2)
    start(qtbot, window)
    wait_until_idle(qtbot, window)
    history = window.history
    assert len(history.records) == 1
    record = history.records[0]
    assert (record.status, record.epochs_done, record.test_acc) == ("finished", 2, window.current.test_acc)
    switch_to(qtbot, window, history)
    history.table.selectRow(0)

    window.curves.remove_run(record.run_id)
    window.runs_list.remove_run(record.run_id)
    qtbot.mouseClick(history.buttons["show"], LEFT)
    assert record.run_id in window.curves.runs and window.tabs.currentIndex() == 0
    assert len(window.curves.runs[record.run_id].val_accs) == 2

    window.files.load_model(pretrained_model_path())  # another model is current before Load
    assert not np.array_equal(window.current.model.flat, window.store.load(record.run_id).model.flat)
    switch_to(qtbot, window, history)
    history.table.selectRow(0)
    qtbot.mouseClick(history.buttons["load"], LEFT)
    np.testing.assert_array_equal(window.current.model.flat, window.store.load(record.run_id).model.flat)
    assert "run of" in window.windowTitle()

    csv_path, png_path = tmp_path / "curves.csv", tmp_path / "chart.png"
    answers = iter([(str(csv_path), ""), (str(png_path), "")])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: next(answers))
    qtbot.mouseClick(history.buttons["curves"], LEFT)
    rows = list(csv.reader(csv_path.open()))
    assert rows[0][0] == "epoch" and len(rows) == 3
    history.table.selectRow(0)
    qtbot.mouseClick(history.buttons["png"], LEFT)
    chart = QImage(str(png_path))
    assert chart.size() == window.curves.size()
    assert pixels_of_colour(chart, window.curves.runs[record.run_id].color) > 20, "the run's epoch points are on it"

    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.Yes)
    history.table.selectRow(0)
    qtbot.mouseClick(history.buttons["delete"], LEFT)
    assert history.records == [] and not window.store.model_path(record.run_id).exists()
    assert record.run_id not in window.curves.runs


def test_declining_the_delete_question_keeps_the_run(qtbot, window, monkeypatch):
    set_up_run(qtbot, window, epochs=1)
    start(qtbot, window)
    wait_until_idle(qtbot, window)
    window.history.table.selectRow(0)
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.No)
    qtbot.mouseClick(window.history.buttons["delete"], LEFT)
    assert len(window.history.records) == 1


def test_a_run_cut_short_by_closing_the_window_is_listed_with_what_it_reached(qtbot, make_window,
                                                                             tiny_dataset_dir):
    window = make_window(data_dir=tiny_dataset_dir)
    set_up_run(qtbot, window, epochs=500)
    start(qtbot, window)
    # the first epoch's end is saved at once (later ones at most every SAVE_INTERVAL seconds)
    qtbot.waitUntil(lambda: bool(window.history.records) and window.history.records[0].epochs_done >= 1,
                    timeout=15_000)
    assert window.history.records[0].status == "running"
    qtbot.waitUntil(lambda: len(window.curves.runs[window.session.run_id].val_accs) >= 3, timeout=15_000)
    window.close()
    reopened = make_window(data_dir=tiny_dataset_dir)
    (record,) = reopened.history.records
    assert record.status == "stopped" and record.epochs_done >= 3 and record.test_acc is not None


def test_a_run_left_running_by_a_crash_shows_as_interrupted(qtbot, make_window, tiny_dataset_dir):
    window = make_window(data_dir=tiny_dataset_dir)
    record = RunRecord.summarize("20260101-000000-000-adam", "2026-01-01T00:00:00", "running", window.current)
    RunStore().save(record.run_id, record.started, "running", window.current)
    window.history.refresh()
    assert [r.status for r in window.history.records] == ["interrupted"]
    assert window.history.table.item(0, 7).text() == "interrupted"


def test_a_saved_run_updates_its_own_row_without_reading_the_folder_again(qtbot, make_window, tiny_dataset_dir,
                                                                          monkeypatch):
    window = make_window(data_dir=tiny_dataset_dir)
    store = RunStore()
    for run_id in ("20260101-000000-000-sgd", "20260301-000000-000-sgd"):
        store.save(run_id, "2026-01-01T00:00:00", "finished", window.current)
    window.history.refresh()
    monkeypatch.setattr(RunStore, "records", lambda *args: pytest.fail("the whole folder read again"))
    newest = RunRecord.summarize("20260401-000000-000-adam", "2026-04-01T00:00:00", "running", window.current)
    middle = RunRecord.summarize("20260201-000000-000-adam", "2026-02-01T00:00:00", "running", window.current)
    for record in (newest, middle, RunRecord(**{**newest.__dict__, "status": "finished"})):
        window.history.show_record(record)
    assert [r.run_id[:8] for r in window.history.records] == ["20260401", "20260301", "20260201", "20260101"]
    assert [window.history.table.item(row, 7).text() for row in range(4)] == ["finished", "finished", "running",
                                                                              "finished"]
    assert window.history.table.rowCount() == 4


def test_compare_optimizers_runs_sgd_momentum_and_adam_and_fills_the_table(qtbot, window):
    set_up_run(qtbot, window, epochs=2)
    panel = window.training_panel
    qtbot.mouseClick(panel.race_button, LEFT)
    assert window.race_table.isVisible()
    qtbot.waitUntil(lambda: not window.session.is_racing() and not window.is_training(), timeout=RACE_TIMEOUT_MS)
    results = window.session.race_results
    assert [r.optimizer for r in results] == ["sgd", "momentum", "adam"]
    assert [r.lr for r in results] == [0.005, 0.001, 0.0005]
    assert all(r.status == "finished" and r.epochs_done == 2 and r.test_acc is not None for r in results)
    table = window.race_table
    for row, result in enumerate(results):
        assert table.item(row, 2).text() == f"{result.test_acc:.2%}"
        assert table.item(row, 4).text().startswith(str(result.best_epoch))
    assert len(window.curves.runs) == 4  # the bundled model's curves and the three racers
    assert [r.optimizer for r in window.history.records] == ["adam", "momentum", "sgd"]
    assert panel.start_button.isEnabled() and panel.race_button.isEnabled()


def test_stop_ends_the_whole_race(qtbot, window):
    set_up_run(qtbot, window, epochs=300)
    qtbot.mouseClick(window.training_panel.race_button, LEFT)
    qtbot.waitUntil(lambda: window.session.run_id in window.curves.runs
                    and len(window.curves.runs[window.session.run_id].batch_losses) > 0, timeout=10_000)
    qtbot.mouseClick(window.training_panel.stop_button, LEFT)
    qtbot.waitUntil(lambda: not window.is_training() and not window.session.is_racing(), timeout=15_000)
    assert [(r.optimizer, r.status) for r in window.session.race_results] == [("sgd", "stopped")]
    assert window.race_table.item(1, 5).text() == "waiting"


SMALL_WINDOW_SHOWS = {  # tab -> what it must show in a small window, with the bundled model and the tiny dataset
    "curves": lambda window, view: window.curves.readout.text() == CURVES_EMPTY_TEXT
    and window.curves.readout.isVisible(),
    "errors": lambda window, view: re.fullmatch(r".*: \d+\.\d\d% of 200 test images right, (\d+) mistakes\..*",
                                                view.status.text()) is not None,
    "filters": lambda window, view: view.shown_weights is not None and view.readout.text().startswith("256 units")
    and min(red_and_blue_pixels(view.grab())) > 100,
    "dataset_view": lambda window, view: "640 training" in view.title.text() and "200 test" in view.title.text()
    and view.page_label.text() == "page 1 of 7",
    "history": lambda window, view: view.place.text() == f"Kept in {window.history.store.folder}"
    and view.size_label.text().startswith("Folder "),
}


@pytest.mark.parametrize("tab", list(SMALL_WINDOW_SHOWS))
def test_every_tab_shows_its_content_in_a_small_window(qtbot, window, tab):
    window.resize(900, 600)
    widget = window.tabs.widget(0) if tab == "curves" else getattr(window, tab)
    window.tabs.setCurrentWidget(widget)
    qtbot.waitUntil(lambda: SMALL_WINDOW_SHOWS[tab](window, widget), timeout=10_000)


def test_the_history_table_refilled_while_shown_still_fits_its_columns_to_their_text(qtbot, make_window,
                                                                                    tiny_dataset_dir):
    """Columns are fitted once after the rows are filled (fitted at each cell, a shown table of
    171 runs took 3.5 s to refill at a run's end); they still fit, and keep fitting new rows."""
    from PySide6.QtWidgets import QHeaderView

    window = make_window(data_dir=tiny_dataset_dir)
    store = RunStore()
    for day in range(1, 13):
        store.save(f"202601{day:02d}-000000-000-momentum", "2026-01-01T00:00:00", "finished", window.current)
    switch_to(qtbot, window, window.history)
    window.history.refresh()
    window.history.refresh()  # the second refill replaces every cell of a shown table
    table = window.history.table
    header = table.horizontalHeader()

    def columns_fit() -> bool:
        return all(header.sectionResizeMode(col) == QHeaderView.ResizeMode.ResizeToContents
                   and header.sectionSize(col) >= table.sizeHintForColumn(col)
                   for col in range(table.columnCount() - 1))

    assert table.rowCount() == 12
    qtbot.waitUntil(columns_fit)
    wide = RunRecord.summarize("20260201-000000-000-momentum", "2026-02-01T00:00:00", "interrupted", window.current)
    window.history.show_record(RunRecord(**{**wide.__dict__, "dataset_name": "a dataset with a long name"}))
    assert table.rowCount() == 13
    qtbot.waitUntil(columns_fit)


def test_the_errors_tab_without_a_dataset_says_so_in_place_with_a_frame_of_classes(qtbot, make_window, tmp_path):
    """Issue 16: no modal warning at every visit, and no meaningless axes (-400...400, "x0.001")."""
    window = make_window(data_dir=tmp_path)
    for _ in range(2):
        switch_to(qtbot, window, window.errors)
        status = window.errors.status.text()
        assert "No dataset to evaluate on" in status and str(tmp_path) in status
        assert not [box for box in window.findChildren(QMessageBox) if box.isVisible()]
        switch_to(qtbot, window, window.hidden_map)
    matrix = window.errors.matrix
    (x_low, x_high), (y_low, y_high) = matrix.getViewBox().viewRange()
    for low, high in ((x_low, x_high), (y_low, y_high)):  # the ten classes in view (the aspect lock pads one axis)
        assert low <= 0.01 and high >= 9.99 and high - low < 50
    assert [text for _, text in matrix.getAxis("bottom")._tickLevels[0]] == [str(digit) for digit in range(10)]
    assert "x0.001" not in matrix.getAxis("left").labelString()


def test_requests_made_while_the_dataset_loads_all_run_when_it_arrives(qtbot, window):
    assert window.dataset is None
    called = []
    assert window.data.with_dataset(lambda: called.append("errors"))
    assert window.data.with_dataset(lambda: called.append("map"))
    qtbot.waitUntil(lambda: window.dataset is not None and len(called) == 2, timeout=10_000)
    assert called == ["errors", "map"]


class HeldBack:
    """Stands in for a scoring function: its first call waits until released, then fails; the
    later ones call `then`. Records whether the first was released or timed out."""

    def __init__(self, then):
        self.then, self.release, self.calls, self.first_released = then, threading.Event(), 0, []

    def __call__(self, *args):
        self.calls += 1
        if self.calls == 1:
            self.first_released.append(self.release.wait(30))
            raise MemoryError
        return self.then(*args)


@pytest.fixture
def held_back():
    """Makes HeldBack scorings, with room in Qt's pool for a newer scoring beside the one held back
    (a one-core machine's pool has one thread: the newer one would wait for the older, and they
    would end in order). Afterwards, even when the test failed halfway, each is released and the
    pool emptied before the window goes, so that no later test finds a pool thread still held."""
    pool = QThreadPool.globalInstance()
    before = pool.maxThreadCount()
    pool.setMaxThreadCount(max(2, before))
    made: list[HeldBack] = []

    def make(then):
        made.append(HeldBack(then))
        return made[-1]

    yield make
    for scoring in made:
        scoring.release.set()
    pool.waitForDone(10_000)
    pool.setMaxThreadCount(before)


def test_a_scoring_that_ends_after_a_newer_one_was_asked_for_is_not_shown(qtbot, window, monkeypatch, held_back):
    """Scorings run in the background and may end in any order: the Errors tab shows the latest
    request's, under that model's name, never an older model's under a newer name, nor its failure."""
    import gui.errors_analysis as errors_analysis

    window.tabs.setCurrentWidget(window.errors)
    qtbot.waitUntil(lambda: window.errors.evaluation is not None, timeout=10_000)
    evaluate = held_back(errors_analysis.evaluate)
    monkeypatch.setattr(errors_analysis, "evaluate", evaluate)
    window.current_model.source = "an older model"  # its name, as a model loaded since would have it
    window.analysis.evaluate()
    qtbot.waitUntil(lambda: evaluate.calls == 1, timeout=10_000)
    window.current_model.source = "the newer model"
    window.analysis.evaluate()
    qtbot.waitUntil(lambda: window.errors.status.text().startswith("the newer model: "), timeout=10_000)
    assert not evaluate.first_released  # the older scoring is still running: the newer one ended first
    evaluate.release.set()
    qtbot.waitUntil(lambda: not len(window.analysis._tasks), timeout=10_000)  # the older one has reported
    assert evaluate.first_released == [True]
    assert window.errors.status.text().startswith("the newer model: ")
    assert not open_errors_text(window)


def test_a_scoring_asked_for_when_the_dataset_is_gone_silences_the_older_one(qtbot, window, monkeypatch, tmp_path,
                                                                            held_back):
    import gui.errors_analysis as errors_analysis

    window.tabs.setCurrentWidget(window.errors)
    qtbot.waitUntil(lambda: window.errors.evaluation is not None, timeout=10_000)
    evaluate = held_back(errors_analysis.evaluate)
    monkeypatch.setattr(errors_analysis, "evaluate", evaluate)
    window.analysis.evaluate()
    qtbot.waitUntil(lambda: evaluate.calls == 1, timeout=10_000)
    window.data.panel.set_data_dir(str(tmp_path / "gone"))
    window.analysis.evaluate()  # no task starts for it: there is no dataset to score on
    assert window.errors.status.text().startswith("No dataset to evaluate on")
    evaluate.release.set()
    qtbot.waitUntil(lambda: not len(window.analysis._tasks), timeout=10_000)
    assert evaluate.first_released == [True]
    assert window.errors.status.text().startswith("No dataset to evaluate on")
    assert not open_errors_text(window)


def open_errors_text(window) -> list[str]:
    return [box.text() for box in window.findChildren(QMessageBox) if box.isVisible()]


def test_a_stale_robustness_scoring_says_nothing(qtbot, window, monkeypatch, held_back):
    import gui.errors_analysis as errors_analysis

    view = window.errors.robustness
    window.data.with_dataset(lambda: None)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)

    def latest(*args):
        raise ModelFileError("the latest request's")

    compare = held_back(latest)  # the first fails with MemoryError once released
    monkeypatch.setattr(errors_analysis, "compare_robustness", compare)
    window.analysis.evaluate_robustness()
    qtbot.waitUntil(lambda: compare.calls == 1, timeout=10_000)
    window.analysis.evaluate_robustness()
    qtbot.waitUntil(lambda: view.status.text() == "Could not score robustness: the latest request's", timeout=10_000)
    assert not compare.first_released
    compare.release.set()
    qtbot.waitUntil(lambda: not len(window.analysis._tasks), timeout=10_000)
    assert compare.first_released == [True]
    assert view.status.text() == "Could not score robustness: the latest request's"


def test_a_robustness_scoring_asked_for_when_the_dataset_is_gone_silences_the_older_one(qtbot, window, monkeypatch,
                                                                                       tmp_path, held_back):
    import gui.errors_analysis as errors_analysis

    view = window.errors.robustness
    window.data.with_dataset(lambda: None)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    compare = held_back(lambda *args: None)
    monkeypatch.setattr(errors_analysis, "compare_robustness", compare)
    window.analysis.evaluate_robustness()
    qtbot.waitUntil(lambda: compare.calls == 1, timeout=10_000)
    window.data.panel.set_data_dir(str(tmp_path / "gone"))
    window.analysis.evaluate_robustness()  # no task starts for it
    gone = view.status.text()
    assert gone.startswith("No dataset to score on")
    compare.release.set()
    qtbot.waitUntil(lambda: not len(window.analysis._tasks), timeout=10_000)
    assert compare.first_released == [True]
    assert view.status.text() == gone  # not the older request's "Could not score robustness: not enough memory"
