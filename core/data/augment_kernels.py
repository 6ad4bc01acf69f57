"""The distortion of core/data/augment.py, image by image: compiled (numba), or in NumPy without it.

For each image: every non-zero pixel (r, c) goes to (r', c') = A (r, c) + b + e(r, c), where A, b
is the image's affine map and e its elastic field, bilinear between GRID x GRID control points
over the frame; its value is spread over the four pixels around (r', c') with bilinear weights
(splatting: the ink is kept). Then the stroke: s > 0 moves each pixel a share s of the way to the
largest of it and its four neighbours (a partial dilation), s < 0 towards the smallest (erosion).
Values are clipped to [0, 1] and written as uint8 levels, as MNIST's are.
"""

from __future__ import annotations

import numpy as np

from core.compiled import kernels
from core.data.sparse_images import SparseImages

FRAME = 28
GRID = 4
SPACING = (FRAME - 1) / (GRID - 1)
CHUNK = 2048  # images at a time in the NumPy path (its temporaries are about 30 KB an image)


def _distort_compiled(starts, columns, values, affine, elastic, stroke, first, out_starts, out_columns,
                      out_values):  # pragma: no cover - compiled
    """Images first.. as sparse rows into out_* (out_starts[i + 1] set for each image done); returns
    the index of the first image that did not fit in out_columns (len(starts) - 1 when all did)."""
    side = FRAME + 2  # a border of zeros: the stroke's neighbours need no bounds checks
    canvas = np.zeros((side, side), dtype=np.float32)
    scale = np.float32(1 / SPACING)
    for i in range(first, starts.shape[0] - 1):
        low_row, high_row, low_col, high_col = FRAME, -1, FRAME, -1
        for k in range(starts[i], starts[i + 1]):
            r = columns[k] // FRAME
            c = columns[k] - r * FRAME
            gy, gx = np.float32(r) * scale, np.float32(c) * scale
            iy, ix = min(int(gy), GRID - 2), min(int(gx), GRID - 2)
            fy, fx = gy - np.float32(iy), gx - np.float32(ix)
            w00, w01, w10, w11 = (1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx
            dy = (w00 * elastic[i, 0, iy, ix] + w01 * elastic[i, 0, iy, ix + 1]
                  + w10 * elastic[i, 0, iy + 1, ix] + w11 * elastic[i, 0, iy + 1, ix + 1])
            dx = (w00 * elastic[i, 1, iy, ix] + w01 * elastic[i, 1, iy, ix + 1]
                  + w10 * elastic[i, 1, iy + 1, ix] + w11 * elastic[i, 1, iy + 1, ix + 1])
            y = affine[i, 0, 0] * r + affine[i, 0, 1] * c + affine[i, 0, 2] + dy
            x = affine[i, 1, 0] * r + affine[i, 1, 1] * c + affine[i, 1, 2] + dx
            y0, x0 = np.floor(y), np.floor(x)
            ty, tx = y - y0, x - x0
            top, left = int(y0), int(x0)
            value = values[k]
            for oy in range(2):
                row = top + oy
                if row < 0 or row >= FRAME:
                    continue
                wy = ty if oy else 1 - ty
                for ox in range(2):
                    col = left + ox
                    if 0 <= col < FRAME:
                        canvas[row + 1, col + 1] += value * wy * (tx if ox else 1 - tx)
                        low_row, high_row = min(low_row, row), max(high_row, row)
                        low_col, high_col = min(low_col, col), max(high_col, col)
        # the stroke reaches one pixel past the ink's box; only that box is read, written and cleared
        low_row, low_col = max(low_row - 1, 0), max(low_col - 1, 0)
        high_row, high_col = min(high_row + 1, FRAME - 1), min(high_col + 1, FRAME - 1)
        if out_starts[i] + max(0, high_row - low_row + 1) * max(0, high_col - low_col + 1) > out_columns.shape[0]:
            canvas[:, :] = 0
            return i
        share = stroke[i]
        n = out_starts[i]
        for row in range(low_row + 1, high_row + 2):
            for col in range(low_col + 1, high_col + 2):
                v = canvas[row, col]
                north, south = canvas[row - 1, col], canvas[row + 1, col]
                west, east = canvas[row, col - 1], canvas[row, col + 1]
                if share > 0:
                    v += share * (max(max(v, north), max(south, max(west, east))) - v)
                elif share < 0:
                    v += share * (v - min(min(v, north), min(south, min(west, east))))
                level = np.uint8(min(max(v, 0.0), 1.0) * 255 + 0.5)
                if level:
                    out_columns[n] = (row - 1) * FRAME + col - 1
                    out_values[n] = np.float32(level) / np.float32(255)
                    n += 1
        out_starts[i + 1] = n
        for row in range(low_row, high_row + 3):
            for col in range(low_col, high_col + 3):
                canvas[row, col] = 0
    return starts.shape[0] - 1


def _distort_numpy(starts, columns, values, affine, elastic, stroke, out) -> None:
    """The same as the compiled kernel, a chunk of images at a time (sums may differ in the last bit)."""
    for first in range(0, len(starts) - 1, CHUNK):
        last = min(first + CHUNK, len(starts) - 1)
        span = slice(starts[first], starts[last])
        image = np.repeat(np.arange(last - first), np.diff(starts[first:last + 1]))
        r, c = np.divmod(columns[span].astype(np.int64), FRAME)
        gy, gx = r / SPACING, c / SPACING
        iy, ix = np.minimum(gy.astype(np.int64), GRID - 2), np.minimum(gx.astype(np.int64), GRID - 2)
        fy, fx = gy - iy, gx - ix
        field = elastic[first:last]
        weights = ((1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx)
        corners = ((iy, ix), (iy, ix + 1), (iy + 1, ix), (iy + 1, ix + 1))
        dy = sum(w * field[image, 0, a, b] for w, (a, b) in zip(weights, corners))
        dx = sum(w * field[image, 1, a, b] for w, (a, b) in zip(weights, corners))
        a = affine[first:last][image]
        y = a[:, 0, 0] * r + a[:, 0, 1] * c + a[:, 0, 2] + dy
        x = a[:, 1, 0] * r + a[:, 1, 1] * c + a[:, 1, 2] + dx
        y0, x0 = np.floor(y), np.floor(x)
        ty, tx = y - y0, x - x0
        side = FRAME + 2
        canvas = np.zeros((last - first) * side * side)
        for oy in range(2):
            for ox in range(2):
                row, col = y0.astype(np.int64) + oy, x0.astype(np.int64) + ox
                inside = (row >= 0) & (row < FRAME) & (col >= 0) & (col < FRAME)
                weight = (ty if oy else 1 - ty) * (tx if ox else 1 - tx)
                index = (image * side + row + 1) * side + col + 1
                canvas += np.bincount(index[inside], (values[span] * weight)[inside], minlength=canvas.size)
        canvas = canvas.reshape(-1, side, side)
        middle = canvas[:, 1:-1, 1:-1]
        around = np.stack([canvas[:, :-2, 1:-1], canvas[:, 2:, 1:-1], canvas[:, 1:-1, :-2], canvas[:, 1:-1, 2:],
                           middle])
        share = stroke[first:last, None, None].astype(np.float64)
        grown = middle + np.maximum(share, 0) * (around.max(axis=0) - middle)
        shrunk = grown + np.minimum(share, 0) * (middle - around.min(axis=0))
        out[first:last] = (np.clip(shrunk, 0, 1) * 255 + 0.5).astype(np.uint8).reshape(last - first, -1)


_compiled = kernels._compile(_distort_compiled)


def distort(starts, columns, values, affine, elastic, stroke) -> SparseImages:
    """The distorted images as sparse rows (what SparseImages.from_images would make of the uint8
    images); see the module's docstring."""
    count = len(starts) - 1
    if _compiled is None:
        dense = np.empty((count, FRAME * FRAME), dtype=np.uint8)
        _distort_numpy(starts, columns, values, affine, elastic, stroke, dense)
        return SparseImages.from_images(dense)
    out_starts = np.zeros(count + 1, dtype=np.int64)
    capacity = int(len(values) * 1.5) + FRAME * FRAME  # distorted digits hold 1.2-1.3 times the pixels
    out_columns, out_values = np.empty(capacity, dtype=columns.dtype), np.empty(capacity, dtype=np.float32)
    done = 0
    while True:
        done = _compiled(starts, columns, values, affine, elastic, stroke, done, out_starts, out_columns, out_values)
        if done == count:
            break
        capacity = int(capacity * 1.5)
        out_columns = np.concatenate([out_columns, np.empty(capacity - len(out_columns), out_columns.dtype)])
        out_values = np.concatenate([out_values, np.empty(capacity - len(out_values), np.float32)])
    used = out_starts[-1]
    return SparseImages(out_starts, out_columns[:used].copy(), out_values[:used].copy(), FRAME * FRAME)


def to_uint8(images: SparseImages) -> np.ndarray:
    """(N, 784) uint8 from sparse rows of k / 255 values."""
    dense = np.zeros((len(images), images.pixels), dtype=np.uint8)
    rows = np.repeat(np.arange(len(images)), np.diff(images.starts))
    dense[rows, images.columns] = np.round(images.values * 255).astype(np.uint8)
    return dense
