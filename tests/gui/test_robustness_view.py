"""The robustness charts on the Errors tab: the current model beside a second one, scored in the background."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QFileDialog

from cli.commands import run_cli
from core.analysis.robustness import LEVELS, robustness_curves
from core.data.dataset import load_dataset
from tests.gui.window_driver import LEFT

TIMEOUT_MS = 60_000


def score(qtbot, window):
    view = window.errors.robustness
    window.tabs.setCurrentWidget(window.errors)
    view.comparison = None
    qtbot.mouseClick(view.run_button, LEFT)
    qtbot.waitUntil(lambda: view.comparison is not None, timeout=TIMEOUT_MS)
    return view


def test_the_bundled_model_beside_itself_draws_two_equal_curves_per_change(qtbot, window, tiny_dataset_dir):
    view = score(qtbot, window)
    comparison = view.comparison
    dataset = load_dataset(tiny_dataset_dir)
    expected = robustness_curves(window.drawing.model, dataset.test_images, dataset.test_labels)
    assert [curve.accuracies for curve in comparison.first] == [curve.accuracies for curve in expected]
    assert [curve.accuracies for curve in comparison.second] == [curve.accuracies for curve in expected]
    for curve in comparison.first:
        first, second = view.curves[curve.name]
        np.testing.assert_allclose(first.yData, 100 * np.array(curve.accuracies))
        np.testing.assert_allclose(second.xData, curve.levels)
    assert list(view.curves) == list(LEVELS)
    assert "pretrained" in view.legend.text() and view.run_button.isEnabled()


def test_a_chosen_model_file_is_drawn_beside_and_alone_draws_one(qtbot, window, tiny_dataset_dir, tmp_path,
                                                                   monkeypatch):
    other = tmp_path / "other.npz"
    assert run_cli(["train", "--data-dir", str(tiny_dataset_dir), "--epochs", "1", "--json", "--save", str(other),
                    "--hidden", "16", "--batch-size", "32"]) == 0
    view = window.errors.robustness
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(other), ""))
    view.compare_box.setCurrentIndex(view.compare_box.findData("file"))
    view.compare_box.activated.emit(view.compare_box.currentIndex())  # as a user's choice in the list does
    assert view.second_model_path() == other and "other.npz" in view.compare_box.currentText()
    score(qtbot, window)
    assert view.comparison.second_name == str(other) and "other.npz" in view.legend.text()
    assert view.comparison.second[0].accuracies != view.comparison.first[0].accuracies

    view.compare_box.setCurrentIndex(view.compare_box.findData(None))
    score(qtbot, window)
    assert view.comparison.second is None
    assert all(len(second.xData if second.xData is not None else []) == 0 for _, second in view.curves.values())


def test_an_unreadable_second_model_is_reported_in_the_view(qtbot, window, tmp_path):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip")
    view = window.errors.robustness
    view.set_comparison_file(broken)
    window.tabs.setCurrentWidget(window.errors)
    qtbot.mouseClick(view.run_button, LEFT)
    qtbot.waitUntil(lambda: view.status.text().startswith("Could not score"), timeout=TIMEOUT_MS)
    assert "broken.npz" in view.status.text() and view.run_button.isEnabled()

