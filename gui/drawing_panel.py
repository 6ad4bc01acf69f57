"""The drawing pad beside what the current model makes of the drawing, classified as you draw."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.network import MLP
from core.preprocess import to_mnist
from gui.draw_pad import DrawPad
from gui.prediction_view import PredictionView


class DrawingPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model: MLP | None = None
        self._drawing_image: np.ndarray | None = None  # what to_mnist made of the drawing
        self._example: np.ndarray | None = None  # a dataset image shown instead of the drawing
        self.pad = DrawPad()
        self.prediction = PredictionView()
        self.model_label = QLabel("no model")
        self.model_label.setObjectName("modelLabel")
        self.model_label.setWordWrap(True)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Clear the canvas (Esc or Delete)")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Remove the last stroke (Ctrl+Z, or right-click on the canvas)")
        self.clear_button.clicked.connect(self.pad.clear)
        self.undo_button.clicked.connect(self.pad.undo)
        self.pad.drawing_changed.connect(self._on_drawing_changed)

        buttons = QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        title = QLabel("<b>Draw a digit</b>")
        layout.addWidget(title)
        layout.addWidget(self.pad, 3)
        layout.addLayout(buttons)
        layout.addWidget(self.prediction, 2)
        layout.addWidget(self.model_label)

    def set_model(self, model: MLP | None, class_names: tuple[str, ...], description: str) -> None:
        """Classify with `model` from now on (a private copy the caller will not mutate)."""
        self.model = model
        self.prediction.set_class_names(class_names)
        self.model_label.setText(description)
        self._classify()

    @property
    def model_input(self) -> np.ndarray | None:
        """(28, 28) float32: what the model reads now (the preprocessed drawing or the example), or None."""
        return self._example if self._example is not None else self._drawing_image

    def show_example(self, image: np.ndarray, description: str) -> None:
        """A dataset image (784 or 28x28 uint8, already MNIST-shaped) on the preview, with the model's verdict."""
        self.pad.clear()
        self._example = np.asarray(image, dtype=np.float32).reshape(28, 28) / 255
        self._classify()
        self.prediction.confidence_label.setText(f"{self.prediction.confidence_label.text()} · {description}")

    def _on_drawing_changed(self, drawing: np.ndarray | None) -> None:
        # made once per stroke, not at each of a training run's weight snapshots
        self._drawing_image = None if drawing is None else to_mnist(drawing)
        self._example = None
        self._classify()

    def _classify(self) -> None:
        if self._example is not None and self.model is not None:
            self.prediction.show_prediction(self._example, self.model.predict_proba(self._example[None])[0])
            return
        image = self._drawing_image
        if image is None:
            self.prediction.show_nothing()
        elif self.model is None:
            self.prediction.show_nothing("no model: train one or load one (Ctrl+O)")
        else:
            self.prediction.show_prediction(image, self.model.predict_proba(image[None])[0])
