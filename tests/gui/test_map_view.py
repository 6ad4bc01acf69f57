"""The hidden-layer map, driven through the window: PCA of the test images, live during a run, t-SNE on request."""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QPointF

import gui.map_view
from core.analysis.hidden_map import last_hidden, pca_2d
from tests.gui.test_analysis_tabs import switch_to
from tests.gui.window_driver import LEFT, set_up_run, start, wait_until_idle


def mapped(qtbot, window):
    switch_to(qtbot, window, window.hidden_map)
    qtbot.waitUntil(lambda: window.hidden_map.coordinates is not None, timeout=10_000)
    return window.hidden_map


def test_the_map_places_the_test_images_by_the_last_hidden_layer(qtbot, window):
    view = mapped(qtbot, window)
    dataset = window.dataset
    assert len(view.coordinates) == len(view.images) == min(2000, len(dataset.test_images))
    np.testing.assert_array_equal(view.images, dataset.test_images[view.indices])
    expected, _ = pca_2d(last_hidden(window.drawing.model, view.images))
    np.testing.assert_allclose(np.abs(view.coordinates), np.abs(expected), rtol=1e-4, atol=1e-4)
    x, y = view.scatter.getData()
    np.testing.assert_allclose(x, view.coordinates[:, 0])
    assert len({brush.color().name() for brush in view.scatter.data["brush"]}) == len(set(view.labels.tolist()))

    point = view.plot.getPlotItem().vb.mapViewToScene(QPointF(*view.coordinates[7]))
    qtbot.mouseClick(view.plot.viewport(), LEFT, pos=view.plot.mapFromScene(point))
    assert "test image #" in window.drawing.prediction.confidence_label.text()


def test_the_map_follows_a_live_run(qtbot, window):
    view = mapped(qtbot, window)
    drawn = []  # (coordinates, whether a run was training then)
    original = view._show
    view._show = lambda coordinates: (drawn.append((coordinates.copy(), window.is_training())), original(coordinates))
    set_up_run(qtbot, window, epochs=1000, batch_size=8, hidden="256,128,64")  # far longer than the test waits
    start(qtbot, window)
    switch_to(qtbot, window, view)  # Start shows the curves; the user comes back to watch the map
    qtbot.waitUntil(lambda: sum(training for _, training in drawn) >= 2, timeout=60_000)
    live = [coordinates for coordinates, training in drawn if training]
    assert not np.allclose(live[0], live[-1]), "the map moved as the model trained"
    qtbot.mouseClick(window.training_panel.stop_button, LEFT)
    wait_until_idle(qtbot, window)
    final, _ = pca_2d(last_hidden(window.drawing.model, view.images))
    qtbot.waitUntil(lambda: np.allclose(np.abs(view.coordinates), np.abs(final), atol=1e-4), timeout=10_000)


def test_tsne_runs_in_the_background_and_can_be_cancelled(qtbot, window, monkeypatch):
    view = mapped(qtbot, window)
    pca = view.coordinates.copy()
    held = threading.Event()  # the t-SNE starts only once Cancel is pressed: no race with the machine's speed
    real_tsne = gui.map_view.tsne_2d
    monkeypatch.setattr(gui.map_view, "tsne_2d", lambda features, progress: (
        held.wait(30), real_tsne(features, progress=progress))[1])
    qtbot.mouseClick(view.tsne_button, LEFT)
    assert view.cancel_button.isVisible() and not view.tsne_button.isEnabled()
    qtbot.mouseClick(view.cancel_button, LEFT)
    held.set()
    qtbot.waitUntil(lambda: view.tsne_button.isEnabled(), timeout=60_000)
    assert view.method == "PCA" and np.array_equal(view.coordinates, pca)
    monkeypatch.setattr(gui.map_view, "tsne_2d", real_tsne)

    qtbot.mouseClick(view.tsne_button, LEFT)
    qtbot.waitUntil(lambda: view.method == "t-SNE", timeout=120_000)
    assert view.coordinates.shape == pca.shape and not np.allclose(view.coordinates, pca)
    assert not view.progress.isVisible() and "t-SNE" in view.caption.text()
    qtbot.mouseClick(view.pca_button, LEFT)
    assert view.method == "PCA"
