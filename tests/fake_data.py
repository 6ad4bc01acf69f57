"""Generated datasets in MNIST's file format, for tests that must not need the real one."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def make_digit_like_images(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Learnable fake digits: each class lights a different 8x6 block of a 28x28 image, plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count).astype(np.uint8)
    images = rng.integers(0, 40, (count, 28, 28)).astype(np.uint8)
    for index, label in enumerate(labels):
        row, col = divmod(int(label), 4)
        top, left = 2 + row * 8 + rng.integers(0, 2), 2 + col * 6 + rng.integers(0, 2)
        images[index, top:top + 8, left:left + 6] = rng.integers(180, 256, (8, 6))
    return images, labels


def write_dataset(folder: Path, train_count: int = 640, test_count: int = 200, seed: int = 0) -> Path:
    from core.data.dataset import MNIST_FILE_NAMES
    from core.data.idx import write_idx

    folder.mkdir(parents=True, exist_ok=True)
    train_images, train_labels = make_digit_like_images(train_count, seed)
    test_images, test_labels = make_digit_like_images(test_count, seed + 1)
    write_idx(folder / MNIST_FILE_NAMES["train_images"], train_images)
    write_idx(folder / MNIST_FILE_NAMES["train_labels"], train_labels)
    write_idx(folder / MNIST_FILE_NAMES["test_images"], test_images)
    write_idx(folder / MNIST_FILE_NAMES["test_labels"], test_labels)
    return folder
