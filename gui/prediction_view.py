"""What the model makes of a 28x28 image: the image itself, the top class large, and ten bars.

The image can carry its saliency map (core/analysis/explain.py): red where a pixel pushes towards the
class picked in "Why", blue where it pushes away; "why not a 3?" is answered by picking 3.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QSizePolicy, QWidget

from core.data.dataset import DIGIT_NAMES
from gui.theme import BASE

BAR_COLOR = "#3d5a80"
TOP_COLOR = "#4fc3f7"
PREVIEW_SIDE = 112  # the 28x28 image drawn 4x, pixels kept sharp
WHY_OFF, WHY_ANSWER = -2, -1  # the "Why" picker's first two entries; then one per class


def rgb_pixmap(image: np.ndarray, side: int) -> QPixmap:
    """A (H, W, 3) uint8 image as a pixmap scaled to side x side, nearest neighbour."""
    image = np.ascontiguousarray(image)
    height, width, _ = image.shape
    qimage = QImage(image.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(qimage).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.FastTransformation)


def gray_pixmap(image: np.ndarray, side: int) -> QPixmap:
    """A (H, W) float image in [0, 1] (or uint8) as a pixmap scaled to side x side, nearest neighbour."""
    if image.dtype != np.uint8:
        image = np.clip(np.round(image * 255), 0, 255).astype(np.uint8)
    image = np.ascontiguousarray(image)
    height, width = image.shape
    qimage = QImage(image.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(qimage).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.FastTransformation)


class PredictionView(QWidget):
    why_changed = Signal()  # the class whose saliency is asked for changed: classify again

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.class_names: tuple[str, ...] = ()  # the chart's ticks name them: set_class_names
        self.probabilities: np.ndarray | None = None
        self.preview = QLabel()
        self.preview.setFixedSize(PREVIEW_SIDE + 2, PREVIEW_SIDE + 2)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background: black; border: 1px solid #444;")
        self.preview.setToolTip("The 28x28 image the model sees: cropped, scaled to 20 px and centred by mass, "
                                "as MNIST's digits were made")
        self.top_label = QLabel()
        self.top_label.setObjectName("topClass")
        self.top_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.top_label.setMinimumWidth(100)
        self.confidence_label = QLabel()
        self.confidence_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.confidence_label.setWordWrap(True)
        self.why_box = QComboBox()
        self.why_box.setToolTip("Colour the image by which pixels push the model towards a class (red) and away "
                                "from it (blue): the answer's, or pick a class to ask \"why not a 3?\"")
        self.why_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.why_box.setMinimumContentsLength(6)
        self.why_box.currentIndexChanged.connect(lambda _index: self.why_changed.emit())
        self.chart = pg.PlotWidget()
        self.chart.setBackground(BASE)
        self.chart.setMouseEnabled(x=False, y=False)
        self.chart.getPlotItem().setMenuEnabled(False)
        self.chart.hideButtons()
        self.chart.setYRange(0, 1.08, padding=0)  # room above the bars for the 100% label
        self.chart.setXRange(-0.6, 9.6, padding=0)
        self.chart.setMinimumHeight(100)
        self.chart.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.chart.getAxis("left").setTicks([[(0, "0"), (0.5, "50%"), (1, "100%")]])
        self.bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.7, brush=BAR_COLOR)
        self.chart.addItem(self.bars)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.preview, 0, 0, 3, 1)
        layout.addWidget(self.top_label, 0, 1)
        layout.addWidget(self.confidence_label, 1, 1)
        layout.addWidget(self.why_box, 2, 1)
        layout.addWidget(self.chart, 3, 0, 1, 2)
        layout.setRowStretch(3, 1)
        self.set_class_names(DIGIT_NAMES)
        self.show_nothing()

    def hasHeightForWidth(self) -> bool:
        """No: the word-wrapped confidence label made the view height-for-width, and the drawing panel's layout
        then gave it its whole size hint, squeezing the pad, or squeezed its chart below the 0-9 axis."""
        return False

    def set_class_names(self, names: tuple[str, ...]) -> None:
        if tuple(names) == self.class_names:
            return  # new ticks would re-render the axis: at each of a run's weight snapshots
        self.class_names = tuple(names)
        short = [name if len(name) <= 5 else name[:4] + "." for name in self.class_names]
        self.chart.getAxis("bottom").setTicks([list(enumerate(short))])
        chosen = self.why_box.currentIndex()
        self.why_box.blockSignals(True)
        self.why_box.clear()
        self.why_box.addItems(["Why: off", "Why this?", *(f"Why (not) {name}?" for name in self.class_names)])
        self.why_box.setCurrentIndex(chosen if 0 <= chosen < self.why_box.count() else 1)
        self.why_box.blockSignals(False)

    @property
    def why_class(self) -> int:
        """WHY_OFF, WHY_ANSWER, or the class index whose saliency to show."""
        return self.why_box.currentIndex() + WHY_OFF

    def show_nothing(self, message: str = "draw a digit") -> None:
        self.probabilities = None
        self.preview.clear()
        self.top_label.setText("–")
        self._style_top_label("44pt", "#555")
        self.confidence_label.setText(message)
        self.bars.setOpts(height=np.zeros(10))

    def show_prediction(self, image: np.ndarray, probabilities: np.ndarray, overlay: np.ndarray | None = None,
                        caption: str = "") -> None:
        """`image` (28, 28) in [0, 1]; `probabilities` (10,) summing to 1; `overlay`, when given, the
        (28, 28, 3) uint8 picture shown instead of the plain image (its saliency); `caption`, what the image is."""
        self.probabilities = np.asarray(probabilities, dtype=float)
        best = int(self.probabilities.argmax())
        self.show_image(image if overlay is None else overlay)
        name = self.class_names[best]
        size = "44pt" if len(name) <= 2 else "16pt"
        self.top_label.setText(name)
        self._style_top_label(size, TOP_COLOR)
        self.confidence_label.setText(f"{self.probabilities[best]:.1%} sure" + (f" · {caption}" if caption else ""))
        brushes = [TOP_COLOR if i == best else BAR_COLOR for i in range(len(self.probabilities))]
        self.bars.setOpts(height=self.probabilities, brushes=brushes)

    def show_image(self, image: np.ndarray) -> None:
        """A (28, 28) gray image in [0, 1] or a (28, 28, 3) uint8 colour one on the preview."""
        image = np.asarray(image)
        self.preview.setPixmap(rgb_pixmap(image, PREVIEW_SIDE) if image.ndim == 3 else gray_pixmap(image, PREVIEW_SIDE))

    def _style_top_label(self, size: str, color: str) -> None:
        style = f"font-size: {size}; font-weight: bold; color: {color};"
        if self.top_label.styleSheet() != style:  # a new style sheet re-polishes the label
            self.top_label.setStyleSheet(style)

    @property
    def predicted_index(self) -> int | None:
        return None if self.probabilities is None else int(self.probabilities.argmax())
