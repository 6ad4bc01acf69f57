"""Training images distorted afresh each epoch, as handwriting varies: augmentation.

Each training image, each epoch, is moved by its own random distortion: a shift, a small rotation,
a scaling, a shear (slant), an elastic distortion in the manner of Simard, Steinkraus & Platt
(2003: a smooth random displacement field), and a thicker or thinner stroke. A model that has
seen these reads a digit drawn on the pad, which is never quite where or how MNIST's are, nearly
as well as the test set (tests/drawn_digits.py).

The distortion's numbers come from a generator seeded by the run's seed and the epoch's number:
the same seed gives the same images, the same curve, and a run resumed mid-epoch the same epoch.

Speed: a plain epoch takes about 0.4 s, so an epoch's 60,000 images must cost a fraction of that.
The warp works on each image's non-zero pixels only (about 150 of 784), mapping each forward to
where the distortion sends it and spreading it over the four pixels around that point (bilinear
splatting: the ink is kept, no hole opens at these scales), in compiled code
(core/data/augment_kernels.py). `EpochImages` makes the next epoch's images on one core while the
current one trains (see there why one), so an epoch waits for its images only at the run's start.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np

from core.compiled import kernels
from core.data import augment_kernels
from core.data.sparse_images import SparseImages

FRAME = 28
GRID = augment_kernels.GRID  # the elastic field's control points per side (4 x 4, 9 px apart)


@dataclass(frozen=True)
class Distortions:
    """How far each kind of distortion goes: each image draws its own, uniformly within these."""

    shift: float = 2.0  # px, each axis
    rotation: float = 12.0  # degrees, either way
    scale: float = 0.1  # 1 +- this
    shear: float = 0.2  # horizontal slant, column offset per row
    elastic: float = 1.2  # px: the standard deviation of the field at its control points
    thicker: float = 0.8  # at most this share of a one-pixel dilation
    thinner: float = 0.5  # at most this share of a one-pixel erosion


def draw_parameters(count: int, rng: np.random.Generator, distortions: Distortions = Distortions(),
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per image: (count, 2, 3) float32 affine maps (row, col) -> (row, col) about the frame's
    center of mass (14, 14), (count, 2, GRID, GRID) float32 elastic displacements at the control
    points, (count,) float32 stroke changes in [-thinner, thicker] (> 0 thickens)."""
    d = distortions
    angle = np.deg2rad(rng.uniform(-d.rotation, d.rotation, count))
    scale = 1 + rng.uniform(-d.scale, d.scale, count)
    shear = rng.uniform(-d.shear, d.shear, count)
    shift = rng.uniform(-d.shift, d.shift, (count, 2))
    cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
    # a shear (columns moved by `shear` per row from the center) after the rotation and scaling
    matrix = np.empty((count, 2, 2))
    matrix[:, 0, 0], matrix[:, 0, 1] = cos, -sin
    matrix[:, 1, 0], matrix[:, 1, 1] = sin + cos * shear, cos - sin * shear
    center = FRAME / 2
    affine = np.empty((count, 2, 3), dtype=np.float32)
    affine[:, :, :2] = matrix
    affine[:, :, 2] = center + shift - matrix @ np.array([center, center])
    # uniform, as Simard et al.'s field before smoothing, with the standard deviation asked for:
    # a fifth of the cost of normal draws (28 ms an epoch), which counted against the step
    half_width = np.float32(d.elastic * np.sqrt(3.0))
    elastic = (rng.random((count, 2, GRID, GRID), dtype=np.float32) * 2 - 1) * half_width
    stroke = rng.uniform(-d.thinner, d.thicker, count).astype(np.float32)
    return affine, elastic, stroke


def distort(images: SparseImages, affine: np.ndarray, elastic: np.ndarray, stroke: np.ndarray,
            parts: int = 1, faintest: np.ndarray | None = None) -> SparseImages:
    """The images (28x28, as sparse rows) distorted, as sparse rows of uint8 levels / 255; `parts`
    threads share the work. `faintest`: each image's faintest level kept (default: every level, a
    pure warp; training cuts splatting's fringe: EpochImages)."""
    if faintest is None:
        faintest = np.zeros(len(images), dtype=np.uint8)
    return augment_kernels.distort(images.starts, images.columns, images.values, affine, elastic, stroke, faintest,
                                   parts)


class EpochImages:
    """The training images for each epoch of a run: the originals distorted with the epoch's numbers.

    `for_epoch(epoch)` returns what the training step reads (SparseImages when `sparse`, else
    (N, 784) uint8) and starts making the next epoch's in a background thread, on one core;
    `making` says whether that thread is at work, and the trainer runs the step on one kernel
    thread meanwhile. The numbers of epoch e come from default_rng((seed, e)), whatever was asked
    before, and the step's sums do not depend on its thread count: the images and the curve are
    the same however the work was shared.

    Why one core each: the step's two kernel threads meet twice a batch, and a making thread beside
    them took a core from one of them at random, stalling both (2.1-2.4x a plain epoch). Made at
    each epoch's start on both cores, the images cost their whole making time (1.67-1.96x). The
    step on one thread takes about 1.5 times as long as on two (0.62 against 0.41 s an Adam epoch),
    but only while the images are made (0.24 s of a core): 1.36x, median of twelve pairs of 10-epoch
    Adam runs (bench/bench_augment.py, no other work on the machine; run medians 1.15-1.43x). Made beside the
    step's two threads at the lowest priority (SCHED_IDLE), to fill their waits, the making
    starved and the epochs waited for it: 1.75x against 1.36x in the same session.
    """

    def __init__(self, images: np.ndarray, seed: int, sparse: bool, distortions: Distortions = Distortions()) -> None:
        self.originals = SparseImages.from_images(images)
        self.faintest = augment_kernels.faintest_levels(self.originals.starts, self.originals.values)
        self.seed, self.sparse, self.distortions = seed, sparse, distortions
        # the next epoch's images, being made by `_maker`'s one thread (a failure there is made
        # again in the foreground, where it raises)
        self._next: tuple[int, Future] | None = None
        self._maker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="augment")

    @property
    def making(self) -> bool:
        """Whether the next epoch's images are being made in the background now."""
        return self._next is not None and not self._next[1].done()

    def for_epoch(self, epoch: int, prepare_next: bool = True) -> SparseImages | np.ndarray:
        ahead, self._next = self._next, None
        if ahead is not None:
            wait([ahead[1]])  # never two makings at once
        if ahead is not None and ahead[0] == epoch and ahead[1].exception() is None:
            images = ahead[1].result()
        else:
            images = self._make(epoch, kernels.THREADS)
        if prepare_next:
            self._next = (epoch + 1, self._maker.submit(self._make, epoch + 1, 1))
        if self.sparse and isinstance(images, np.ndarray):  # made before the run moved to the compiled step
            images = SparseImages.from_images(images)
        return images

    def close(self) -> None:
        """Wait for a background epoch, if any, and end the making thread (the run is over)."""
        self._next = None
        self._maker.shutdown(wait=True)

    def _make(self, epoch: int, parts: int) -> SparseImages | np.ndarray:
        rng = np.random.default_rng((self.seed, epoch))
        images = distort(self.originals, *draw_parameters(len(self.originals), rng, self.distortions),
                         parts=parts, faintest=self.faintest)
        return images if self.sparse else augment_kernels.to_uint8(images)
