"""A square black canvas on which the mouse or a pen draws white, anti-aliased strokes.

Strokes are kept as point lists in canvas units (0..1), so the drawing survives resizing and
the last stroke can be undone; the picture is re-rendered from them. On screen the pen is as
thick, relative to the canvas, as MNIST's strokes are relative to its 28x28 frame (about 2.5 px
there); the picture handed to the model is rendered with a pen sized to the drawing instead (see
image()), so that a digit drawn small does not reach the model in strokes twice as thick.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPainterPath, QPen, QResizeEvent, QShortcut
from PySide6.QtWidgets import QSizePolicy, QWidget

from core.data.preprocess import model_pen_width
from gui.image_file import qimage_to_gray

PEN_WIDTH = 0.075  # of the canvas side: ~21 px on a 280 px canvas, ~2.1 px once the digit is 28 px
RENDER_SIZE = 280  # the drawing handed to the model is rendered at this size, whatever the widget's
MIN_MODEL_PEN = 0.01  # of the canvas side: the model's pen for a dot or a dash (see image())
LIVE_INTERVAL = 0.08  # seconds between classifications while a stroke is being drawn


class DrawPad(QWidget):
    drawing_changed = Signal(object)  # (RENDER_SIZE, RENDER_SIZE) uint8 array, or None when empty

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.strokes: list[list[QPointF]] = []
        self._drawing = False
        self._last_emit = 0.0
        self._overlay: QImage | None = None  # laid over the strokes (set_overlay)
        self.setMinimumSize(110, 110)  # at 1024x640 the panel below it needs the rest of the height
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_TabletTracking)
        self.setToolTip("Draw a digit with the mouse or a pen.\nEsc or Delete clears, Ctrl+Z undoes the last stroke.")
        for keys, action in ((QKeySequence.StandardKey.Undo, self.undo), (Qt.Key.Key_Escape, self.clear),
                             (Qt.Key.Key_Delete, self.clear)):
            shortcut = QShortcut(QKeySequence(keys), self, action)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def sizeHint(self) -> QSize:
        return QSize(RENDER_SIZE, RENDER_SIZE)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """No taller than wide: the canvas is square, and the height it leaves goes to the panels below it
        (a height-for-width pad took its whole width in height even on a short screen, squeezing them)."""
        super().resizeEvent(event)
        self.setMaximumHeight(max(self.minimumHeight(), event.size().width()))

    # -- what the model sees ----------------------------------------------------------------------
    def is_empty(self) -> bool:
        return not self.strokes

    def image(self, size: int = RENDER_SIZE) -> np.ndarray:
        """The drawing rendered for the model at size x size: uint8, white ink (255) on black (0).

        Its pen is as wide, relative to the drawing's size, as MNIST's strokes are to its digits
        (core/data/preprocess.py, model_pen_width), whatever size the digit was drawn at; the canvas on
        screen keeps the pen the user drew with.
        """
        canvas = QImage(size, size, QImage.Format.Format_Grayscale8)
        canvas.fill(QColor("black"))
        painter = QPainter(canvas)
        self._paint_strokes(painter, size, model_pen_width(self._extent(), MIN_MODEL_PEN))
        painter.end()
        return qimage_to_gray(canvas)

    def _extent(self) -> float:
        """The longer side of the box holding every stroke point, in canvas units."""
        points = [(point.x(), point.y()) for stroke in self.strokes for point in stroke]
        if not points:
            return 0.0
        xs, ys = zip(*points)
        return max(max(xs) - min(xs), max(ys) - min(ys))

    def set_overlay(self, rgba: np.ndarray | None) -> None:
        """Lay (side, side, 4) uint8 colours over the canvas (a saliency map, in image()'s coordinates), or none."""
        if rgba is None:
            self._overlay = None
        else:
            rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
            height, width = rgba.shape[:2]
            self._overlay = QImage(rgba.data, width, height, 4 * width, QImage.Format.Format_RGBA8888).copy()
        self.update()

    @property
    def has_overlay(self) -> bool:
        return self._overlay is not None

    def clear(self) -> None:
        self.strokes.clear()
        self._drawing = False
        self.update()
        self.drawing_changed.emit(None)

    def undo(self) -> None:
        if self.strokes:
            self.strokes.pop()
            self._drawing = False
            self.update()
            self._emit_drawing()

    def _emit_drawing(self) -> None:
        self._last_emit = time.monotonic()
        self.drawing_changed.emit(None if self.is_empty() else self.image())

    # -- geometry ---------------------------------------------------------------------------------
    def _canvas_rect(self) -> QRectF:
        side = min(self.width(), self.height())
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def _to_canvas(self, position: QPointF) -> QPointF:
        rect = self._canvas_rect()
        return QPointF((position.x() - rect.x()) / rect.width(), (position.y() - rect.y()) / rect.height())

    # -- painting ---------------------------------------------------------------------------------
    def _paint_strokes(self, painter: QPainter, side: float, pen_width: float = PEN_WIDTH) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor("white"), pen_width * side, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                   Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        for stroke in self.strokes:
            if len(stroke) == 1:
                painter.drawPoint(stroke[0] * side)
                continue
            path = QPainterPath(stroke[0] * side)
            for point in stroke[1:]:
                path.lineTo(point * side)
            painter.drawPath(path)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        rect = self._canvas_rect()
        painter.fillRect(rect, QColor("black"))
        painter.translate(rect.topLeft())
        self._paint_strokes(painter, rect.width())
        if self._overlay is not None and not self.is_empty():
            painter.drawImage(QRectF(0, 0, rect.width(), rect.height()), self._overlay)
        if self.is_empty():
            painter.setPen(QColor("#666"))
            painter.drawText(QRectF(0, 0, rect.width(), rect.height()), Qt.AlignmentFlag.AlignCenter,
                             "draw a digit here")
        painter.end()

    # -- input ------------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin_stroke(event.position())
        elif event.button() == Qt.MouseButton.RightButton:
            self.undo()

    def mouseMoveEvent(self, event) -> None:
        if self._drawing and event.buttons() & Qt.MouseButton.LeftButton:
            self._extend_stroke(event.position())

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._drawing:
            self._end_stroke()

    def tabletEvent(self, event) -> None:
        kind = event.type()
        if kind == event.Type.TabletPress:
            self._begin_stroke(event.position())
        elif kind == event.Type.TabletMove and self._drawing:
            self._extend_stroke(event.position())
        elif kind == event.Type.TabletRelease and self._drawing:
            self._end_stroke()
        event.accept()

    def _begin_stroke(self, position: QPointF) -> None:
        self._drawing = True
        self.strokes.append([self._to_canvas(position)])
        self.update()

    def _extend_stroke(self, position: QPointF) -> None:
        self.strokes[-1].append(self._to_canvas(position))
        self.update()
        if time.monotonic() - self._last_emit >= LIVE_INTERVAL:
            self._emit_drawing()

    def _end_stroke(self) -> None:
        self._drawing = False
        self.update()
        self._emit_drawing()
