"""How a model's accuracy falls as the test digits are moved, turned, scaled, thickened or noised.

Each curve is the accuracy on the same seeded sample of test images at growing levels of one
change: a shift (pixels, each image in its own direction), a rotation (degrees, each image either
way), a scaling (factor about the frame's center of mass), the stroke (-1: a whole one-pixel
erosion, +1: a one-pixel dilation; +2 twice) and noise (the standard deviation, in ink levels of
[0, 1], of Gaussian noise added to every pixel, clipped to [0, 1]). The geometric changes use the
augmentation's own warp (core/data/augment.py), with the other distortions off. A plain model loses
most of its accuracy within a few pixels or tens of degrees; an augmented one holds longer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.data import augment_kernels
from core.data.augment import FRAME, GRID, distort
from core.data.sparse_images import SparseImages
from core.engine.network import MLP

SAMPLE = 3000  # test images per level (the same ones at every level and for every model)
LEVELS: dict[str, tuple[float, ...]] = {
    "shift": (0, 1, 2, 3, 4, 5),
    "rotation": (0, 10, 20, 30, 40, 50),
    "scale": (0.6, 0.8, 1.0, 1.2, 1.4),
    "stroke": (-1.0, -0.5, 0.0, 1.0, 2.0),
    "noise": (0.0, 0.1, 0.2, 0.3, 0.4, 0.5),
}
UNITS = {"shift": "px", "rotation": "°", "scale": "×", "stroke": "px", "noise": "σ"}


@dataclass(frozen=True)
class RobustnessCurve:
    """Accuracy (fractions) at each level of one change."""

    name: str
    unit: str
    levels: tuple[float, ...]
    accuracies: tuple[float, ...]

    def to_dict(self) -> dict:
        return {"name": self.name, "unit": self.unit, "levels": list(self.levels), "accuracies": list(self.accuracies)}


def changed_images(images: np.ndarray, name: str, level: float, rng: np.random.Generator) -> np.ndarray:
    """`images` ((N, 784) uint8) changed by `level` of `name`, as (N, 784) uint8 (noise: float32)."""
    count = len(images)
    if name == "noise":
        noisy = images.astype(np.float32) / 255 + rng.normal(0.0, level, images.shape).astype(np.float32)
        return np.clip(noisy, 0.0, 1.0)
    matrix = np.tile(np.eye(2), (count, 1, 1))
    shift = np.zeros((count, 2))
    stroke = np.zeros(count, dtype=np.float32)
    if name == "shift":
        angle = rng.uniform(0, 2 * np.pi, count)
        shift = level * np.stack([np.sin(angle), np.cos(angle)], axis=1)
    elif name == "rotation":
        angle = np.deg2rad(level) * rng.choice((-1.0, 1.0), count)
        cos, sin = np.cos(angle), np.sin(angle)
        matrix = np.stack([np.stack([cos, -sin], 1), np.stack([sin, cos], 1)], 1)
    elif name == "scale":
        matrix = matrix * level
    elif name == "stroke":
        stroke[:] = level
    else:
        raise ValueError(f"unknown change {name!r}: one of {', '.join(LEVELS)}")
    center = FRAME / 2
    affine = np.empty((count, 2, 3), dtype=np.float32)
    affine[:, :, :2] = matrix
    affine[:, :, 2] = center + shift - matrix @ np.array([center, center])
    elastic = np.zeros((count, 2, GRID, GRID), dtype=np.float32)
    sparse = SparseImages.from_images(images)
    # a stroke change of more than one pixel: whole one-pixel steps, then the rest
    steps = [np.sign(level)] * int(abs(level)) + ([level - np.trunc(level)] if level != np.trunc(level) else [])
    if name != "stroke" or not steps:
        return augment_kernels.to_uint8(distort(sparse, affine, elastic, stroke))
    for share in steps:
        sparse = distort(sparse, affine, elastic, np.full(count, share, dtype=np.float32))
    return augment_kernels.to_uint8(sparse)


def robustness_curves(model: MLP, images: np.ndarray, labels: np.ndarray, seed: int = 0,
                      sample: int = SAMPLE) -> list[RobustnessCurve]:
    """One curve per change in LEVELS, on `sample` of the (N, 784) uint8 `images` chosen with `seed`."""
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.permutation(len(images))[:sample])
    images, labels = np.asarray(images)[chosen], np.asarray(labels)[chosen]
    curves = []
    for name, levels in LEVELS.items():
        accuracies = []
        for level in levels:
            changed = changed_images(images, name, level, np.random.default_rng((seed, len(curves), len(accuracies))))
            accuracies.append(float(np.mean(model.predict(changed) == labels)))
        curves.append(RobustnessCurve(name, UNITS[name], tuple(float(level) for level in levels), tuple(accuracies)))
    return curves


@dataclass(frozen=True)
class RobustnessComparison:
    """The curves of the current model and, when one was chosen, of a second one, with their names."""

    first: list[RobustnessCurve]
    first_name: str
    second: list[RobustnessCurve] | None = None
    second_name: str = ""


def compare_robustness(model: MLP, name: str, second_path, images: np.ndarray, labels: np.ndarray,
                       ) -> RobustnessComparison:
    """Curves of `model` and of the model saved at `second_path` (None: none), on the same images.

    Raises ModelFileError when the second file cannot be read, ValueError when its model does not
    take these images.
    """
    from core.files.model_file import load_checkpoint

    first = robustness_curves(model, images, labels)
    if second_path is None:
        return RobustnessComparison(first, name)
    second = load_checkpoint(second_path).model
    if second.layer_sizes[0] != model.layer_sizes[0]:
        raise ValueError(f"{second_path}: its model reads {second.layer_sizes[0]} pixels, not {model.layer_sizes[0]}")
    return RobustnessComparison(first, name, robustness_curves(second, images, labels), str(second_path))
