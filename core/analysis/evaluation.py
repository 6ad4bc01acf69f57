"""A model's verdict on a labelled set: probabilities, confusion matrix, and its mistakes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from core.analysis.metrics import confusion_matrix
from core.engine.network import MLP

SORTS = ("confident", "unsure")  # most confident mistakes first, or least confident first


@dataclass(frozen=True)
class Evaluation:
    """Per-image results for `labels` (N,): `probabilities` (N, classes) float32."""

    probabilities: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]

    # computed once each: the views ask for them many times (every cell click, every sort)
    @cached_property
    def predicted(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @cached_property
    def confidence(self) -> np.ndarray:
        """The probability of the predicted class."""
        return self.probabilities.max(axis=1)

    @cached_property
    def confusion(self) -> np.ndarray:
        return confusion_matrix(self.labels, self.predicted, len(self.class_names))

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.predicted == self.labels)) if len(self.labels) else float("nan")

    def cell(self, true_class: int, predicted_class: int, order: str = "confident") -> np.ndarray:
        """Indices of the images of `true_class` predicted as `predicted_class`, sorted by confidence."""
        indices = np.flatnonzero((self.labels == true_class) & (self.predicted == predicted_class))
        return self._sorted(indices, order)

    def mistakes(self, order: str = "confident") -> np.ndarray:
        """Indices of every misclassified image, the most (or least) confident first."""
        return self._sorted(np.flatnonzero(self.predicted != self.labels), order)

    def _sorted(self, indices: np.ndarray, order: str) -> np.ndarray:
        if order not in SORTS:
            raise ValueError(f"order must be one of {SORTS}")
        confidence = self.confidence[indices]
        ranking = np.argsort(-confidence if order == "confident" else confidence, kind="stable")
        return indices[ranking]


def evaluate(model: MLP, images: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...]) -> Evaluation:
    return Evaluation(model.predict_proba(images), np.asarray(labels), tuple(class_names))
