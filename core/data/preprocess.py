"""Turning a drawing of any size into the 28x28 image MNIST would have made of it.

MNIST's recipe (LeCun et al.): crop to the ink's bounding box, scale it anti-aliased, aspect kept,
so its longer side is 20 px, and place it in a 28x28 frame with its center of mass at the center.
A pad that skipped this and shrank its canvas straight to 28x28 would feed the model digits that
are too big, too small or off-center, and it would fail on digits that are drawn well.

"The center" is where MNIST's digits have it, measured: row 13.996 +- 0.289, column 14.007 +-
0.291 over the 60,000 training images (13.993 / 14.008 on the test set), i.e. pixel (14, 14) up
to the whole-pixel placement (a uniform +-0.5 has a spread of 0.289). The frame's geometric
center, (13.5, 13.5), would put every drawing half a pixel up and left of every training digit.
tests/core/test_preprocess_mnist.py pins this and the other steps (box, anti-aliasing, ink) to
statistics of the training set itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME = 28
BOX = 20
MASS_CENTER = FRAME / 2  # (row, column) of MNIST's centers of mass, in pixel indices: see above
# How wide a pen draws, in pixels of the 28x28 frame, for a digit to carry as much ink as MNIST's:
# test digits redrawn on the pad along their skeletons (tests/drawn_digits.py) came out with 84 of
# 784 pixel values a digit at 2.0, 91 at 2.2, 102.6 at 2.5, and MNIST's training digits have 102.4
# (ink pixels 18.9 % against 19.1 %, their mean 0.69 against 0.68). See model_pen_width.
MNIST_STROKE = 2.5
INK_THRESHOLD = 0.1  # below this (in [0, 1], above the background) a pixel is background, not ink
MIN_CONTRAST = 0.25  # the brightest ink must stand this far out of the background (uniform grey: 0)
MIN_INK_PIXELS = 4  # fewer ink pixels than this, or than MIN_INK_FRACTION of the picture, are specks
MIN_INK_FRACTION = 1e-4
MIN_INK_AFTER_SCALING = 0.05  # the digit's brightest pixel once at 20 px (a pen stroke: 1.0)
FLOAT = np.float32


@dataclass(frozen=True)
class Placement:
    """Where to_mnist took the digit from in the source picture and where it put it in the frame.

    It maps anything computed on the 28x28 input (a saliency map) back onto the picture the user
    drew, so that the pad can show it under the strokes it is about.
    """

    source_shape: tuple[int, int]
    crop: tuple[int, int, int, int]  # top, left, height, width of the ink's box in the source
    box: tuple[int, int, int, int]  # top, left, height, width of the scaled digit in the frame

    def to_source(self, frame_values: np.ndarray, step: int = 1) -> np.ndarray:
        """(28, 28) values -> the source's shape, interpolated linearly; 0 outside the ink's box.
        `step` > 1 samples every step-th source pixel (at the centre of each step x step block):
        a picture drawn scaled up anyway (the pad's overlay) costs step**2 times less to make."""
        values = np.asarray(frame_values, dtype=FLOAT).reshape(FRAME, FRAME)
        rows = _back_weights(self.source_shape[0], self.crop[0], self.crop[2], self.box[0], self.box[2], step)
        cols = _back_weights(self.source_shape[1], self.crop[1], self.crop[3], self.box[1], self.box[3], step)
        return rows @ values @ cols.T


def _back_weights(source: int, crop_start: int, crop_size: int, box_start: int, box_size: int,
                  step: int = 1) -> np.ndarray:
    """(source / step, FRAME) matrix: each sampled source pixel's linear interpolation weights over frame pixels."""
    pixel = np.arange(0, source, step, dtype=np.float64) + (step - 1) / 2
    position = box_start + (pixel + 0.5 - crop_start) * box_size / crop_size - 0.5  # in frame pixels
    inside = (pixel >= crop_start) & (pixel < crop_start + crop_size)
    position = np.clip(position, 0, FRAME - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, FRAME - 1)
    upper = position - low
    weights = np.zeros((len(pixel), FRAME), dtype=np.float64)
    np.add.at(weights, (np.arange(len(pixel)), low), (1 - upper) * inside)
    np.add.at(weights, (np.arange(len(pixel)), high), upper * inside)
    return weights.astype(FLOAT)


def to_mnist(image: np.ndarray) -> np.ndarray | None:
    """(28, 28) float32 in [0, 1], white ink on black, or None when the image holds no ink.

    `image` is a 2-D grayscale array: integers (0-255) or floats in [0, 1]. Dark ink on a light
    background (a scanned or photographed digit) is inverted first.
    """
    placed = to_mnist_placed(image)
    return None if placed is None else placed[0]


def to_mnist_placed(image: np.ndarray) -> tuple[np.ndarray, Placement] | None:
    """to_mnist's image with the Placement that maps its frame back onto `image`."""
    gray = _as_unit_float(image)
    if _background_is_light(gray):
        gray = 1.0 - gray
    # Ink is measured from the background, not from black: on grey paper (a photo, a uniform grey
    # picture) only what stands out of it counts, and a picture without contrast has no ink.
    # The ink's range is stretched to MNIST's, whose strokes reach full white: a pencil digit counts.
    background, brightest = float(np.median(_border(gray))), float(gray.max())
    if brightest - background < MIN_CONTRAST:
        return None
    gray = np.clip((gray - background) / (brightest - background), 0.0, 1.0)
    ink = gray >= INK_THRESHOLD
    if np.count_nonzero(ink) < max(MIN_INK_PIXELS, MIN_INK_FRACTION * gray.size):
        return None  # a few stray pixels: dust, a speck of JPEG noise
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    cropped = gray[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = BOX / max(cropped.shape)
    height, width = (max(1, round(side * scale)) for side in cropped.shape)
    digit = np.clip(resize_area(cropped, height, width), 0.0, 1.0)
    if float(digit.max()) < MIN_INK_AFTER_SCALING:
        return None  # specks scattered far apart: nothing is left of them at MNIST's size
    # in MNIST's 256 ink levels: the resampling's traces below half a level are no ink there either
    digit = np.round(digit * 255) / FLOAT(255)
    if not digit.any():
        return None
    top, left = _mass_offsets(digit)
    frame = np.zeros((FRAME, FRAME), dtype=FLOAT)
    frame[top:top + height, left:left + width] = digit
    crop = (int(rows[0]), int(cols[0]), cropped.shape[0], cropped.shape[1])
    return frame, Placement((gray.shape[0], gray.shape[1]), crop, (top, left, height, width))


def model_pen_width(extent: float, minimum: float) -> float:
    """The pen width with which to render strokes spanning `extent` (the longer side of the box of
    their points) for the model: MNIST_STROKE px once the ink's longer side is scaled to BOX px.

    A pad whose pen has one width for every drawing would give a digit drawn small strokes twice
    as thick, in the model's 28x28 frame, as one drawn large (21 px on the 280-px pad: 4.7 px in
    the frame for a digit 90 px high, 1.8 px for one 230 px high); MNIST's writers filled a box of
    one size. The ink's side is extent + width, so width = MNIST_STROKE * extent / (BOX - MNIST_STROKE).
    `minimum` (same units) is for a dot or a short dash, whose extent says nothing.
    """
    return max(minimum, MNIST_STROKE * extent / (BOX - MNIST_STROKE))


def _as_unit_float(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"expected a 2-D grayscale image, got shape {image.shape}")
    if np.issubdtype(image.dtype, np.integer):
        return np.clip(image.astype(FLOAT) / FLOAT(255), 0.0, 1.0)
    return np.clip(image.astype(FLOAT), 0.0, 1.0)


def _border(gray: np.ndarray) -> np.ndarray:
    return np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])


def _background_is_light(gray: np.ndarray) -> bool:
    return float(np.median(_border(gray))) > 0.5


def resize_area(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resample by area averaging: each output pixel is the mean of the input area it covers.

    This is the anti-aliased downscale (no pixel is skipped, thin strokes fade instead of
    vanishing); written as two small matrix products so it needs nothing beyond NumPy.
    """
    return _area_weights(image.shape[0], height) @ image @ _area_weights(image.shape[1], width).T


def _area_weights(source: int, target: int) -> np.ndarray:
    """(target, source) matrix: row i averages source interval [i, i+1) * source/target."""
    edges = np.arange(target + 1, dtype=np.float64) * (source / target)
    starts, ends = edges[:-1, None], edges[1:, None]
    pixel = np.arange(source, dtype=np.float64)[None, :]
    overlap = np.clip(np.minimum(ends, pixel + 1) - np.maximum(starts, pixel), 0.0, None)
    return (overlap / (source / target)).astype(FLOAT)


def _mass_offsets(digit: np.ndarray) -> tuple[int, int]:
    """Where `digit` goes in the 28x28 frame for its center of mass to land where MNIST's do (MASS_CENTER)."""
    height, width = digit.shape
    total = digit.sum()
    mass_row = float((digit.sum(axis=1) * np.arange(height)).sum() / total)
    mass_col = float((digit.sum(axis=0) * np.arange(width)).sum() / total)
    # whole-pixel placement, as MNIST's; the whole digit stays inside the frame even when its mass
    # lies far off its box's center
    top = int(np.clip(np.floor(MASS_CENTER - mass_row + 0.5), 0, FRAME - height))
    left = int(np.clip(np.floor(MASS_CENTER - mass_col + 0.5), 0, FRAME - width))
    return top, left
