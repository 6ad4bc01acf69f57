"""A dataset is a folder holding the four IDX files; this module finds and loads one.

Where MNIST is looked for, in order: the folder the user gives, the MNIST_DIR environment
variable, the application's data folder (platformdirs). Any folder with the four files works:
Fashion-MNIST is recognized by its labels and gets its class names.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

from core.data.idx import IdxHeader, idx_bytes, read_idx
from core.errors import DatasetError

INPUT_SIZE = 784  # 28x28 pixels, flattened
CLASS_COUNT = 10

APP_NAME = "mnist-mlp"
ROLES = ("train_images", "train_labels", "test_images", "test_labels")
# The two naming styles in the wild: train-images-idx3-ubyte and train-images.idx3-ubyte.
_STEMS = {
    "train_images": ("train-images", "idx3-ubyte"),
    "train_labels": ("train-labels", "idx1-ubyte"),
    "test_images": ("t10k-images", "idx3-ubyte"),
    "test_labels": ("t10k-labels", "idx1-ubyte"),
}
MNIST_FILE_NAMES = {role: f"{stem}-{kind}.gz" for role, (stem, kind) in _STEMS.items()}

DIGIT_NAMES = tuple(str(digit) for digit in range(10))
FASHION_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
# SHA-256 of the decompressed test labels: a cheap fingerprint (10 KB) of which dataset a folder holds.
_KNOWN_TEST_LABELS = {
    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2": ("MNIST", DIGIT_NAMES),
    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34": ("Fashion-MNIST", FASHION_NAMES),
}
IMAGE_SHAPE = (28, 28)
# The most images one file may declare: 8x MNIST's training set, 392 MB of pixels. A header that
# declares more is refused before anything is read, so memory stays bounded by a real dataset's size.
MAX_IMAGES = 500_000


@dataclass(frozen=True)
class Dataset:
    """Images flattened to (N, 784) uint8, labels (N,) uint8 class indices."""

    name: str
    class_names: tuple[str, ...]
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    folder: Path | None = None


def default_data_dir() -> Path:
    """The application's own MNIST folder, where downloads go (~/.local/share/mnist-mlp/mnist)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "mnist"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The folder to use: the one given, else $MNIST_DIR, else the application's data folder."""
    if data_dir:
        return Path(data_dir).expanduser()
    from_environment = os.environ.get("MNIST_DIR")
    if from_environment:
        return Path(from_environment).expanduser()
    return default_data_dir()


def find_file(folder: Path, role: str) -> Path | None:
    stem, kind = _STEMS[role]
    for separator in ("-", "."):
        for suffix in (".gz", ""):
            candidate = folder / f"{stem}{separator}{kind}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def missing_files(folder: Path) -> list[str]:
    return [MNIST_FILE_NAMES[role] for role in ROLES if find_file(folder, role) is None]


def has_dataset_files(folder: str | os.PathLike) -> bool:
    return Path(folder).is_dir() and not missing_files(Path(folder))


def load_dataset(folder: str | os.PathLike) -> Dataset:
    """Read the four IDX files of `folder`, or raise DatasetError saying what is wrong."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such folder. It should hold the four MNIST files "
                           f"({', '.join(MNIST_FILE_NAMES.values())}); download them with "
                           f"'main.py download' or point --data-dir at them")
    absent = missing_files(folder)
    if absent:
        raise DatasetError(f"{folder}: missing {', '.join(absent)} (raw or .gz; "
                           f"'train-images.idx3-ubyte' naming works too)")
    arrays = {role: read_idx(find_file(folder, role), _expected_header(role)) for role in ROLES}
    for part in ("train", "test"):
        _check_pair(folder, part, arrays[f"{part}_images"], arrays[f"{part}_labels"])
    name, class_names = identify(folder, idx_bytes(arrays["test_labels"]))
    return Dataset(name, class_names,
                   arrays["train_images"].reshape(-1, IMAGE_SHAPE[0] * IMAGE_SHAPE[1]), arrays["train_labels"],
                   arrays["test_images"].reshape(-1, IMAGE_SHAPE[0] * IMAGE_SHAPE[1]), arrays["test_labels"],
                   folder)


def _expected_header(role: str) -> Callable[[IdxHeader], str | None]:
    """The check of a file's header alone, before its values are read: images (N, 28, 28) bytes,
    labels (N,) bytes, N at most MAX_IMAGES."""
    part, kind = role.split("_")

    def check(header: IdxHeader) -> str | None:
        found = f"found shape {header.shape} of {header.dtype.newbyteorder('=')}"
        if kind == "images" and (header.dtype != np.uint8 or header.shape[1:] != IMAGE_SHAPE):
            return f"{part} set: images must be 28x28 bytes, {found}"
        if kind == "labels" and (header.dtype != np.uint8 or len(header.shape) != 1):
            return f"{part} set: labels must be one byte each, {found}"
        if header.shape[0] > MAX_IMAGES:
            return f"{part} set: the header declares {header.shape[0]:,} {kind}, more than the {MAX_IMAGES:,} read here"
        return None

    return check


def _check_pair(folder: Path, part: str, images: np.ndarray, labels: np.ndarray) -> None:
    def fail(problem: str) -> DatasetError:
        return DatasetError(f"{folder}: {part} set: {problem}")

    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise fail(f"images must be 28x28 bytes, found shape {images.shape} of {images.dtype}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise fail(f"labels must be one byte each, found shape {labels.shape} of {labels.dtype}")
    if len(images) != len(labels):
        raise fail(f"{len(images)} images but {len(labels)} labels")
    if len(images) == 0:
        raise fail("it holds no images")
    if labels.max() >= CLASS_COUNT:
        raise fail(f"label {int(labels.max())} is out of range (0-{CLASS_COUNT - 1})")


def identify(folder: Path, test_label_bytes: bytes) -> tuple[str, tuple[str, ...]]:
    """The dataset's name and class names: known by its labels' fingerprint, else by its folder."""
    known = _KNOWN_TEST_LABELS.get(hashlib.sha256(test_label_bytes).hexdigest())
    if known:
        return known
    if "fashion" in folder.name.lower():
        return "Fashion-MNIST", FASHION_NAMES
    return folder.name or "dataset", DIGIT_NAMES
