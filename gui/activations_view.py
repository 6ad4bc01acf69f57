"""Every layer's units as a strip of cells coloured by how strongly the drawing excites them.

One strip per layer (256, 128, 64 hidden units, then the 10 class probabilities), each unit a
cell as wide as the strip allows, brightness = activation / the layer's largest. Painted by hand:
four strips of at most a few hundred cells are cheaper to paint than four image items, and
a stroke repaints them. Hovering a cell says which unit it is (`hovered`), clicking asks for the
test images that excite it most (`clicked`): the drawing panel answers both.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

STRIP_HEIGHT = 11
GAP = 4
LABEL_WIDTH = 34
HOT = np.array([255, 183, 77], dtype=np.float32)  # the accent of an active unit
COLD = np.array([40, 42, 46], dtype=np.float32)


class ActivationsView(QWidget):
    hovered = Signal(int, int)  # layer (0 = first hidden), unit
    clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.activations: list[np.ndarray] = []
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Each layer's units, brighter where the drawing excites them more. "
                        "Hover a unit to see what feeds it; click it for the test images that excite it most.")
        self._set_layer_count(4)

    def _set_layer_count(self, count: int) -> None:
        self.setFixedHeight(count * (STRIP_HEIGHT + GAP) + GAP)

    def set_activations(self, activations) -> None:
        """Each layer's outputs for one image: hidden ReLU outputs, then the probabilities."""
        self.activations = [np.asarray(layer, dtype=np.float32) for layer in activations]
        if self.activations:
            self._set_layer_count(len(self.activations))
        self.update()

    def clear(self) -> None:
        self.activations = []
        self.update()

    def strip_rect(self, layer: int) -> QRectF:
        top = GAP + layer * (STRIP_HEIGHT + GAP)
        return QRectF(LABEL_WIDTH, top, max(1, self.width() - LABEL_WIDTH - 2), STRIP_HEIGHT)

    def unit_at(self, x: float, y: float) -> tuple[int, int] | None:
        """The (layer, unit) under the widget point (x, y), or None."""
        for layer, values in enumerate(self.activations):
            rect = self.strip_rect(layer)
            if rect.top() <= y < rect.bottom() and rect.left() <= x < rect.right():
                return layer, min(len(values) - 1, int((x - rect.left()) / rect.width() * len(values)))
        return None

    def colours(self, layer: int) -> np.ndarray:
        """(units, 3) uint8: each unit's cell colour."""
        values = self.activations[layer]
        top = float(values.max()) if len(values) else 0.0
        strength = values / top if top > 0 else np.zeros_like(values)
        return np.round(COLD + (HOT - COLD) * np.clip(strength, 0, 1)[:, None]).astype(np.uint8)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(QColor("#a0a4ad"))
        for layer, values in enumerate(self.activations):
            rect = self.strip_rect(layer)
            name = "out" if layer == len(self.activations) - 1 else f"h{layer + 1}"
            painter.drawText(QRectF(0, rect.top() - 2, LABEL_WIDTH - 4, STRIP_HEIGHT + 4),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, name)
            width = rect.width() / len(values)
            for unit, (red, green, blue) in enumerate(self.colours(layer)):
                painter.fillRect(QRectF(rect.left() + unit * width, rect.top(), np.ceil(width), STRIP_HEIGHT),
                                 QColor(int(red), int(green), int(blue)))
        painter.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        found = self.unit_at(event.position().x(), event.position().y())
        if found is not None:
            self.hovered.emit(*found)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        found = self.unit_at(event.position().x(), event.position().y())
        if found is not None and event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(*found)

    def show_tip(self, text: str) -> None:
        QToolTip.showText(self.cursor().pos(), text, self)
