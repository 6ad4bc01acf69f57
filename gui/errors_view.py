"""Where the model goes wrong: the test set's confusion matrix beside the gallery of its mistakes.

The heat map colours only the off-diagonal cells (on a log scale): at 98 % accuracy the diagonal
would otherwise swallow the whole colour range. Clicking a cell fills the gallery with the images
of that cell; the diagonal's cells show the images the model got right.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from core.analysis.evaluation import Evaluation
from gui.image_gallery import ImageGallery
from gui.robustness_view import RobustnessView
from gui.theme import BASE

DIAGONAL_COLOR = (46, 94, 62, 255)
EMPTY_COLOR = (30, 31, 34, 255)
COLOR_MAP = "inferno"
LARGEST_FONT_PX = 13
SMALLEST_FONT_PX = 7  # a count that only fits smaller is not written: its cell's colour and a click tell it
DIGIT_WIDTH = 0.62  # a digit's width in the label font, as a share of the font's pixel size


def count_font_px(cell_px: float, digits: int) -> int:
    """The pixel size of a count of `digits` digits that fits in a cell `cell_px` wide; 0 when none fits."""
    size = int(min(LARGEST_FONT_PX, 0.55 * cell_px, 0.85 * cell_px / (DIGIT_WIDTH * max(digits, 1))))
    return size if size >= SMALLEST_FONT_PX else 0


def heat_map_rgba(confusion: np.ndarray) -> np.ndarray:
    """(classes, classes, 4) uint8: off-diagonal counts on a log colour scale, the diagonal muted."""
    classes = len(confusion)
    off_diagonal = confusion.astype(float).copy()
    np.fill_diagonal(off_diagonal, 0)
    top = np.log1p(off_diagonal.max()) or 1.0
    colors = pg.colormap.get(COLOR_MAP).map(0.15 + 0.85 * np.log1p(off_diagonal) / top, mode="byte")
    rgba = np.asarray(colors, dtype=np.uint8).reshape(classes, classes, 4)
    rgba[off_diagonal == 0] = EMPTY_COLOR
    rgba[np.arange(classes), np.arange(classes)] = DIAGONAL_COLOR
    return rgba


class ConfusionMatrixView(pg.PlotWidget):
    cell_clicked = Signal(int, int)  # true class, predicted class

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(BASE)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.addItem(self.image)
        self.getViewBox().invertY(True)
        self.getViewBox().setAspectLocked(True)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.getPlotItem().setMenuEnabled(False)
        self.setLabel("left", "true class")
        self.setLabel("bottom", "predicted class")
        for name in ("left", "bottom"):
            self.getAxis(name).enableAutoSIPrefix(False)  # an empty matrix read "true class (x0.001)"
        self.confusion: np.ndarray | None = None
        self._labels: list[pg.TextItem] = []
        self._cell_px = 0.0  # a cell's side on screen, for which the labels' fonts were chosen
        self._ensure_labels(10)  # made now, not when the first evaluation arrives and the user waits for it
        self._set_classes(tuple(str(digit) for digit in range(10)))  # the frame of an empty matrix: 0-9, not ±400
        self.scene().sigMouseClicked.connect(self._on_clicked)
        self.getViewBox().sigResized.connect(self._fit_labels)
        self.setToolTip("Click a cell to see its images")

    def set_confusion(self, confusion: np.ndarray, class_names: tuple[str, ...]) -> None:
        self.confusion = confusion
        classes = len(confusion)
        rgba = heat_map_rgba(confusion)
        self.image.setImage(rgba)
        luminance = rgba[..., :3] @ np.array([0.299, 0.587, 0.114])
        self._ensure_labels(classes)
        for row in range(classes):
            for col in range(classes):
                label, count = self._labels[row * classes + col], int(confusion[row, col])
                label.setText(str(count))
                label.setColor("#c8e6c9" if row == col else "#111111" if luminance[row, col] > 150 else "#f0f0f0")
        self._set_classes(class_names)
        self._fit_labels(force=True)

    def _fit_labels(self, *_args, force: bool = False) -> None:
        """Each count in a font that fits its cell at the matrix's size on screen (they overlapped when small);
        empty off-diagonal cells stay blank."""
        if self.confusion is None:
            return
        pixel_width, pixel_height = self.getViewBox().viewPixelSize()
        cell_px = 1 / max(pixel_width, pixel_height, 1e-9)
        if not force and abs(cell_px - self._cell_px) < 0.5:
            return
        self._cell_px = cell_px
        classes = len(self.confusion)
        for index, label in enumerate(self._labels):
            row, col = divmod(index, classes)
            count = int(self.confusion[row, col])
            size = count_font_px(cell_px, len(str(count)))
            label.setVisible(size > 0 and (count > 0 or row == col))
            if size:
                font = QFont(label.textItem.font())
                font.setPixelSize(size)
                label.setFont(font)

    def _set_classes(self, class_names: tuple[str, ...]) -> None:
        short = [(k + 0.5, name if len(name) <= 5 else name[:4] + ".") for k, name in enumerate(class_names)]
        self.getAxis("bottom").setTicks([short])
        self.getAxis("left").setTicks([short])
        self.setRange(xRange=(0, len(class_names)), yRange=(0, len(class_names)), padding=0.02)

    def _ensure_labels(self, classes: int) -> None:
        """One count label per cell, made once: re-creating 100 text items each time stalls the GUI."""
        if len(self._labels) == classes * classes:
            return
        for label in self._labels:
            self.removeItem(label)
        self._labels = []
        for row in range(classes):
            for col in range(classes):
                label = pg.TextItem("", anchor=(0.5, 0.5))
                label.setPos(col + 0.5, row + 0.5)
                label.setVisible(False)
                self.addItem(label)
                self._labels.append(label)

    def clear_matrix(self) -> None:
        self.confusion = None
        self.image.clear()
        for label in self._labels:
            label.setVisible(False)

    def _on_clicked(self, event) -> None:
        if self.confusion is None:
            return
        point = self.getViewBox().mapSceneToView(event.scenePos())
        row, col = int(np.floor(point.y())), int(np.floor(point.x()))
        if 0 <= row < len(self.confusion) and 0 <= col < len(self.confusion):
            self.cell_clicked.emit(row, col)


class ErrorsView(QWidget):
    evaluate_requested = Signal()
    image_chosen = Signal(object, object, int)  # image (784,) uint8, probabilities, test index

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.evaluation: Evaluation | None = None
        self.images: np.ndarray | None = None
        self.status = QLabel("Evaluate the current model on the test set to see where it goes wrong.")
        self.status.setWordWrap(True)
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setToolTip("Run the current model on every test image (F5)")
        self.evaluate_button.setShortcut("F5")
        self.mistakes_button = QPushButton("All mistakes")
        self.mistakes_button.setToolTip("Show every misclassified test image in the gallery")
        self.matrix = ConfusionMatrixView()
        self.gallery = ImageGallery()
        self.robustness = RobustnessView()
        header = QHBoxLayout()
        header.addWidget(self.status, 1)
        header.addWidget(self.mistakes_button)
        header.addWidget(self.evaluate_button)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.matrix)
        splitter.addWidget(self.gallery)
        splitter.addWidget(self.robustness)
        splitter.setSizes([380, 260, 160])  # in proportion: the matrix first, it needs room for its numbers
        for index, stretch in enumerate((3, 2, 1)):
            splitter.setStretchFactor(index, stretch)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(splitter, 1)
        self.evaluate_button.clicked.connect(self.evaluate_requested)
        self.mistakes_button.clicked.connect(self.show_mistakes)
        self.matrix.cell_clicked.connect(self.show_cell)
        self.gallery.image_chosen.connect(self.image_chosen)
        self.mistakes_button.setEnabled(False)

    def set_busy(self, text: str) -> None:
        self.status.setText(text)
        self.evaluate_button.setEnabled(False)

    def set_evaluation(self, evaluation: Evaluation, images: np.ndarray, description: str) -> None:
        """`images` (N, 784) uint8, the test images `evaluation` scored."""
        self.evaluation, self.images = evaluation, images
        mistakes = int(np.sum(evaluation.predicted != evaluation.labels))
        self.status.setText(f"{description}: {evaluation.accuracy:.2%} of {len(images):,} test images right, "
                            f"{mistakes:,} mistakes.")
        self.evaluate_button.setEnabled(True)
        self.mistakes_button.setEnabled(True)
        self.matrix.set_confusion(evaluation.confusion, evaluation.class_names)
        self.show_mistakes()

    def clear(self, message: str) -> None:
        self.evaluation = self.images = None
        self.status.setText(message)
        self.evaluate_button.setEnabled(True)
        self.mistakes_button.setEnabled(False)
        self.matrix.clear_matrix()
        self.gallery.clear()

    @Slot()
    def show_mistakes(self) -> None:
        if self.evaluation is None:
            return
        evaluation = self.evaluation
        self.gallery.show_images(self.images, evaluation.labels, evaluation.probabilities,
                                 evaluation.mistakes(), "All mistakes", evaluation.class_names)

    def show_selection(self, indices: np.ndarray, title: str) -> bool:
        """Test images `indices` (into the evaluated images) in the gallery; False before an evaluation."""
        if self.evaluation is None:
            return False
        evaluation = self.evaluation
        self.gallery.show_images(self.images, evaluation.labels, evaluation.probabilities, np.asarray(indices),
                                 title, evaluation.class_names)
        return True

    @Slot(int, int)
    def show_cell(self, true_class: int, predicted_class: int) -> None:
        if self.evaluation is None:
            return
        evaluation, names = self.evaluation, self.evaluation.class_names
        title = (f"{names[true_class]} recognized" if true_class == predicted_class
                 else f"{names[true_class]} taken for {names[predicted_class]}")
        self.gallery.show_images(self.images, evaluation.labels, evaluation.probabilities,
                                 evaluation.cell(true_class, predicted_class), title, names)
