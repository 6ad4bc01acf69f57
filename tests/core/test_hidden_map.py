"""The hidden-layer map: PCA that does not mirror between snapshots, t-SNE that keeps clusters apart."""

from __future__ import annotations

import numpy as np

from core.analysis.hidden_map import last_hidden, map_sample, pca_2d, tsne_2d
from core.engine.network import MLP


def clusters(count_per_class: int = 50, classes: int = 3, dims: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 6, (classes, dims))
    labels = np.repeat(np.arange(classes), count_per_class)
    return centres[labels] + rng.normal(0, 1, (len(labels), dims)), labels


def neighbour_agreement(points: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    distances = np.square(points[:, None, :] - points[None, :, :]).sum(axis=2)
    np.fill_diagonal(distances, np.inf)
    nearest = np.argsort(distances, axis=1)[:, :k]
    return float(np.mean(labels[nearest] == labels[:, None]))


def test_pca_projects_on_the_directions_of_largest_variance_and_keeps_its_signs():
    rng = np.random.default_rng(1)
    features = rng.normal(0, 1, (500, 5)) * np.array([10.0, 3.0, 1.0, 0.5, 0.1])
    coordinates, axes = pca_2d(features)
    assert coordinates.shape == (500, 2)
    np.testing.assert_allclose(np.abs(axes[0]), [1, 0, 0, 0, 0], atol=0.05)
    np.testing.assert_allclose(np.abs(axes[1]), [0, 1, 0, 0, 0], atol=0.05)
    assert coordinates[:, 0].var() > coordinates[:, 1].var()
    flipped, flipped_axes = pca_2d(features, previous_axes=-axes)
    np.testing.assert_allclose(flipped, -coordinates, rtol=1e-5, atol=1e-4)
    again, _ = pca_2d(features, previous_axes=axes)
    np.testing.assert_allclose(again, coordinates, rtol=1e-5, atol=1e-4)


def test_tsne_keeps_separate_clusters_apart_and_can_be_cancelled():
    features, labels = clusters()
    points = tsne_2d(features, perplexity=15, iterations=300)
    assert points.shape == (150, 2) and np.all(np.isfinite(points))
    assert neighbour_agreement(points, labels) > 0.95
    seen = []
    assert tsne_2d(features, iterations=300, progress=lambda fraction: seen.append(fraction) or len(seen) < 3) is None
    assert seen == [10 / 300, 20 / 300, 30 / 300]


def test_the_map_reads_the_last_hidden_layer_of_a_fixed_sample():
    model = MLP.initialized((784, 16, 8, 10), seed=3)
    images = np.random.default_rng(2).integers(0, 256, (30, 784), dtype=np.uint8)
    hidden = last_hidden(model, images)
    assert hidden.shape == (30, 8) and (hidden >= 0).all()
    labels = np.arange(5000) % 10
    assert np.array_equal(map_sample(labels, 2000), map_sample(labels, 2000))
    assert len(np.unique(map_sample(labels, 2000))) == 2000 and len(map_sample(labels[:100], 2000)) == 100
