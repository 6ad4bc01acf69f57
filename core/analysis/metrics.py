"""Scores of a model on labelled images."""

from __future__ import annotations

import numpy as np


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, class_count: int = 10) -> np.ndarray:
    """(class_count, class_count) int64 counts: rows are true classes, columns predictions."""
    flat = labels.astype(np.int64) * class_count + predicted.astype(np.int64)
    return np.bincount(flat, minlength=class_count * class_count).reshape(class_count, class_count)


def accuracy_from_confusion(matrix: np.ndarray) -> float:
    total = matrix.sum()
    return float(np.trace(matrix) / total) if total else float("nan")
