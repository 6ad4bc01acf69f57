"""The window at the smallest screen it is made for (1024x640): the pad's chart keeps its 0-9 axis, and the
confusion matrix writes only the counts that fit their cells, never one over another."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF

from gui.errors_view import SMALLEST_FONT_PX, ConfusionMatrixView, count_font_px
from tests.gui.window_driver import ONE, draw_stroke, on_screen

# a 99 % model's matrix on MNIST's test set: four-digit diagonal counts, one- and two-digit mistakes
CONFUSION = np.diag([977, 1131, 1027, 1005, 974, 881, 951, 1021, 958, 987]) + np.triu(np.eye(10, k=1, dtype=int) * 12)


def glyph_rect(label) -> QRectF:
    """The label's text on screen, without the margin its text document keeps around it."""
    margin = label.textItem.document().documentMargin()
    text = label.textItem
    return text.mapRectToScene(text.boundingRect()).adjusted(margin, margin, -margin, -margin)


def visible_label_rects(matrix: ConfusionMatrixView) -> list[tuple[int, QRectF]]:
    """(cell index, its text's rectangle on screen) for every count written in the matrix."""
    return [(index, glyph_rect(label)) for index, label in enumerate(matrix._labels) if label.isVisible()]


@pytest.mark.parametrize("size", [(300, 200), (440, 240), (700, 500)])
def test_confusion_counts_never_overlap_and_stay_in_their_cells(qtbot, size):
    matrix = on_screen(qtbot, ConfusionMatrixView(), *size)
    matrix.set_confusion(CONFUSION, tuple(str(k) for k in range(10)))
    qtbot.waitUntil(lambda: matrix._cell_px > 0, timeout=2000)
    view = matrix.getViewBox()
    rects = visible_label_rects(matrix)
    for index, text in rects:
        row, col = divmod(index, 10)
        cell = view.mapViewToScene(QRectF(col, row, 1, 1)).boundingRect()
        assert cell.adjusted(-1, -1, 1, 1).contains(text), (index, size)
    text_rects = [rect for _, rect in rects]
    for first in range(len(text_rects)):
        for second in range(first + 1, len(text_rects)):
            assert not text_rects[first].intersects(text_rects[second]), (rects[first][0], rects[second][0], size)
    written = {index for index, _ in rects}
    expected_shown = [index for index in range(100) if CONFUSION.flat[index] > 0
                      and count_font_px(matrix._cell_px, len(str(CONFUSION.flat[index])))]
    assert sorted(written) == expected_shown and written, "the counts that fit are written"


def test_the_font_shrinks_with_the_cell_and_a_count_too_wide_is_left_out():
    assert count_font_px(30, 1) == 13 and count_font_px(30, 4) == 10
    assert count_font_px(14, 2) >= SMALLEST_FONT_PX and count_font_px(14, 4) == 0
    assert count_font_px(5, 1) == 0


@pytest.mark.parametrize("size", [(1024, 640), (1280, 800), (1920, 1080)])
def test_the_pads_chart_keeps_its_axis_at_every_screen_size(qtbot, window, size):
    window.resize(*size)
    drawing = window.drawing
    draw_stroke(qtbot, drawing.pad, ONE)
    qtbot.waitUntil(lambda: drawing.prediction.predicted_index is not None, timeout=5000)
    prediction, activations = drawing.prediction, drawing.activations
    qtbot.waitUntil(lambda: prediction.height() >= prediction.minimumSizeHint().height(), timeout=2000)
    assert prediction.geometry().bottom() < activations.geometry().top(), "the inside view covers the chart"
    chart = prediction.chart
    assert chart.geometry().bottom() <= prediction.height(), "the chart's 0-9 axis is cut off"
    axis = chart.getAxis("bottom")
    assert axis.isVisible() and axis.mapRectToScene(axis.boundingRect()).bottom() <= chart.height() + 1
    assert drawing.pad.height() <= drawing.pad.width(), "the square canvas leaves its extra height to the panels below"
    assert drawing.pad.height() >= drawing.pad.minimumHeight()
