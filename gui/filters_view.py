"""What the first layer learned: every first-layer unit's 784 weights drawn as a 28x28 tile.

During training the window hands over new weights about 4 times a second; the view keeps only
the latest and redraws at most MAX_REFRESHES_PER_SECOND times a second, and not at all while it
is hidden (another tab is showing): it then draws the latest weights when it is shown again.
The weights are the current model's (gui/current_model.py), a private copy nobody trains, so the
view never reads an array being trained; in the window the view follows that model by itself.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QGraphicsRectItem, QLabel, QStackedLayout, QVBoxLayout, QWidget

from core.analysis.filters import unit_at, weight_mosaic
from core.analysis.mosaic import square_columns
from core.data.dataset import IMAGE_SHAPE
from gui.current_model import CurrentModel
from gui.image_plot import image_plot

MAX_REFRESHES_PER_SECOND = 4
ACCENT = "#4fc3f7"
# colorcet's blue-white-red: zero is white, so the faint weights most units have still show their sign
# (blue-black-red maps drown them in the dark background at a max |w| scale).
COLOR_MAP = "CET-D1A"
GAP = 2  # pixels between tiles: dark lines that keep neighbouring tiles apart
CAPTION = ("<b>What the first layer learned.</b> Each tile is one first-layer unit: its 784 incoming "
           "weights drawn as a 28x28 image, each weight where its pixel lies. "
           "<span style='color:#ef5350'>Red</span>: ink there excites the unit; "
           "<span style='color:#7986ff'>blue</span>: ink there inhibits it; white: no effect. One colour "
           "scale for all tiles. Pixels blank in every training image (MNIST's border) never move their "
           "weights: those keep their random start.")
NO_MODEL = "No model yet: train one or load one, and its first layer shows here."


class FiltersView(QWidget):
    """The first layer's weights as a mosaic of tiles with a shared, symmetric colour bar."""

    def __init__(self, current: CurrentModel | None = None, parent: QWidget | None = None) -> None:
        """`current`: the model whose first layer to show as it changes (or none: `set_weights` by hand)."""
        super().__init__(parent)
        self.current = current
        self.shown_weights: np.ndarray | None = None  # the (784, n) weights on screen
        self.limit = 1.0  # the colour scale on screen is [-limit, +limit]
        self.hovered_unit: int | None = None
        self._pending: np.ndarray | None = None  # the latest weights not drawn yet
        self._last_draw = -np.inf  # time.monotonic() of the last redraw
        self._mosaic_shape: tuple[int, int] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._draw_pending)

        self.caption = QLabel(CAPTION)
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.plot, self.image_item = image_plot()
        plot_item = self.plot.getPlotItem()
        self.color_bar = pg.ColorBarItem(values=(-1.0, 1.0), colorMap=COLOR_MAP, interactive=False, width=14,
                                         label="weight", colorMapMenu=False)
        self.color_bar.setImageItem(self.image_item, insert_in=plot_item)
        self.hover_outline = QGraphicsRectItem()  # around the tile under the mouse
        self.hover_outline.setPen(pg.mkPen(ACCENT, width=2, cosmetic=True))
        self.hover_outline.setVisible(False)
        plot_item.addItem(self.hover_outline, ignoreBounds=True)
        self.readout = QLabel()
        self.readout.setObjectName("readout")
        self.message = QLabel(NO_MODEL)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)

        chart = QWidget()
        chart_layout = QVBoxLayout(chart)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        chart_layout.addWidget(self.caption)
        chart_layout.addWidget(self.plot, 1)
        chart_layout.addWidget(self.readout)
        self.pages = QStackedLayout(self)
        self.pages.addWidget(self.message)
        self.pages.addWidget(chart)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.clear()
        if current is not None:
            current.changed.connect(self._on_model_changed)

    def _on_model_changed(self) -> None:
        if self.current.model is None:
            self.clear()
        else:
            self.set_weights(self.current.model.weights[0])

    # -- data -----------------------------------------------------------------------------------
    def set_weights(self, first_layer: np.ndarray) -> None:
        """Show W1 (784, n), a private copy the view keeps; drawn within 1/MAX_REFRESHES_PER_SECOND s
        if the view is visible, else when it is shown. Only the latest of quick successive calls is drawn."""
        self._pending = first_layer
        if self.isVisible():
            self._schedule()

    def clear(self) -> None:
        """No model: drop any weights, shown or pending, and say so."""
        self._timer.stop()
        self._pending = None
        self.shown_weights = None
        self.hovered_unit = None
        self.hover_outline.setVisible(False)
        self._mosaic_shape = None
        self.image_item.clear()
        self.readout.clear()
        self.pages.setCurrentWidget(self.message)

    # -- drawing --------------------------------------------------------------------------------
    def _schedule(self) -> None:
        if self._timer.isActive():
            return  # the coming redraw will pick up the latest weights
        since_last = time.monotonic() - self._last_draw
        wait = max(0.0, 1.0 / MAX_REFRESHES_PER_SECOND - since_last)
        self._timer.start(int(np.ceil(wait * 1000)))

    def _draw_pending(self) -> None:
        if self._pending is None or not self.isVisible():
            return
        weights, self._pending = self._pending, None
        mosaic, limit = weight_mosaic(weights, GAP)
        self.image_item.setImage(mosaic, levels=(-limit, limit))
        self.color_bar.setLevels((-limit, limit))
        self.shown_weights, self.limit = weights, limit
        self._last_draw = time.monotonic()
        self.pages.setCurrentIndex(1)
        if mosaic.shape != self._mosaic_shape:  # keep the user's zoom while the same model trains
            self._mosaic_shape = mosaic.shape
            self.hovered_unit = None
            self.hover_outline.setVisible(False)
            self.plot.getPlotItem().autoRange(padding=0.01)
        self._update_readout()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._pending is not None:
            self._schedule()

    # -- hover readout ----------------------------------------------------------------------------
    def _on_mouse_moved(self, scene_position: QPointF) -> None:
        if self.shown_weights is None:
            return
        position = self.image_item.mapFromScene(scene_position)
        unit = unit_at(position.y(), position.x(), self.shown_weights.shape[1], GAP)
        if unit is None or unit == self.hovered_unit:
            return  # over a gap the last tile stays named, so the readout does not flicker between tiles
        self.hovered_unit = unit
        self._outline_tile(unit)
        self._update_readout()

    def _outline_tile(self, unit: int) -> None:
        row, column = divmod(unit, square_columns(self.shown_weights.shape[1]))
        height, width = IMAGE_SHAPE
        # The image item sits at the origin unscaled, so mosaic pixels are view coordinates.
        self.hover_outline.setRect(column * (width + GAP) - 0.5, row * (height + GAP) - 0.5, width + 1, height + 1)
        self.hover_outline.setVisible(True)

    def _update_readout(self) -> None:
        if self.shown_weights is None:
            return
        unit_count = self.shown_weights.shape[1]
        scale = f"colour scale ±{self.limit:.3g}"
        if self.hovered_unit is None:
            self.readout.setText(f"{unit_count} units, {scale}. Hover over a tile to see which unit it is.")
            return
        weights = self.shown_weights[:, self.hovered_unit]
        weights = weights[np.isfinite(weights)]
        spread = f"weights from {weights.min():+.3f} to {weights.max():+.3f}" if weights.size else "no finite weight"
        self.readout.setText(f"Unit {self.hovered_unit} of {unit_count} (counting from 0): {spread}, {scale}")
