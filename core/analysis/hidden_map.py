"""The last hidden layer's picture of the test images, flattened to 2-D: watch the classes pull apart.

PCA is cheap (2,000 x 64 outputs: an SVD of a 64 x 64 matrix), so the map follows a live run.
Its axes are only defined up to sign, and a sign that flipped between two snapshots would mirror
the whole map: each new projection's axes are turned to agree with the previous one's.

t-SNE (van der Maaten and Hinton 2008) separates the classes better but takes seconds, so it is
run on request for a finished model, in steps that report progress and can be cancelled. It is
written here in NumPy (exact gradients, 2,000 points) rather than pulled in from scikit-learn,
a 40 MB dependency for one function.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.analysis.explain import layer_activations
from core.engine.network import MLP

MAP_SAMPLES = 2000


def map_sample(labels: np.ndarray, count: int = MAP_SAMPLES, seed: int = 0) -> np.ndarray:
    """A fixed, seeded choice of `count` indices (sorted), the same at every update of a map."""
    count = min(count, len(labels))
    return np.sort(np.random.default_rng(seed).choice(len(labels), count, replace=False))


def last_hidden(model: MLP, images: np.ndarray) -> np.ndarray:
    """(N, units) float32: the last hidden layer's ReLU outputs for images (N, 784) uint8 or [0, 1] floats."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255
    return layer_activations(model, images)[-2] if len(model.weights) > 1 else images


def pca_2d(features: np.ndarray, previous_axes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(N, 2) coordinates on the two principal axes of `features` (N, d), and the axes (2, d).

    With `previous_axes` (the last map's), each axis is turned by its sign to point the way the
    previous one did, so successive maps of a training run do not mirror.
    """
    centred = (features - features.mean(axis=0)).astype(np.float64)
    # the covariance's eigenvectors: a d x d problem (64 x 64), whatever the number of images
    _, vectors = np.linalg.eigh(centred.T @ centred)
    axes = vectors[:, ::-1][:, :2].T
    if len(axes) < 2:
        axes = np.vstack([axes, np.zeros_like(axes)])
    if previous_axes is not None and previous_axes.shape == axes.shape:
        signs = np.sign(np.sum(axes * previous_axes, axis=1))
        axes = axes * np.where(signs == 0, 1, signs)[:, None]
    return (centred @ axes.T).astype(np.float32), axes


def _affinities(features: np.ndarray, perplexity: float) -> np.ndarray:
    """t-SNE's symmetric input affinities P (N, N): each point's Gaussian over its 3 x perplexity
    nearest neighbours (the rest are ~0 at this perplexity, as in Barnes-Hut t-SNE), its width
    set by bisection so that its entropy is log(perplexity)."""
    squared = np.square(features).sum(axis=1)
    distances = np.maximum(squared[:, None] + squared[None, :] - 2 * features @ features.T, 0)
    np.fill_diagonal(distances, np.inf)
    n = len(features)
    neighbours = min(n - 1, int(3 * perplexity))
    nearest = np.argpartition(distances, neighbours - 1, axis=1)[:, :neighbours]
    near = np.take_along_axis(distances, nearest, axis=1)
    near = near - near.min(axis=1, keepdims=True)
    low, high, beta = np.zeros(n), np.full(n, np.inf), np.ones(n)
    target = np.log(perplexity)
    for _ in range(64):  # every row's bisection at once
        weights = np.exp(-near * beta[:, None])
        total = weights.sum(axis=1)
        entropy = np.log(total) + beta * np.sum(near * weights, axis=1) / total
        too_flat = entropy > target
        low = np.where(too_flat, beta, low)
        high = np.where(too_flat, high, beta)
        beta = np.where(np.isinf(high), beta * 2, (low + high) / 2)
    conditional = np.zeros((n, n))
    np.put_along_axis(conditional, nearest, weights / total[:, None], axis=1)
    joint = (conditional + conditional.T) / (2 * n)
    return np.maximum(joint, 1e-12)


def tsne_2d(features: np.ndarray, perplexity: float = 30.0, iterations: int = 350, seed: int = 0,
            progress: Callable[[float], bool] | None = None) -> np.ndarray | None:
    """(N, 2) t-SNE coordinates of `features` (N, d); None if `progress(fraction)` returned False
    (cancelled). Early exaggeration 12 for the first quarter, momentum 0.5 then 0.8, gains as in
    the paper's reference implementation."""
    features = np.asarray(features, dtype=np.float64)
    features = features - features.mean(axis=0)
    scale = np.abs(features).max()
    features = features / scale if scale > 0 else features
    n = len(features)
    perplexity = min(perplexity, max(1.0, (n - 1) / 3))
    joint = _affinities(features, perplexity)
    points = np.random.default_rng(seed).normal(0, 1e-4, (n, 2))
    velocity, gains = np.zeros_like(points), np.ones_like(points)
    exaggerated_until = iterations // 4
    joint = joint.astype(np.float32)
    for iteration in range(iterations):
        exaggeration = np.float32(12.0 if iteration < exaggerated_until else 1.0)
        squared = np.square(points).sum(axis=1)
        kernel = (squared[:, None] + squared[None, :] - 2 * points @ points.T).astype(np.float32)
        np.maximum(kernel, 0, out=kernel)
        kernel += 1
        np.reciprocal(kernel, out=kernel)
        np.fill_diagonal(kernel, 0)
        # forces = (P - Q) * kernel, with Q = kernel / sum(kernel), in place: N x N is the cost here
        q_scale = np.float32(1 / kernel.sum())
        forces = joint * exaggeration
        forces -= kernel * q_scale
        forces *= kernel
        gradient = 4 * (forces.sum(axis=1)[:, None] * points - forces @ points)
        momentum = 0.5 if iteration < exaggerated_until else 0.8
        same_sign = np.sign(gradient) == np.sign(velocity)
        gains = np.maximum(np.where(same_sign, gains * 0.8, gains + 0.2), 0.01)
        velocity = momentum * velocity - 200.0 * gains * gradient
        points = points + velocity
        points -= points.mean(axis=0)
        if progress is not None and iteration % 10 == 9 and progress((iteration + 1) / iterations) is False:
            return None
    return points.astype(np.float32)
