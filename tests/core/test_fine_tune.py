"""Teaching the model the user's handwriting, and the personal set kept as IDX files."""

from __future__ import annotations

import numpy as np
import pytest

from core.data.dataset import load_dataset
from core.data.personal_set import IMAGES, LABELS, PersonalSet
from core.engine.fine_tune import fine_tune
from core.errors import DatasetError


def test_the_personal_set_keeps_drawings_as_idx_and_refuses_damaged_files(tmp_path):
    folder = tmp_path / "personal"
    drawings = PersonalSet(folder)
    assert len(drawings) == 0
    image = np.zeros((28, 28), np.float32)
    image[10:18, 12:16] = 1.0
    drawings.add(image, 7)
    drawings.add((image * 255).astype(np.uint8), 1)
    again = PersonalSet(folder)
    assert len(again) == 2 and again.labels.tolist() == [7, 1]
    assert again.images[0].max() == 255 and again.flat_images().shape == (2, 784)
    exported = again.export(tmp_path / "out")
    assert PersonalSet(exported).labels.tolist() == [7, 1]
    with pytest.raises(ValueError):
        again.add(image, 10)

    whole_labels = (folder / LABELS).read_bytes()
    (folder / LABELS).write_bytes(whole_labels[:-1])  # a save killed half-way
    with pytest.raises(DatasetError, match=LABELS):
        PersonalSet(folder)
    (folder / LABELS).write_bytes(whole_labels)
    (folder / IMAGES).write_bytes(b"\x00\x00\x08\x01" + (5).to_bytes(4, "big") + bytes(5))  # 1-d "images"
    with pytest.raises(DatasetError, match="28x28"):
        PersonalSet(folder)
    again.clear()
    assert len(PersonalSet(folder)) == 0 and not (folder / IMAGES).exists()


def rotated(image: np.ndarray, degrees: float) -> np.ndarray:
    """`image` (28, 28) uint8 turned about its centre (nearest pixel): a way of writing MNIST never saw."""
    angle = np.deg2rad(degrees)
    rows, cols = np.mgrid[0:28, 0:28] - 13.5
    source_rows = np.round(np.cos(angle) * rows - np.sin(angle) * cols + 13.5).astype(int)
    source_cols = np.round(np.sin(angle) * rows + np.cos(angle) * cols + 13.5).astype(int)
    inside = (source_rows >= 0) & (source_rows < 28) & (source_cols >= 0) & (source_cols < 28)
    out = np.zeros_like(image)
    out[inside] = image[source_rows[inside], source_cols[inside]]
    return out


def test_fine_tuning_on_ten_misread_drawings_reads_most_of_them_and_keeps_the_test_accuracy(mnist_dir, bundled_model):
    """Issue 15: ten wrongly read personal drawings, at least eight right after, test accuracy within 0.3 pp."""
    model = bundled_model
    dataset = load_dataset(mnist_dir)
    rng = np.random.default_rng(3)
    personal, labels = [], []
    for index in rng.permutation(len(dataset.train_images)):  # a slanted hand: training digits turned 40 degrees
        image = rotated(dataset.train_images[index].reshape(28, 28), 40)
        if model.predict(image.reshape(1, -1))[0] != dataset.train_labels[index]:
            personal.append(image.reshape(-1))
            labels.append(dataset.train_labels[index])
        if len(labels) == 10:
            break
    personal, labels = np.array(personal), np.array(labels, dtype=np.uint8)
    result = fine_tune(model, dataset.train_images, dataset.train_labels, personal, labels)
    assert result.personal_before == 0.0
    assert result.personal_after >= 0.8, result.personal_after
    before = np.mean(model.predict(dataset.test_images) == dataset.test_labels)
    after = np.mean(result.model.predict(dataset.test_images) == dataset.test_labels)
    assert after >= before - 0.003, (before, after)
    assert np.all(np.isfinite(result.losses)) and len(result.losses) == 300
    assert np.mean(model.predict(personal) == labels) == 0.0, "the model given is left as it was"
