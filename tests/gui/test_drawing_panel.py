"""Drawing on the pad with the mouse: classified as drawn, cleared with the button or Esc, undone with Ctrl+Z."""

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from core.analysis.explain import layer_activations
from core.data.preprocess import to_mnist
from core.engine.network import MLP
from gui.drawing_panel import DrawingPanel
from tests.gui.pixels import correlation, image_28x28
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
    assert pixmap.width() == pixmap.height() > 28
    assert correlation(image_28x28(pixmap), drawing.model_input) > 0.95, "the preview shows what the model reads"


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


@pytest.mark.parametrize("kernel_threads", [None, 1])
def test_a_drawing_is_read_with_blas_on_one_thread(qtbot, drawing, monkeypatch, kernel_threads):
    """A reading is a few small products: BLAS's second thread only waits for a core when the
    machine is busy (70 ms a reading against 3 ms on one thread, beside one CPU-bound process);
    also where numba runs on one thread (or not at all), which leaves BLAS its threads elsewhere."""
    threadpoolctl = pytest.importorskip("threadpoolctl", reason="without threadpoolctl BLAS keeps its threads")
    from core.compiled import kernels
    if kernel_threads is not None:
        monkeypatch.setattr(kernels, "kernel_threads", lambda: kernel_threads)
    controller = threadpoolctl.ThreadpoolController()
    blas = [library for library in controller.lib_controllers if library.user_api == "blas"]
    if not blas or max(library.num_threads for library in blas) < 2:
        pytest.skip("BLAS has one thread here anyway")
    import gui.drawing_panel as panel_module
    seen = []
    real_explain = panel_module.explain

    def watched(*args, **kwargs):
        seen.append(max(library.num_threads for library in controller.lib_controllers if library.user_api == "blas"))
        return real_explain(*args, **kwargs)

    monkeypatch.setattr(panel_module, "explain", watched)
    draw_stroke(qtbot, drawing.pad, ONE)
    assert seen and set(seen) == {1}
    assert max(library.num_threads for library in controller.lib_controllers if library.user_api == "blas") >= 2


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
    panel.set_model(model, tuple("abcdefghij"), "a test model")
    assert panel.model_label.text() == "Model: a test model"
    assert_shows_a_prediction(panel)
    assert panel.prediction.top_label.text() in "abcdefghij"
    expected = model.predict_proba(to_mnist(panel.pad.image())[None])[0]
    np.testing.assert_allclose(panel.prediction.probabilities, expected, rtol=1e-6)


def preview_colours(drawing: DrawingPanel) -> np.ndarray:
    """The preview's pixels (H, W, 3) as the user sees them."""
    image = drawing.prediction.preview.pixmap().toImage().convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(height, image.bytesPerLine())
    return rows[:, :3 * width].reshape(height, width, 3).copy()  # a copy: the buffer dies with `image`


def test_every_layer_lights_up_with_the_drawing_and_the_preview_shows_why(qtbot, drawing):
    draw_stroke(qtbot, drawing.pad, SEVEN_TOP)
    draw_stroke(qtbot, drawing.pad, SEVEN_LEG)
    strips = drawing.activations.activations
    assert [len(layer) for layer in strips] == [256, 128, 64, 10]
    np.testing.assert_allclose(strips[-1], drawing.prediction.probabilities, rtol=1e-5)
    assert all(layer.max() > 0 for layer in strips[:-1])

    colours = preview_colours(drawing)  # "Why this?" (the answer) by default: red where ink makes it a 7
    red = (colours[..., 0].astype(int) - colours[..., 2] > 80).sum()
    assert red > 0
    prediction = drawing.prediction
    prediction.why_box.setCurrentIndex(0)  # off: the plain gray image
    gray = preview_colours(drawing)
    assert (gray[..., 0] == gray[..., 2]).all()
    why_not_three = prediction.why_box.findText("Why (not) 3?")
    prediction.why_box.setCurrentIndex(why_not_three)
    assert not np.array_equal(preview_colours(drawing), colours), "another class, another map"
    assert prediction.predicted_index == 7, "asking why not 3 does not change the answer"


def pad_colours(drawing: DrawingPanel) -> np.ndarray:
    """The pad's canvas (H, W, 3) as the user sees it."""
    image = drawing.pad.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(height, image.bytesPerLine())
    return rows[:, :3 * width].reshape(height, width, 3).copy()


def test_the_saliency_lies_faintly_on_the_pad_over_the_strokes_it_is_about(qtbot, drawing):
    draw_stroke(qtbot, drawing.pad, SEVEN_TOP)
    draw_stroke(qtbot, drawing.pad, SEVEN_LEG)
    assert drawing.pad.has_overlay  # "Why this?" by default
    tinted = pad_colours(drawing)
    coloured = np.abs(tinted[..., 0].astype(int) - tinted[..., 2]) > 40
    assert coloured.sum() > 200
    white = (tinted.min(axis=2) > 200).sum()
    assert white > 200, "faint: the strokes stay readable under it"
    drawing.prediction.why_box.setCurrentIndex(0)  # off: the strokes alone, white on black
    assert not drawing.pad.has_overlay
    plain = pad_colours(drawing)
    assert (np.abs(plain[..., 0].astype(int) - plain[..., 2]) <= 2).all()
    # the colour sits where the ink is: most tinted pixels are on or next to a stroke
    ink = plain.min(axis=2) > 60
    near_ink = ink | np.roll(ink, 8, 0) | np.roll(ink, -8, 0) | np.roll(ink, 8, 1) | np.roll(ink, -8, 1)
    assert (coloured & near_ink).sum() > 0.8 * coloured.sum()
    drawing.prediction.why_box.setCurrentIndex(1)
    assert drawing.pad.has_overlay
    drawing.clear_button.click()
    assert not drawing.pad.has_overlay


def unit_point(strips, layer: int, unit: int) -> QPoint:
    rect = strips.strip_rect(layer)
    units = len(strips.activations[layer])
    return QPoint(int(rect.left() + (unit + 0.5) * rect.width() / units), int(rect.center().y()))


def hover(qtbot, strips, layer: int, unit: int) -> None:
    """The mouse onto a unit's cell (from the strip's corner first: Qt sends no move before an enter)."""
    qtbot.mouseMove(strips, QPoint(1, 1))
    qtbot.mouseMove(strips, unit_point(strips, layer, unit))


def test_hovering_a_unit_says_what_feeds_it_and_a_click_lists_its_test_images(qtbot, make_window, tiny_dataset_dir):
    window = make_window(data_dir=tiny_dataset_dir)  # not the real MNIST: this test must run without it
    drawing = window.drawing
    draw_stroke(qtbot, drawing.pad, ONE)
    strips = drawing.activations
    before = preview_colours(drawing)
    hover(qtbot, strips, 0, 0)
    qtbot.waitUntil(lambda: "layer 1, unit 0:" in drawing.model_label.text(), timeout=2000)
    assert not np.array_equal(preview_colours(drawing), before), "the unit's weights take the preview's place"
    hover(qtbot, strips, 2, 63)
    qtbot.waitUntil(lambda: "layer 3, unit 63:" in drawing.model_label.text(), timeout=2000)
    assert "strongest inputs: h2[" in drawing.model_label.text()
    hover(qtbot, strips, 3, 1)
    qtbot.waitUntil(lambda: drawing.model_label.text().startswith("output 1: probability"), timeout=2000)
    QApplication.sendEvent(strips, QEvent(QEvent.Type.Leave))
    assert drawing.model_label.text().startswith("Model: bundled pretrained model")
    np.testing.assert_array_equal(preview_colours(drawing), before)

    qtbot.mouseClick(strips, LEFT, pos=unit_point(strips, 0, 5))
    assert "Evaluate" in window.statusBar().currentMessage(), "no test images scored yet"
    window.tabs.setCurrentWidget(window.errors)
    qtbot.waitUntil(lambda: window.errors.evaluation is not None, timeout=10_000)
    window.tabs.setCurrentIndex(0)
    qtbot.mouseClick(strips, LEFT, pos=unit_point(strips, 0, 5))
    assert window.tabs.currentWidget() is window.errors
    assert "unit 5" in window.errors.gallery.title.text()
    qtbot.waitUntil(lambda: not window.errors.gallery.is_filling(), timeout=5000)
    shown = window.errors.gallery.displayed_indices()
    assert len(shown) == 24
    images = window.errors.images.astype(np.float32) / 255
    activation = layer_activations(drawing.model, images)[0][:, 5]
    assert activation[shown].min() >= np.sort(activation)[-24] - 1e-6
