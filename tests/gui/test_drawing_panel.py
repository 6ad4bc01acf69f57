"""Drawing on the pad with the mouse: classified as drawn, cleared with the button or Esc, undone with Ctrl+Z."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.network import MLP
from core.preprocess import to_mnist
from gui.drawing_panel import DrawingPanel
from tests.gui.window_driver import CTRL, LEFT, ONE, SEVEN_LEG, SEVEN_TOP, canvas_point, draw_stroke, line, on_screen


@pytest.fixture
def drawing(make_window):
    """The drawing panel of a window holding the bundled model, with the pad focused."""
    window = make_window()
    window.drawing.pad.setFocus()
    return window.drawing


def assert_shows_a_prediction(drawing: DrawingPanel) -> None:
    view = drawing.prediction
    assert view.predicted_index is not None
    heights = np.asarray(view.bars.opts["height"], dtype=float)
    assert heights.shape == (10,)
    assert heights.sum() == pytest.approx(1.0, abs=1e-5) and heights.min() >= 0
    assert int(heights.argmax()) == view.predicted_index
    assert view.top_label.text() == view.class_names[view.predicted_index]
    assert view.confidence_label.text().endswith("sure")
    pixmap = view.preview.pixmap()
    assert pixmap is not None and not pixmap.isNull() and pixmap.width() == pixmap.height() > 28


def assert_shows_nothing(drawing: DrawingPanel) -> None:
    view = drawing.prediction
    assert view.predicted_index is None
    assert not np.asarray(view.bars.opts["height"], dtype=float).any()
    assert view.preview.pixmap() is None or view.preview.pixmap().isNull()
    assert view.top_label.text() == "–"


def test_a_stroke_is_classified_by_the_bundled_model(qtbot, drawing):
    assert_shows_nothing(drawing)
    draw_stroke(qtbot, drawing.pad, ONE)
    assert len(drawing.pad.strokes) == 1 and len(drawing.pad.strokes[0]) == len(ONE)
    assert_shows_a_prediction(drawing)
    assert drawing.prediction.predicted_index == 1
    assert drawing.prediction.probabilities[1] > 0.5


def test_two_strokes_make_a_seven(qtbot, drawing):
    draw_stroke(qtbot, drawing.pad, SEVEN_TOP)
    draw_stroke(qtbot, drawing.pad, SEVEN_LEG)
    assert len(drawing.pad.strokes) == 2
    assert_shows_a_prediction(drawing)
    assert drawing.prediction.predicted_index == 7


def test_the_drawing_is_classified_while_the_stroke_is_drawn(qtbot, drawing):
    pad = drawing.pad
    qtbot.mousePress(pad, LEFT, pos=canvas_point(pad, *ONE[0]))
    for point in ONE[1:]:
        qtbot.mouseMove(pad, canvas_point(pad, *point))
    qtbot.waitUntil(lambda: drawing.prediction.predicted_index is not None, timeout=2000)
    assert pad.strokes and pad._drawing  # the button is still down
    qtbot.mouseRelease(pad, LEFT, pos=canvas_point(pad, *ONE[-1]))
    assert_shows_a_prediction(drawing)


def test_moving_without_the_button_down_draws_nothing(qtbot, drawing):
    pad = drawing.pad
    for point in ONE:
        qtbot.mouseMove(pad, canvas_point(pad, *point))
    assert pad.strokes == [] and pad.is_empty()
    assert_shows_nothing(drawing)


def test_the_clear_button_removes_the_drawing_and_its_prediction(qtbot, drawing):
    draw_stroke(qtbot, drawing.pad, ONE)
    assert_shows_a_prediction(drawing)
    qtbot.mouseClick(drawing.clear_button, LEFT)
    assert drawing.pad.strokes == []
    assert not drawing.pad.image().any(), "the canvas is black again"
    assert_shows_nothing(drawing)


@pytest.mark.parametrize("key", [Qt.Key.Key_Escape, Qt.Key.Key_Delete])
def test_esc_and_delete_clear_the_pad(qtbot, drawing, key):
    draw_stroke(qtbot, drawing.pad, SEVEN_TOP)
    draw_stroke(qtbot, drawing.pad, SEVEN_LEG)
    qtbot.keyClick(drawing.pad, key)
    assert drawing.pad.strokes == []
    assert_shows_nothing(drawing)


def test_ctrl_z_undoes_the_last_stroke(qtbot, drawing):
    pad = drawing.pad
    draw_stroke(qtbot, pad, SEVEN_TOP)
    one_stroke = pad.image()
    draw_stroke(qtbot, pad, SEVEN_LEG)
    assert len(pad.strokes) == 2
    qtbot.keyClick(pad, Qt.Key.Key_Z, CTRL)
    assert len(pad.strokes) == 1
    np.testing.assert_array_equal(pad.image(), one_stroke)
    assert_shows_a_prediction(drawing)  # the bar that is left is classified anew
    qtbot.keyClick(pad, Qt.Key.Key_Z, CTRL)
    assert pad.strokes == []
    assert_shows_nothing(drawing)
    qtbot.keyClick(pad, Qt.Key.Key_Z, CTRL)  # nothing left to undo: no harm
    assert pad.strokes == []


def test_the_undo_button_and_a_right_click_undo_too(qtbot, drawing):
    pad = drawing.pad
    draw_stroke(qtbot, pad, SEVEN_TOP)
    draw_stroke(qtbot, pad, SEVEN_LEG)
    qtbot.mouseClick(drawing.undo_button, LEFT)
    assert len(pad.strokes) == 1
    qtbot.mouseClick(pad, Qt.MouseButton.RightButton, pos=canvas_point(pad, 0.5, 0.5))
    assert pad.strokes == []
    assert_shows_nothing(drawing)


def test_the_drawing_is_kept_in_canvas_units_when_the_pad_is_resized(qtbot, drawing):
    pad = drawing.pad
    draw_stroke(qtbot, pad, ONE)
    before = pad.image()
    pad.resize(pad.width() + 120, pad.height() + 120)
    np.testing.assert_array_equal(pad.image(), before)
    for point, expected in zip(pad.strokes[0], ONE):
        assert point.x() == pytest.approx(expected[0], abs=0.01) and point.y() == pytest.approx(expected[1], abs=0.01)


def test_without_a_model_the_prediction_says_so(qtbot, make_window):
    window = make_window(with_pretrained=False)
    window.drawing.pad.setFocus()
    draw_stroke(qtbot, window.drawing.pad, ONE)
    assert window.drawing.prediction.predicted_index is None
    assert "no model" in window.drawing.prediction.confidence_label.text()


def test_a_new_model_reclassifies_the_drawing_on_the_pad(qtbot):
    panel = on_screen(qtbot, DrawingPanel(), 400, 700)
    draw_stroke(qtbot, panel.pad, line((0.2, 0.5), (0.8, 0.5)))
    assert panel.prediction.predicted_index is None
    model = MLP.initialized((784, 16, 10), seed=3)
    panel.set_model(model, tuple("abcdefghij"), "Model: a test model")
    assert panel.model_label.text() == "Model: a test model"
    assert_shows_a_prediction(panel)
    assert panel.prediction.top_label.text() in "abcdefghij"
    expected = model.predict_proba(to_mnist(panel.pad.image())[None])[0]
    np.testing.assert_allclose(panel.prediction.probabilities, expected, rtol=1e-6)
