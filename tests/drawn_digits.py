"""The drawn-digit check: MNIST test digits drawn again, as pen strokes, on the app's real pad.

Each digit's skeleton strokes (core/data/digit_strokes.py) are scaled so that its ink is 90-230 px high
on the 280-px pad (less for a digit that would then be wider than the pad), put at a random place
where it fits, and replayed as mouse presses, moves and releases sent to the DrawPad of a
DrawingPanel; what the panel then makes of the drawing (the app's own to_mnist) is what the model
reads. The figure is the accuracy on these drawings beside the raw test accuracy of the same
digits, overall and by the ink's height. Used by tests/gui/test_drawn_digits.py (a small seeded
sample) and bench/bench_drawn.py (more digits).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from core.data.digit_strokes import arc_lengths, digit_strokes, place_strokes
from core.engine.network import MLP
from gui.draw_pad import PEN_WIDTH, RENDER_SIZE
from gui.drawing_panel import DrawingPanel

SIZES = (90, 230)  # ink height on the pad, px
BUCKETS = ((90, 125), (125, 160), (160, 195), (195, 231))  # by ink height, px
STEP = 4.0  # px between the mouse positions of a stroke, about what a mouse reports at drawing speed


@dataclass(frozen=True)
class DrawnDigits:
    """For each digit drawn: its test index, ink height on the pad, the model's verdicts and the image."""

    indices: np.ndarray
    ink_heights: np.ndarray
    drawn_right: np.ndarray  # bool: the drawing read as its label
    raw_right: np.ndarray  # bool: the test image itself read as its label
    images: np.ndarray  # (N, 28, 28) float32: what the app made of each drawing
    drawn_read: np.ndarray  # the class each drawing was read as

    def read_by(self, model: MLP, images: np.ndarray, labels: np.ndarray) -> DrawnDigits:
        """The same drawings read by another model (what the pad makes of a drawing does not depend
        on the model): comparing models on them costs no drawing."""
        drawn = model.predict(self.images.reshape(len(self.images), -1))
        raw_right = model.predict(images[self.indices]) == labels[self.indices]
        return DrawnDigits(self.indices, self.ink_heights, drawn == labels[self.indices], raw_right, self.images,
                           drawn)

    def flips(self, labels: np.ndarray) -> list[tuple[int, int, int, float]]:
        """(test index, label, read as, ink height) of each digit whose test image read right and
        whose drawing did not: where the drawn path loses (`labels`: the test set's)."""
        lost = np.flatnonzero(self.raw_right & ~self.drawn_right)
        return [(int(self.indices[k]), int(labels[self.indices[k]]), int(self.drawn_read[k]),
                 float(self.ink_heights[k])) for k in lost]

    def rows(self) -> list[tuple[str, int, float, float]]:
        """(bucket, digits, drawn accuracy, raw accuracy) overall, then for each ink-height bucket."""
        rows = [("all", len(self.indices), self.drawn_right.mean(), self.raw_right.mean())]
        for low, high in BUCKETS:
            chosen = (self.ink_heights >= low) & (self.ink_heights < high)
            if chosen.any():
                rows.append((f"{low}-{min(high, SIZES[1] + 1) - 1} px", int(chosen.sum()),
                             self.drawn_right[chosen].mean(), self.raw_right[chosen].mean()))
        return rows


def replay(panel: DrawingPanel, strokes: list[np.ndarray]) -> None:
    """Draw `strokes` ((K, 2) (x, y) pad pixels) on the panel's pad with mouse events, after clearing it."""
    pad = panel.pad
    pad.clear()
    for stroke in strokes:
        points = _resampled(stroke)
        _send(pad, QEvent.Type.MouseButtonPress, points[0], Qt.MouseButton.LeftButton)
        for point in points[1:]:
            _send(pad, QEvent.Type.MouseMove, point, Qt.MouseButton.NoButton)
        _send(pad, QEvent.Type.MouseButtonRelease, points[-1], Qt.MouseButton.LeftButton)


def _resampled(stroke: np.ndarray) -> np.ndarray:
    """Points along `stroke` about STEP apart (a mouse reports positions, not the path between them)."""
    if len(stroke) < 2:
        return stroke
    lengths = arc_lengths(stroke)
    count = max(2, int(np.ceil(lengths[-1] / STEP)) + 1)
    at = np.linspace(0.0, lengths[-1], count)
    return np.stack([np.interp(at, lengths, stroke[:, 0]), np.interp(at, lengths, stroke[:, 1])], axis=1)


def _send(pad, kind: QEvent.Type, point: np.ndarray, button: Qt.MouseButton) -> None:
    position = QPointF(float(point[0]), float(point[1]))
    held = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else Qt.MouseButton.LeftButton
    event = QMouseEvent(kind, position, pad.mapToGlobal(position), button, held, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(pad, event)


def place_on_pad(strokes: list[np.ndarray], rng: np.random.Generator) -> tuple[list[np.ndarray], float]:
    """`strokes` (digit_strokes') placed on the pad as the check draws them, and their ink's height.

    The ink is SIZES high, drawn with `rng`, unless the digit is then wider than the pad: such a
    digit (a wide 0, 2 or slanted 9 drawn 200 px high: 13 or 14 in 2000) is made as high as fits
    the pad's width instead, as a person would draw it, not cut off at the pad's sides. Its place is
    drawn at random where the whole ink, pen included, fits.
    """
    pen = PEN_WIDTH * RENDER_SIZE
    height = rng.uniform(*SIZES)
    points = np.concatenate(strokes)
    aspect = np.ptp(points[:, 1]) / max(np.ptp(points[:, 0]), 1.0)
    width = (height - pen) * aspect + pen
    if width > RENDER_SIZE:
        height, width = (RENDER_SIZE - pen) / aspect + pen, RENDER_SIZE
    margin_x, margin_y = (RENDER_SIZE - width) / 2, (RENDER_SIZE - height) / 2
    middle = RENDER_SIZE / 2
    center = (middle + rng.uniform(-margin_y, margin_y), middle + rng.uniform(-margin_x, margin_x))
    return place_strokes(strokes, height, pen, center), height


def draw_test_digits(panel: DrawingPanel, model: MLP, images: np.ndarray, labels: np.ndarray, count: int,
                     seed: int) -> DrawnDigits:
    """Draw `count` test digits chosen with `seed` on `panel` (a shown 280x280 pad) and score them."""
    rng = np.random.default_rng(seed)
    indices, heights, drawn, pictures = [], [], [], []
    for index in rng.permutation(len(images)):
        if len(indices) == count:
            break
        strokes = digit_strokes(images[index])
        if not strokes:
            continue
        placed, height = place_on_pad(strokes, rng)
        replay(panel, placed)
        picture = panel.model_input
        if picture is None:
            continue
        indices.append(index)
        heights.append(height)
        drawn.append(int(model.predict_proba(picture[None])[0].argmax()))
        pictures.append(picture)
    indices, drawn = np.array(indices), np.array(drawn)
    raw_right = model.predict(images[indices]) == labels[indices]
    return DrawnDigits(indices, np.array(heights), drawn == labels[indices], raw_right, np.stack(pictures), drawn)


def make_panel(model: MLP) -> DrawingPanel:
    """A DrawingPanel with its pad exactly RENDER_SIZE px square, shown (offscreen) and using `model`."""
    panel = DrawingPanel()
    panel.set_model(model, tuple(str(d) for d in range(10)), "drawn-digit check")
    panel.show()
    panel.pad.setFixedSize(RENDER_SIZE, RENDER_SIZE)
    QApplication.processEvents()
    return panel


def format_table(result: DrawnDigits) -> str:
    lines = [f"{'ink height':>12} {'digits':>7} {'drawn':>8} {'raw':>8} {'loss (pp)':>10}"]
    for name, digits, drawn, raw in result.rows():
        lines.append(f"{name:>12} {digits:>7} {drawn:>8.2%} {raw:>8.2%} {100 * (raw - drawn):>10.2f}")
    return "\n".join(lines)
