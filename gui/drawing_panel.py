"""The drawing pad beside what the current model makes of the drawing, classified as you draw.

Below the verdict, every layer's units light up with the drawing (gui/activations_view.py), and the
preview can carry the saliency of the answer or of any class (core/analysis/explain.py). Hovering a unit
says what feeds it: a first-layer unit's weights take the preview's place as a 28x28 picture,
a deeper unit lists its strongest inputs. The model is the window's current model
(gui/current_model.py), read from there at each classification: the panel keeps no copy.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.analysis.explain import (
    diverging_rgb,
    explain,
    layer_activations,
    saliency_overlay,
    saliency_rgba,
    strongest_inputs,
)
from core.compiled import kernels
from core.data.preprocess import Placement, to_mnist_placed
from core.engine.network import MLP
from gui.activations_view import ActivationsView
from gui.current_model import CurrentModel
from gui.draw_pad import DrawPad
from gui.handwriting import TeachBar
from gui.prediction_view import WHY_ANSWER, WHY_OFF, PredictionView


class DrawingPanel(QWidget):
    exciting_images_requested = Signal(int, int)  # layer, unit: a unit was clicked

    def __init__(self, current: CurrentModel | None = None, parent: QWidget | None = None) -> None:
        """`current`: the model to follow; a panel used on its own gets one of its own."""
        super().__init__(parent)
        self.current = current if current is not None else CurrentModel(self)
        self._drawing_image: np.ndarray | None = None  # what to_mnist made of the drawing
        self._placement: Placement | None = None  # and where it took it from, for the pad's overlay
        self._example: np.ndarray | None = None  # a dataset image shown instead of the drawing
        self._example_caption = ""  # what that image is: "test image #12, truly 7"
        # Reading a drawing is a few small matrix products: BLAS's threads gain little on them when
        # the machine is idle and cost much when it is busy, the second thread waiting for a core
        # (docs/PERFORMANCE.md: 2.4 ms on two threads idle against 2.8 on one, 70 against 3 ms beside
        # one CPU-bound process).
        self._one_blas_thread = kernels.SingleThreadedBlas(whatever_the_kernels=True)
        self.pad = DrawPad()
        self.prediction = PredictionView()
        self.activations = ActivationsView()
        self.teach = TeachBar()
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
        self.prediction.why_changed.connect(self._classify)
        self.activations.hovered.connect(self._on_unit_hovered)
        self.activations.clicked.connect(self.exciting_images_requested)
        self.activations.installEventFilter(self)
        self.current.changed.connect(self._on_model_changed)

        buttons = QHBoxLayout()
        for button in (self.undo_button, self.clear_button):
            button.setMinimumWidth(56)  # below the style's 80 px: the window fits a 1024-px screen
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        title = QLabel("<b>Draw a digit</b>")
        layout.addWidget(title)
        layout.addWidget(self.pad, 3)
        layout.addLayout(buttons)
        layout.addWidget(self.teach)
        layout.addWidget(self.prediction, 2)
        layout.addWidget(self.activations)
        layout.addWidget(self.model_label)

    @property
    def model(self) -> MLP | None:
        return self.current.model

    def set_model(self, model: MLP, class_names: tuple[str, ...], description: str) -> None:
        """Make `model` (a private copy the caller will not mutate) the current model the panel follows."""
        self.current.show_model(model, class_names, description)

    def _on_model_changed(self) -> None:
        self.prediction.set_class_names(self.current.class_names)
        self.teach.set_class_names(self.current.class_names)
        self.model_label.setText(self._model_text())
        self._classify()

    def _model_text(self) -> str:
        return "no model" if self.current.model is None else f"Model: {self.current.description}"

    @property
    def model_input(self) -> np.ndarray | None:
        """(28, 28) float32: what the model reads now (the preprocessed drawing or the example), or None."""
        return self._example if self._example is not None else self._drawing_image

    def show_example(self, image: np.ndarray, description: str) -> None:
        """A dataset image (784 or 28x28 uint8, already MNIST-shaped) on the preview, with the model's verdict."""
        self.pad.clear()
        self._example = np.asarray(image, dtype=np.float32).reshape(28, 28) / 255
        self._example_caption = description
        self._classify()

    def _on_drawing_changed(self, drawing: np.ndarray | None) -> None:
        # made once per stroke, not at each of a training run's weight snapshots
        placed = None if drawing is None else to_mnist_placed(drawing)
        self._drawing_image, self._placement = (None, None) if placed is None else placed
        self._example = None
        self._classify()

    def _classify(self) -> None:
        image = self.model_input
        pad_overlay = None
        if image is None:
            self.prediction.show_nothing()
            self.activations.clear()
        elif self.model is None:
            self.prediction.show_nothing("no model: train one or load one (Ctrl+O)")
            self.activations.clear()
        else:
            with self._one_blas_thread:
                activations, overlay, pad_overlay = self._read(image)
            caption = self._example_caption if self._example is not None else ""
            self.prediction.show_prediction(image, activations[-1], overlay, caption)
            self.activations.set_activations(activations)
        self.pad.set_overlay(pad_overlay)

    def _read(self, image: np.ndarray) -> tuple[list[np.ndarray], np.ndarray | None, np.ndarray | None]:
        """The model's layers for `image`, and (unless the saliency is off) the saliency's picture
        and its faint copy for the pad."""
        pad_overlay = None
        why = self.prediction.why_class
        if why == WHY_OFF:  # the layers alone: no saliency's 32-image pass at each of a run's snapshots
            activations, overlay = [layer[0] for layer in layer_activations(self.model, image[None])], None
        else:
            explanation = explain(self.model, image, None if why == WHY_ANSWER else why)
            activations, overlay = explanation.activations, saliency_overlay(image, explanation.saliency)
            if self._example is None and self._placement is not None:  # faintly on the pad too
                # at half the pad's resolution: drawn scaled up and see-through, it looks the same at a
                # quarter of the cost (at each of a run's weight snapshots)
                pad_overlay = saliency_rgba(self._placement.to_source(explanation.saliency, step=2))
        return activations, overlay, pad_overlay

    def _on_unit_hovered(self, layer: int, unit: int) -> None:
        if self.model is None or not self.activations.activations:
            return
        value = float(self.activations.activations[layer][unit])
        if layer == len(self.model.weights) - 1:
            name = self.prediction.class_names[unit] if unit < len(self.prediction.class_names) else unit
            self.model_label.setText(f"output {name}: probability {value:.1%}")
            return
        text = f"layer {layer + 1}, unit {unit}: activation {value:.3g}"
        if layer == 0:
            self.prediction.show_image(diverging_rgb(self.model.weights[0][:, unit].reshape(28, 28)))
            text += " · its weights on the preview: red where ink excites it, blue where ink inhibits it"
        else:
            inputs = ", ".join(f"h{layer}[{index}] {weight:+.2f}" for index, weight in
                               strongest_inputs(self.model, layer, unit, count=3))
            text += f" · strongest inputs: {inputs}"
        self.model_label.setText(text + " · click: the test images that excite it most")

    def eventFilter(self, watched, event) -> bool:
        if watched is self.activations and event.type() == QEvent.Type.Leave:
            self.model_label.setText(self._model_text())
            self._classify()  # the preview back from a unit's weights
        return super().eventFilter(watched, event)
