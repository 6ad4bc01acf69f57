"""The first-layer view: draws the mosaic on a symmetric scale, at most 4 times a second, only when visible."""

import time

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QTimer
from PySide6.QtWidgets import QLabel, QTabWidget

from core.analysis.filters import unit_at, weight_mosaic
from gui.filters_view import GAP, MAX_REFRESHES_PER_SECOND, NO_MODEL, FiltersView


def first_layer(seed: int, units: int = 16) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.1, (784, units)).astype(np.float32)


@pytest.fixture
def view(qtbot):
    widget = FiltersView()
    qtbot.addWidget(widget)
    widget.resize(640, 700)
    return widget


@pytest.fixture
def redraws(view, monkeypatch):
    return record_redraws(view, monkeypatch)


def record_redraws(view: FiltersView, monkeypatch) -> list:
    """The mosaics the view hands to its ImageItem, in order (ImageItem's own re-renders, which call
    setImage without an image, are not redraws)."""
    drawn = []
    set_image = view.image_item.setImage

    def recording_set_image(image=None, *args, **kwargs):
        if image is not None:
            drawn.append(image)
        return set_image(image, *args, **kwargs)

    monkeypatch.setattr(view.image_item, "setImage", recording_set_image)
    return drawn


def test_the_image_item_gets_the_mosaic_on_a_symmetric_scale(qtbot, view):
    view.show()
    weights = first_layer(0)
    weights[5, 2] = -0.7
    view.set_weights(weights)
    qtbot.waitUntil(lambda: view.shown_weights is not None, timeout=1000)
    mosaic, limit = weight_mosaic(weights, GAP)
    assert limit == pytest.approx(0.7)
    np.testing.assert_array_equal(view.image_item.image, mosaic)  # NaN gaps included
    np.testing.assert_allclose(view.image_item.getLevels(), (-limit, limit))
    np.testing.assert_allclose(view.color_bar.levels(), (-limit, limit))
    assert view.pages.currentIndex() == 1 and "0.7" in view.readout.text()


def test_ten_quick_updates_are_drawn_at_most_twice_and_the_last_one_wins(qtbot, view, redraws):
    view.show()
    layers = [first_layer(seed) for seed in range(10)]
    for weights in layers:
        view.set_weights(weights)
    qtbot.waitUntil(lambda: view.shown_weights is layers[-1], timeout=5000)
    assert not view._timer.isActive(), "nothing more is pending"
    assert 1 <= len(redraws) <= 2
    np.testing.assert_array_equal(redraws[-1], weight_mosaic(layers[-1], GAP)[0])


def test_a_steady_stream_is_drawn_at_most_four_times_a_second(qtbot, view, redraws):
    """The rate is checked at each redraw, by the time since the one before, so however slow the machine."""
    view.show()
    drawn_at = []
    redraws_before = view.image_item.setImage
    view.image_item.setImage = lambda image=None, *args, **kwargs: (
        drawn_at.append(time.monotonic()) if image is not None else None, redraws_before(image, *args, **kwargs))
    layers = [first_layer(seed) for seed in range(25)]
    fed = []
    feeder = QTimer()
    feeder.timeout.connect(lambda: fed.append(view.set_weights(layers[len(fed)])))
    feeder.start(20)  # one update every 20 ms, or as often as a loaded machine manages
    qtbot.waitUntil(lambda: len(fed) == len(layers), timeout=60_000)
    feeder.stop()
    qtbot.waitUntil(lambda: view.shown_weights is layers[-1], timeout=5000)
    gaps = np.diff(drawn_at)
    assert len(redraws) == len(drawn_at) >= 2  # 25 updates over at least 0.5 s: more than one redraw
    assert gaps.min() >= 0.9 / MAX_REFRESHES_PER_SECOND, gaps  # Qt's coarse timers may fire 5 % early


def test_a_hidden_view_draws_nothing_until_it_is_shown(qtbot, view, redraws):
    view.show()
    view.hide()
    latest = first_layer(2)
    view.set_weights(first_layer(1))
    view.set_weights(latest)
    assert not view._timer.isActive() and redraws == [], "no redraw is even scheduled"
    view.show()
    qtbot.waitUntil(lambda: len(redraws) == 1, timeout=1000)
    assert view.shown_weights is latest


def test_clear_drops_the_model_and_any_pending_weights(qtbot, view, redraws):
    view.show()
    view.set_weights(first_layer(0))
    qtbot.waitUntil(lambda: view.shown_weights is not None, timeout=1000)
    view.set_weights(first_layer(1))
    view.clear()
    assert not view._timer.isActive(), "the pending redraw is cancelled"
    assert len(redraws) == 1
    assert view.shown_weights is None and view.image_item.image is None
    assert view.pages.currentWidget() is view.message and view.message.text() == NO_MODEL


def test_hovering_a_tile_names_its_unit(qtbot, view):
    view.show()
    qtbot.waitExposed(view)
    weights = first_layer(3, units=10)  # 4 columns: unit 6 is row 1, column 2
    view.set_weights(weights)
    qtbot.waitUntil(lambda: view.shown_weights is not None, timeout=1000)
    center = QPointF(2 * (28 + GAP) + 14, 1 * (28 + GAP) + 14)
    point = view.plot.mapFromScene(view.image_item.mapToScene(center))
    qtbot.mouseMove(view.plot.viewport(), point)
    qtbot.waitUntil(lambda: view.hovered_unit == 6, timeout=1000)
    assert view.readout.text().startswith("Unit 6 of 10")
    assert view.hover_outline.isVisible()
    gap = QPointF(1 * (28 + GAP) - 1, 1 * (28 + GAP) + 14)  # between units 4 and 5: unit 6 stays named
    assert unit_at(gap.y(), gap.x(), 10, GAP) is None
    view._on_mouse_moved(view.image_item.mapToScene(gap))  # as the scene reports it (it drops moves within a frame)
    assert view.hovered_unit == 6
    view._on_mouse_moved(view.image_item.mapToScene(QPointF(2 * (28 + GAP) + 14, 14)))
    assert view.hovered_unit == 2 and view.readout.text().startswith("Unit 2 of 10")


def test_in_a_background_tab_it_waits_for_its_tab_to_be_chosen(qtbot, monkeypatch):
    tabs = QTabWidget()
    qtbot.addWidget(tabs)  # the tabs own the view and delete it with them
    view = FiltersView()
    redraws = record_redraws(view, monkeypatch)
    tabs.addTab(QLabel("curves"), "Curves")
    tabs.addTab(view, "First layer")
    tabs.show()
    view.set_weights(first_layer(4))
    assert redraws == [] and not view.isVisible() and not view._timer.isActive()
    tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: len(redraws) == 1, timeout=1000)
