"""A grid of labelled images with the model's probability bars under each: the mistakes gallery.

Each tile shows a 28x28 image at twice its size, the model's ten probabilities as a bar strip
(true class green, predicted class blue when they differ), and "true → predicted (confidence)".
Sorting is by the confidence of the prediction. Tiles are drawn into icons, so even a thousand
of them scroll smoothly.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.prediction_view import gray_pixmap
from gui.theme import BASE

MAX_TILES = 600  # more would cost seconds to draw and nobody scrolls through them
TILES_PER_STEP = 60  # tiles drawn per turn of the event loop: few enough that the window never stalls
IMAGE_SIDE = 56
BAR_HEIGHT = 18
INDEX_ROLE = Qt.ItemDataRole.UserRole
TRUE_COLOR, PREDICTED_COLOR, OTHER_COLOR = "#81c784", "#4fc3f7", "#5c6370"
ORDERS = {"Most confident first": "confident", "Least confident first": "unsure"}


def tile_icon(image: np.ndarray, probabilities: np.ndarray, true_class: int) -> QIcon:
    """The image above a strip of probability bars."""
    pixmap = QPixmap(IMAGE_SIDE, IMAGE_SIDE + BAR_HEIGHT + 2)
    pixmap.fill(QColor(BASE))
    painter = QPainter(pixmap)
    painter.drawPixmap(0, 0, gray_pixmap(image.reshape(28, 28), IMAGE_SIDE))
    predicted = int(np.argmax(probabilities))
    width = IMAGE_SIDE / len(probabilities)
    for k, probability in enumerate(probabilities):
        color = TRUE_COLOR if k == true_class else PREDICTED_COLOR if k == predicted else OTHER_COLOR
        height = max(1.0, float(probability) * BAR_HEIGHT)
        painter.fillRect(QRectF(k * width + 0.5, IMAGE_SIDE + 2 + BAR_HEIGHT - height, width - 1, height),
                         QColor(color))
    painter.end()
    return QIcon(pixmap)


class ImageGallery(QWidget):
    image_chosen = Signal(object, object, int)  # image (784,) uint8, probabilities (classes,), index

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.images = np.zeros((0, 784), np.uint8)
        self.probabilities = np.zeros((0, 10), np.float32)
        self.labels = np.zeros(0, np.int64)
        self.indices = np.zeros(0, np.int64)  # into the images, in display order
        self.class_names: tuple[str, ...] = tuple(str(digit) for digit in range(10))
        self._title_text = ""
        self._pending: list[int] = []  # indices whose tiles are still to be drawn
        self._more = QTimer(self)
        self._more.setSingleShot(True)
        self._more.setInterval(0)
        self._more.timeout.connect(self._add_tiles)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.order_box = QComboBox()
        self.order_box.addItems(list(ORDERS))
        self.order_box.setToolTip("Sort the images by the model's confidence in its prediction")
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(IMAGE_SIDE, IMAGE_SIDE + BAR_HEIGHT + 2))
        self.list.setGridSize(QSize(IMAGE_SIDE + 30, IMAGE_SIDE + BAR_HEIGHT + 44))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setUniformItemSizes(True)
        self.list.setToolTip("Click an image to see it on the drawing pad's preview with the model's verdict")
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.order_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.list, 1)
        self.order_box.currentIndexChanged.connect(self._refill)
        self.list.currentItemChanged.connect(self._on_current_changed)

    @property
    def order(self) -> str:
        return ORDERS[self.order_box.currentText()]

    def show_images(self, images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray,
                    indices: np.ndarray, title: str, class_names: tuple[str, ...]) -> None:
        """Show images[indices] (any order: the gallery sorts them by confidence)."""
        self.images, self.labels, self.probabilities = images, labels, probabilities
        self.indices = np.asarray(indices, dtype=np.int64)
        self.class_names = tuple(class_names)
        self._title_text = title
        self._refill()

    def clear(self, message: str = "") -> None:
        self.indices = np.zeros(0, np.int64)
        self._title_text = message
        self._refill()

    def displayed_indices(self) -> np.ndarray:
        """The image indices in display order (sorted, capped at MAX_TILES)."""
        if len(self.indices) == 0:
            return self.indices
        confidence = self.probabilities[self.indices].max(axis=1)
        ranking = np.argsort(-confidence if self.order == "confident" else confidence, kind="stable")
        return self.indices[ranking][:MAX_TILES]

    def _refill(self) -> None:
        """Show the first tiles now and the rest in small steps, each its own turn of the event loop."""
        self._pending = list(self.displayed_indices())
        count = len(self.indices)
        suffix = f" (showing the first {MAX_TILES})" if count > MAX_TILES else ""
        self.title.setText(f"{self._title_text}: {count:,} images{suffix}" if count else self._title_text)
        self.list.clear()
        self._add_tiles()

    def _add_tiles(self) -> None:
        names = self.class_names
        step, self._pending = self._pending[:TILES_PER_STEP], self._pending[TILES_PER_STEP:]
        for index in step:
            probabilities = self.probabilities[index]
            predicted, true_class = int(probabilities.argmax()), int(self.labels[index])
            item = QListWidgetItem(tile_icon(self.images[index], probabilities, true_class),
                                   f"{names[true_class][:6]}→{names[predicted][:6]}\n{probabilities[predicted]:.0%}")
            item.setData(INDEX_ROLE, int(index))
            item.setToolTip(f"test image #{index}: true {names[true_class]}, predicted {names[predicted]} "
                            f"({probabilities[predicted]:.1%})")
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.list.addItem(item)
        if self._pending:
            self._more.start()

    def is_filling(self) -> bool:
        return bool(self._pending)

    def _on_current_changed(self, item: QListWidgetItem | None, _previous) -> None:
        if item is not None:
            index = int(item.data(INDEX_ROLE))
            self.image_chosen.emit(self.images[index], self.probabilities[index], index)
