"""A dataset by class: how many images each class has, and which images belong to one class."""

from __future__ import annotations

import numpy as np


def class_counts(labels: np.ndarray, class_count: int) -> np.ndarray:
    """Images per class, (class_count,) int64; a class with no image counts 0.

    Raises ValueError for a label outside 0..class_count-1 rather than growing the result.
    """
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= class_count):
        raise ValueError(f"labels must lie in 0..{class_count - 1}, found {labels.min()}..{labels.max()}")
    return np.bincount(labels.astype(np.int64, copy=False), minlength=class_count)


def class_indices(labels: np.ndarray, class_index: int | None) -> np.ndarray:
    """Positions of the images of class `class_index`, in dataset order; all positions when None."""
    labels = np.asarray(labels)
    if class_index is None:
        return np.arange(len(labels))
    return np.flatnonzero(labels == class_index)


def page_count(item_count: int, per_page: int) -> int:
    """Pages needed to show `item_count` items `per_page` at a time; an empty list still has one page."""
    return max(1, -(-item_count // per_page))
