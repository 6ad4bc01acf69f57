"""Shared fixtures. Qt runs offscreen and every user folder points into a temp dir."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.idx import write_idx  # noqa: E402

MNIST_FILE_NAMES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


@pytest.fixture(autouse=True)
def private_user_dirs(tmp_path_factory, monkeypatch):
    """Nothing a test does may read or write the real user's data, config or cache folders."""
    base = tmp_path_factory.mktemp("user")
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(base / name.lower()))


def make_digit_like_images(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Learnable fake digits: each class lights a different 8x8 block of a 28x28 image, plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count).astype(np.uint8)
    images = rng.integers(0, 40, (count, 28, 28)).astype(np.uint8)
    for index, label in enumerate(labels):
        row, col = divmod(int(label), 4)
        top, left = 2 + row * 8 + rng.integers(0, 2), 2 + col * 6 + rng.integers(0, 2)
        images[index, top:top + 8, left:left + 6] = rng.integers(180, 256, (8, 6))
    return images, labels


def write_dataset(folder: Path, train_count: int = 640, test_count: int = 200, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    train_images, train_labels = make_digit_like_images(train_count, seed)
    test_images, test_labels = make_digit_like_images(test_count, seed + 1)
    write_idx(folder / MNIST_FILE_NAMES["train_images"], train_images)
    write_idx(folder / MNIST_FILE_NAMES["train_labels"], train_labels)
    write_idx(folder / MNIST_FILE_NAMES["test_images"], test_images)
    write_idx(folder / MNIST_FILE_NAMES["test_labels"], test_labels)
    return folder


@pytest.fixture(scope="session")
def tiny_dataset_dir(tmp_path_factory) -> Path:
    """A small generated dataset in MNIST's file format (640 train, 200 test images)."""
    return write_dataset(tmp_path_factory.mktemp("tiny_mnist"))


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The real MNIST files, from MNIST_DIR; tests that need them skip when it is not set."""
    folder = os.environ.get("MNIST_DIR")
    if not folder or not Path(folder).is_dir():
        pytest.skip("real MNIST not available: set MNIST_DIR to a folder with the four IDX files")
    return Path(folder)
