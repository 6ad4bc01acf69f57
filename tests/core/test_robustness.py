"""Robustness curves: each change at level zero leaves the images alone, and grows as its level does."""

import numpy as np
import pytest

from core.analysis.robustness import LEVELS, changed_images, robustness_curves
from core.engine.network import MLP
from tests.fake_data import make_digit_like_images


@pytest.fixture(scope="module")
def images():
    return make_digit_like_images(200, seed=6)[0].reshape(-1, 784)


@pytest.mark.parametrize("name, neutral", [("shift", 0), ("rotation", 0), ("scale", 1.0), ("stroke", 0), ("noise", 0)])
def test_the_neutral_level_gives_the_images_back(images, name, neutral):
    changed = changed_images(images, name, neutral, np.random.default_rng(0))
    as_bytes = np.round(changed * 255) if changed.dtype != np.uint8 else changed
    np.testing.assert_array_equal(as_bytes, images)


@pytest.mark.parametrize("name", ["shift", "rotation", "noise"])
def test_a_higher_level_changes_the_images_more(images, name):
    original = images.astype(np.float64) / 255
    change = []
    for level in LEVELS[name][1:4]:
        changed = changed_images(images, name, level, np.random.default_rng(0))
        changed = changed / 255 if changed.dtype == np.uint8 else changed
        change.append(np.abs(changed - original).mean())
    assert change[0] < change[1] < change[2]


def test_a_shift_moves_the_center_of_mass_by_its_length():
    def centers(batch):
        batch = batch.reshape(-1, 28, 28).astype(np.float64)
        total = batch.sum(axis=(1, 2))
        return np.stack([(batch.sum(axis=2) @ np.arange(28)) / total, (batch.sum(axis=1) @ np.arange(28)) / total], 1)

    blobs = np.zeros((50, 28, 28), np.uint8)
    blobs[:, 10:18, 11:17] = 200  # far enough from the edges to stay whole
    blobs = blobs.reshape(50, 784)
    moved = changed_images(blobs, "shift", 2, np.random.default_rng(0))
    distance = np.hypot(*(centers(moved) - centers(blobs)).T)
    np.testing.assert_allclose(distance, 2, atol=0.05)
    assert moved.astype(float).sum() == pytest.approx(blobs.astype(float).sum(), rel=0.01)


def test_stroke_levels_thin_and_thicken(images):
    ink = {level: changed_images(images, "stroke", level, np.random.default_rng(0)).astype(float).sum()
           for level in (-1.0, 0.0, 1.0, 2.0)}
    assert ink[-1.0] < ink[0.0] < ink[1.0] < ink[2.0]


def test_curves_score_the_same_sample_at_every_level_and_the_neutral_one_is_the_plain_accuracy(images):
    labels = make_digit_like_images(200, seed=6)[1]
    model = MLP.initialized((784, 32, 10), seed=2)
    plain = float(np.mean(model.predict(images) == labels))
    curves = robustness_curves(model, images, labels, sample=500)
    assert [curve.name for curve in curves] == list(LEVELS)
    for curve in curves:
        assert len(curve.accuracies) == len(curve.levels) == len(LEVELS[curve.name])
        assert all(0 <= accuracy <= 1 for accuracy in curve.accuracies)
        neutral = curve.levels.index(1.0 if curve.name == "scale" else 0.0)
        assert curve.accuracies[neutral] == pytest.approx(plain)
    with pytest.raises(ValueError, match="unknown change"):
        changed_images(images, "blur", 1, np.random.default_rng(0))
