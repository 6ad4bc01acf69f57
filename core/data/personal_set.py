"""The user's own handwriting: drawings the pad misread, kept with the digit they should have been.

Kept in the user's data folder as two IDX files, MNIST's own format (`<data>/personal/`
`train-images-idx3-ubyte` and `train-labels-idx1-ubyte`), so the set is a dataset like any
other: it can be exported to a folder, read back, or added to a training run. Each image is the
28x28 picture the model saw (core/data/preprocess.py's output), stored as uint8 like MNIST's.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import numpy as np
import platformdirs

from core.data.dataset import APP_NAME
from core.data.idx import read_idx, write_idx
from core.errors import DatasetError

IMAGES = "train-images-idx3-ubyte"
LABELS = "train-labels-idx1-ubyte"
MAX_DRAWINGS = 10_000  # a personal set past this is not one a person drew


def default_personal_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "personal"


class PersonalSet:
    """The drawings in one folder: `images` (N, 28, 28) uint8 and `labels` (N,) uint8."""

    def __init__(self, folder: str | os.PathLike | None = None, classes: int = 10) -> None:
        self.folder = Path(folder) if folder is not None else default_personal_dir()
        self.classes = classes
        self.images, self.labels = self._read()

    def __len__(self) -> int:
        return len(self.labels)

    def _read(self) -> tuple[np.ndarray, np.ndarray]:
        images_path, labels_path = self.folder / IMAGES, self.folder / LABELS
        if not images_path.exists() and not labels_path.exists():
            return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8)
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
            raise DatasetError(f"{images_path}: not 28x28 uint8 images (shape {images.shape}, {images.dtype})")
        if labels.dtype != np.uint8 or labels.ndim != 1 or len(labels) != len(images):
            raise DatasetError(f"{labels_path}: {labels.shape} labels of {labels.dtype} for {len(images)} images")
        if len(labels) > MAX_DRAWINGS:
            raise DatasetError(f"{images_path}: {len(labels):,} drawings, more than {MAX_DRAWINGS:,}")
        if len(labels) and labels.max() >= self.classes:
            raise DatasetError(f"{labels_path}: a label {int(labels.max())} past the {self.classes} classes")
        return images, labels

    def add(self, image: np.ndarray, label: int) -> None:
        """Keep one drawing: `image` (28, 28) floats in [0, 1] or uint8, `label` its class."""
        if not 0 <= label < self.classes:
            raise ValueError(f"label {label} is not one of the {self.classes} classes")
        if len(self) >= MAX_DRAWINGS:
            raise DatasetError(f"{self.folder}: already {MAX_DRAWINGS:,} drawings")
        image = np.asarray(image)
        if image.dtype != np.uint8:
            image = np.clip(np.round(image * 255), 0, 255).astype(np.uint8)
        images = np.concatenate([self.images, image.reshape(1, 28, 28)])
        labels = np.append(self.labels, np.uint8(label))
        self.folder.mkdir(parents=True, exist_ok=True)
        # labels last: a save killed in between leaves more images than labels, which _read refuses
        # with a message naming the file (Clear then starts afresh), rather than mismatched labels
        write_idx(self.folder / IMAGES, images)
        write_idx(self.folder / LABELS, labels)
        self.images, self.labels = images, labels  # only once both are on disk

    @staticmethod
    def remove(folder: str | os.PathLike | None = None) -> None:
        """Delete a personal set's files, readable or not (a damaged set can always be cleared)."""
        folder = Path(folder) if folder is not None else default_personal_dir()
        for name in (IMAGES, LABELS):
            (folder / name).unlink(missing_ok=True)

    def clear(self) -> None:
        self.remove(self.folder)
        self.images, self.labels = self._read()

    def export(self, folder: str | os.PathLike) -> Path:
        """Copy the two IDX files into `folder` (made if needed): a dataset folder of its own."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in (IMAGES, LABELS):
            shutil.copyfile(self.folder / name, folder / name)
        return folder

    def added_to(self, dataset):
        """`dataset` with these drawings after its training images: a run that learns them too.
        Their labels must be the dataset's classes (the digits for MNIST)."""
        if len(self.labels) and self.labels.max() >= len(dataset.class_names):
            raise DatasetError(f"{self.folder}: a label {int(self.labels.max())} past the dataset's "
                               f"{len(dataset.class_names)} classes")
        return dataclasses.replace(dataset, train_images=np.concatenate([dataset.train_images, self.flat_images()]),
                                   train_labels=np.concatenate([dataset.train_labels, self.labels]))

    def flat_images(self) -> np.ndarray:
        """(N, 784) uint8, as a Dataset holds its images."""
        return self.images.reshape(len(self.images), -1)
