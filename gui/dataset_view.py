"""The dataset at a glance: how balanced its classes are, and its training images, page by page.

The images of a page are drawn as one mosaic (one ImageItem), not a hundred widgets; a click is
mapped back to the tile under it, and the image chosen there is handed on with its label (the
window can show what the model makes of it). Works for any IDX dataset: the axis and the class
list use the dataset's own class names (digits, or Fashion-MNIST's clothes).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QStackedLayout, QVBoxLayout, QWidget

from core.analysis.mosaic import tile_at, tile_mosaic
from core.data.dataset import IMAGE_SHAPE, Dataset
from core.data.dataset_stats import class_counts, class_indices, page_count
from gui.image_plot import image_plot
from gui.theme import BASE

TRAIN_COLOR = "#4fc3f7"
TEST_COLOR = "#ffb74d"
DIMMED_ALPHA = 70  # bars of the classes not chosen, when one is
BAR_WIDTH = 0.38
COLUMNS = ROWS = 10
IMAGES_PER_PAGE = COLUMNS * ROWS
GAP = 2  # pixels between images, so black backgrounds of neighbours do not merge
NO_DATASET = "Load a dataset (start a run, or choose a folder)"
ALL_CLASSES = "all classes"


class DatasetView(QWidget):
    """Class balance of train and test as bars; below, the training images of one class (or all), 100 a page."""

    image_chosen = Signal(object, int)  # a (28, 28) uint8 training image, its label

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self.chosen_class: int | None = None  # None: all classes
        self.indices = np.arange(0)  # positions in the training set of the images being browsed
        self.page = 0
        self.train_counts = np.zeros(0, dtype=np.int64)
        self.test_counts = np.zeros(0, dtype=np.int64)

        self.message = QLabel(NO_DATASET)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self._build_balance_chart()
        self._build_browser()
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.balance_plot, 2)
        layout.addWidget(self.balance_readout)
        layout.addLayout(self._controls_row())
        layout.addWidget(self.mosaic_plot, 5)
        layout.addWidget(self.mosaic_readout)
        self.pages = QStackedLayout(self)
        self.pages.addWidget(self.message)
        self.pages.addWidget(content)
        for key, action in ((Qt.Key.Key_PageDown, self.next_page), (Qt.Key.Key_PageUp, self.previous_page)):
            shortcut = QShortcut(QKeySequence(key), self, action)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.set_dataset(None)

    # -- construction -----------------------------------------------------------------------------
    def _build_balance_chart(self) -> None:
        self.balance_plot = pg.PlotWidget()
        self.balance_plot.setBackground(BASE)
        self.balance_plot.setMouseEnabled(x=False, y=False)
        self.balance_plot.getPlotItem().setMenuEnabled(False)
        self.balance_plot.hideButtons()
        self.balance_plot.setMinimumHeight(150)
        self.balance_plot.showGrid(y=True, alpha=0.15)
        self.balance_plot.setLabel("left", "share of the set (%)")
        self.train_bars = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH, brush=TRAIN_COLOR, pen=None)
        self.test_bars = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH, brush=TEST_COLOR, pen=None)
        self.balance_plot.addItem(self.train_bars)
        self.balance_plot.addItem(self.test_bars)
        self.balance_readout = QLabel()
        self.balance_readout.setObjectName("readout")
        self.balance_plot.scene().sigMouseMoved.connect(self._on_balance_hovered)
        self.balance_plot.scene().sigMouseClicked.connect(self._on_balance_clicked)

    def _build_browser(self) -> None:
        self.class_combo = QComboBox()
        self.class_combo.setToolTip("Which class's training images to browse")
        self.class_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.class_combo.currentIndexChanged.connect(self._on_combo_changed)
        self.previous_button = QPushButton("◀ Previous")
        self.previous_button.setToolTip("Previous page (Page Up)")
        self.previous_button.clicked.connect(self.previous_page)
        self.next_button = QPushButton("Next ▶")
        self.next_button.setToolTip("Next page (Page Down)")
        self.next_button.clicked.connect(self.next_page)
        self.page_label = QLabel()
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.page_label.setMinimumWidth(90)
        for button in (self.previous_button, self.next_button):
            button.setMinimumWidth(64)  # below the style's 80 px: the window fits a 1024-px screen
        self.mosaic_plot, self.mosaic_item = image_plot()
        plot_item = self.mosaic_plot.getPlotItem()
        plot_item.setMouseEnabled(x=False, y=False)  # a click picks an image; nothing to pan
        self.mosaic_plot.setCursor(Qt.CursorShape.PointingHandCursor)
        self.mosaic_readout = QLabel()
        self.mosaic_readout.setObjectName("readout")
        self.mosaic_plot.scene().sigMouseMoved.connect(self._on_mosaic_hovered)
        self.mosaic_plot.scene().sigMouseClicked.connect(self._on_mosaic_clicked)

    def _controls_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Training images of"))
        row.addWidget(self.class_combo)
        row.addStretch(1)
        row.addWidget(self.previous_button)
        row.addWidget(self.page_label)
        row.addWidget(self.next_button)
        return row

    # -- the dataset ------------------------------------------------------------------------------
    def set_dataset(self, dataset: Dataset | None) -> None:
        """Show `dataset` (all classes, first page), or the hint to load one when None."""
        if dataset is not None and dataset is self.dataset:
            return  # the same data again (a new run on the same folder): keep the user's place
        self.dataset = dataset
        self.chosen_class, self.page = None, 0
        if dataset is None:
            self.indices = np.arange(0)
            self.train_counts = self.test_counts = np.zeros(0, dtype=np.int64)
            self.mosaic_item.clear()
            self.pages.setCurrentWidget(self.message)
            return
        class_count = len(dataset.class_names)
        self.train_counts = class_counts(dataset.train_labels, class_count)
        self.test_counts = class_counts(dataset.test_labels, class_count)
        # The title doubles as the chart's legend: its colour squares are the bars' colours.
        self.title.setText(f"<b>{dataset.name}</b>: <span style='color:{TRAIN_COLOR}'>■</span> "
                           f"{len(dataset.train_labels):,} training and <span style='color:{TEST_COLOR}'>■</span> "
                           f"{len(dataset.test_labels):,} test images in {class_count} classes")
        self._show_balance()
        self.class_combo.blockSignals(True)  # a new list of classes is no choice by the user
        self.class_combo.clear()
        self.class_combo.addItem(ALL_CLASSES)
        self.class_combo.addItems(list(dataset.class_names))
        self.class_combo.blockSignals(False)
        self.pages.setCurrentIndex(1)
        self.select_class(None)

    def _show_balance(self) -> None:
        names = self.dataset.class_names
        positions = np.arange(len(names), dtype=float)
        self.train_bars.setOpts(x=positions - BAR_WIDTH / 2, height=_percent(self.train_counts))
        self.test_bars.setOpts(x=positions + BAR_WIDTH / 2, height=_percent(self.test_counts))
        self.balance_plot.getAxis("bottom").setTicks([list(enumerate(names))])
        highest = max(_percent(self.train_counts).max(), _percent(self.test_counts).max())
        self.balance_plot.setXRange(-0.6, len(names) - 0.4, padding=0)
        self.balance_plot.setYRange(0, highest * 1.1, padding=0)
        self.balance_readout.setText("Hover over the bars for the counts; click one to browse that class.")

    def _highlight_chosen_class(self) -> None:
        class_count = len(self.train_counts)
        for bars, color in ((self.train_bars, TRAIN_COLOR), (self.test_bars, TEST_COLOR)):
            dimmed = pg.mkColor(color)
            dimmed.setAlpha(DIMMED_ALPHA)
            brushes = [pg.mkBrush(color if self.chosen_class in (None, index) else dimmed)
                       for index in range(class_count)]
            bars.setOpts(brushes=brushes)

    # -- browsing ---------------------------------------------------------------------------------
    def select_class(self, class_index: int | None) -> None:
        """Browse the training images of class `class_index` (None: all), from the first page."""
        if self.dataset is None:
            return
        self.chosen_class = class_index
        self.indices = class_indices(self.dataset.train_labels, class_index)
        combo_index = 0 if class_index is None else class_index + 1
        if self.class_combo.currentIndex() != combo_index:
            self.class_combo.blockSignals(True)
            self.class_combo.setCurrentIndex(combo_index)
            self.class_combo.blockSignals(False)
        self._highlight_chosen_class()
        self.set_page(0)

    def page_count(self) -> int:
        return page_count(len(self.indices), IMAGES_PER_PAGE)

    def set_page(self, page: int) -> None:
        """Show page `page` (from 0), clamped to the pages there are."""
        if self.dataset is None:
            return
        self.page = min(max(page, 0), self.page_count() - 1)
        on_page = self.page_indices()
        tiles = self.dataset.train_images[on_page].reshape(-1, *IMAGE_SHAPE)
        # Always ROWS rows: the last, shorter page keeps the grid's size and place.
        self.mosaic_item.setImage(tile_mosaic(tiles, COLUMNS, GAP, rows=ROWS), levels=(0, 255))
        self.mosaic_plot.getPlotItem().autoRange(padding=0.01)
        self.page_label.setText(f"page {self.page + 1} of {self.page_count()}")
        self.previous_button.setEnabled(self.page > 0)
        self.next_button.setEnabled(self.page < self.page_count() - 1)
        self._describe_page()

    def page_indices(self) -> np.ndarray:
        """Positions in the training set of the images on the current page, in the order drawn."""
        start = self.page * IMAGES_PER_PAGE
        return self.indices[start:start + IMAGES_PER_PAGE]

    def next_page(self) -> None:
        self.set_page(self.page + 1)

    def previous_page(self) -> None:
        self.set_page(self.page - 1)

    def _describe_page(self) -> None:
        on_page = self.page_indices()
        which = "all classes" if self.chosen_class is None else self.dataset.class_names[self.chosen_class]
        if len(on_page) == 0:
            self.mosaic_readout.setText(f"No training image of {which}.")
            return
        first = self.page * IMAGES_PER_PAGE + 1
        self.mosaic_readout.setText(f"Images {first:,}–{first + len(on_page) - 1:,} of {len(self.indices):,} "
                                    f"({which}). Click one to choose it.")

    # -- mouse ------------------------------------------------------------------------------------
    def _on_combo_changed(self, combo_index: int) -> None:
        if combo_index >= 0:
            self.select_class(None if combo_index == 0 else combo_index - 1)

    def _class_under(self, scene_position: QPointF) -> int | None:
        if self.dataset is None or not self.balance_plot.plotItem.vb.sceneBoundingRect().contains(scene_position):
            return None
        x = self.balance_plot.plotItem.vb.mapSceneToView(scene_position).x()
        index = int(round(x))
        return index if 0 <= index < len(self.train_counts) and abs(x - index) <= BAR_WIDTH else None

    def _on_balance_hovered(self, scene_position: QPointF) -> None:
        index = self._class_under(scene_position)
        if index is None:
            return
        text = (f"{self.dataset.class_names[index]}: {self.train_counts[index]:,} training images "
                f"({_percent(self.train_counts)[index]:.2f}%), {self.test_counts[index]:,} test images "
                f"({_percent(self.test_counts)[index]:.2f}%)")
        self.balance_readout.setText(text)
        self.balance_plot.setToolTip(text)

    def _on_balance_clicked(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            index = self._class_under(event.scenePos())
            if index is not None:
                self.select_class(None if index == self.chosen_class else index)

    def _image_under(self, scene_position: QPointF) -> int | None:
        """The training-set position of the image under the mouse, or None."""
        if self.dataset is None:
            return None
        pixel = self.mosaic_item.mapFromScene(scene_position)
        on_page = self.page_indices()
        tile = tile_at(pixel.y(), pixel.x(), IMAGE_SHAPE, COLUMNS, GAP, len(on_page))
        return None if tile is None else int(on_page[tile])

    def _on_mosaic_hovered(self, scene_position: QPointF) -> None:
        position = self._image_under(scene_position)
        if position is None:
            return
        label = int(self.dataset.train_labels[position])
        self.mosaic_readout.setText(f"Training image #{position:,}: {self.dataset.class_names[label]}. "
                                    "Click to choose it.")

    def _on_mosaic_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        position = self._image_under(event.scenePos())
        if position is not None:
            image = self.dataset.train_images[position].reshape(IMAGE_SHAPE).copy()
            self.image_chosen.emit(image, int(self.dataset.train_labels[position]))


def _percent(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return 100.0 * counts / total if total else np.zeros(len(counts))
