"""The distortion of core/data/augment.py, image by image: compiled (numba), or in NumPy without it.

For each image: every non-zero pixel (r, c) goes to (r', c') = A (r, c) + b + e(r, c), where A, b
is the image's affine map and e its elastic field, bilinear between GRID x GRID control points
over the frame; its value is spread over the four pixels around (r', c') with bilinear weights
(splatting: the ink is kept). Then the stroke: s > 0 moves each pixel a share s of the way to the
largest of it and its four neighbours (a partial dilation), s < 0 towards the smallest (erosion).
Values are clipped to [0, 1] and written as uint8 levels, as MNIST's are; levels below the image's
`faintest` are dropped (see FAINTEST).
"""

from __future__ import annotations

import threading

import numpy as np

from core.compiled import kernels
from core.data.sparse_images import SparseImages

FRAME = 28
GRID = 4
SPACING = (FRAME - 1) / (GRID - 1)
# The faintest level a distorted digit keeps (0.1 of full ink, the pad's own line between ink and
# background, core/data/preprocess.py INK_THRESHOLD). Splatting at fractional positions spreads
# every edge over one more pixel: without the cut, a distorted MNIST digit had 240 non-zero pixels
# against MNIST's 150, a quarter of them below this level holding 2 % of the ink, and training on
# them cost more (with the cut, 182 pixels: 1.09x the originals' time). An image whose own ink lies in
# such levels for more than MAX_FAINT_INK of it (a dark garment in Fashion-MNIST: 1 % of its
# images pass 8.7 %, MNIST's digits at most 4.7 %, median 0.6 %) keeps every level: faintest_levels.
FAINTEST = 26
MAX_FAINT_INK = 0.05
BORDER = 2  # zeros around the compiled kernel's canvas (1 would do): every splat that touches the frame fits
CHUNK = 2048  # images at a time in the NumPy path (its temporaries are about 30 KB an image)


# Tables the compiled kernel reads instead of computing per pixel: the row (or column) of each of
# the 784 pixel indices, the elastic grid cell a row (or column) lies in and how far along it, and
# the float32 value of each uint8 level (k / 255, exactly as SparseImages.from_images divides).
_PIXEL_ROW = np.arange(FRAME * FRAME) // FRAME
_PIXEL_COL = np.arange(FRAME * FRAME) % FRAME
_GRID_AT = np.arange(FRAME, dtype=np.float32) * np.float32(1 / SPACING)
_CELL = np.minimum(_GRID_AT.astype(np.int64), GRID - 2)
_ALONG = (_GRID_AT - _CELL.astype(np.float32)).astype(np.float32)
_LEVEL_VALUE = np.arange(256, dtype=np.float32) / np.float32(255)
_FLOOR_OFFSET = 8  # added to canvas places so that int() (which truncates) floors every place that lands on it


def _distort_compiled(starts, columns, values, affine, elastic, stroke, faintest, first, out_starts, out_columns,
                      out_values):  # pragma: no cover - compiled
    """Images first.. as sparse rows into out_* (out_starts[i + 1] set for each image done); returns
    the index of the first image that did not fit in out_columns (len(starts) - 1 when all did).

    Written for speed (docs/PERFORMANCE.md: 0.24 s of one core for 60,000 images, 0.29 s with
    float64 places and cells worked out per pixel, a plainer loop 0.6 s): the canvas has a border of
    BORDER zeros, so that splatting needs one bounds check a pixel instead of four; float32
    throughout, a pixel's row, column and grid cell read from tables, int() for floor; the stroke is
    worked out a row at a time (a loop the compiler vectorizes), with its direction chosen once a
    row, then written without a branch (the count moves on only for a level kept)."""
    side = FRAME + 2 * BORDER
    canvas = np.zeros((side, side), dtype=np.float32)
    stroked = np.empty(side, dtype=np.float32)
    one, zero = np.float32(1), np.float32(0)
    shift = np.float32(BORDER + _FLOOR_OFFSET)
    low_place, high_place = np.float32(_FLOOR_OFFSET), np.float32(side - 1 + _FLOOR_OFFSET)  # top in 0 .. side - 2
    for i in range(first, starts.shape[0] - 1):
        low_row, high_row, low_col, high_col = side, -1, side, -1
        a00, a01, a02 = affine[i, 0, 0], affine[i, 0, 1], affine[i, 0, 2] + shift
        a10, a11, a12 = affine[i, 1, 0], affine[i, 1, 1], affine[i, 1, 2] + shift
        field = elastic[i]
        for k in range(starts[i], starts[i + 1]):
            r, c = _PIXEL_ROW[columns[k]], _PIXEL_COL[columns[k]]
            iy, ix, fy, fx = _CELL[r], _CELL[c], _ALONG[r], _ALONG[c]
            gy, gx = one - fy, one - fx
            dy = (gy * (gx * field[0, iy, ix] + fx * field[0, iy, ix + 1])
                  + fy * (gx * field[0, iy + 1, ix] + fx * field[0, iy + 1, ix + 1]))
            dx = (gy * (gx * field[1, iy, ix] + fx * field[1, iy, ix + 1])
                  + fy * (gx * field[1, iy + 1, ix] + fx * field[1, iy + 1, ix + 1]))
            rf, cf = np.float32(r), np.float32(c)
            y = a00 * rf + a01 * cf + a02 + dy  # canvas row + _FLOOR_OFFSET
            x = a10 * rf + a11 * cf + a12 + dx
            # all four pixels out of the canvas (or no number at all): tested on the floats, as int()
            # of a value out of its range is undefined
            if not (low_place <= y < high_place and low_place <= x < high_place):
                continue
            y0, x0 = int(y), int(x)  # floor: y and x are positive
            ty, tx = y - np.float32(y0), x - np.float32(x0)
            top, left = y0 - _FLOOR_OFFSET, x0 - _FLOOR_OFFSET  # canvas indices, 0 .. side - 2
            lower = values[k] * ty
            upper = values[k] - lower
            canvas[top, left] += upper * (one - tx)
            canvas[top, left + 1] += upper * tx
            canvas[top + 1, left] += lower * (one - tx)
            canvas[top + 1, left + 1] += lower * tx
            low_row, high_row = min(low_row, top), max(high_row, top + 1)
            low_col, high_col = min(low_col, left), max(high_col, left + 1)
        # ink splatted beyond the frame is lost, as in the NumPy path: clear it before the stroke reads it
        for row in range(max(low_row, 0), min(high_row, side - 1) + 1):
            if row < BORDER or row >= BORDER + FRAME:
                for col in range(max(low_col, 0), min(high_col, side - 1) + 1):
                    canvas[row, col] = 0
            else:
                for col in range(max(low_col, 0), BORDER):
                    canvas[row, col] = 0
                for col in range(BORDER + FRAME, min(high_col, side - 1) + 1):
                    canvas[row, col] = 0
        # the stroke reaches one pixel past the ink's box; only that box is read, written and cleared
        top_row, bottom_row = max(low_row - 1, BORDER), min(high_row + 1, BORDER + FRAME - 1)
        left_col, right_col = max(low_col - 1, BORDER), min(high_col + 1, BORDER + FRAME - 1)
        n = out_starts[i]
        if bottom_row >= top_row and right_col >= left_col:
            if n + (bottom_row - top_row + 1) * (right_col - left_col + 1) > out_columns.shape[0]:
                canvas[:, :] = 0
                return i
            share, cut = stroke[i], max(faintest[i], np.uint8(1))  # a level below cut is not written
            for row in range(top_row, bottom_row + 1):
                if share >= 0:
                    for col in range(left_col, right_col + 1):
                        v = canvas[row, col]
                        stroked[col] = v + share * (max(max(v, canvas[row - 1, col]), max(canvas[row + 1, col], max(
                            canvas[row, col - 1], canvas[row, col + 1]))) - v)
                else:
                    for col in range(left_col, right_col + 1):
                        v = canvas[row, col]
                        stroked[col] = v + share * (v - min(min(v, canvas[row - 1, col]), min(canvas[row + 1, col], min(
                            canvas[row, col - 1], canvas[row, col + 1]))))
                base = (row - BORDER) * FRAME - BORDER
                for col in range(left_col, right_col + 1):
                    level = np.uint8(min(max(stroked[col], zero), one) * 255 + 0.5)
                    out_columns[n] = base + col
                    out_values[n] = _LEVEL_VALUE[level]
                    n += level >= cut
            for row in range(top_row - 1, bottom_row + 2):
                for col in range(left_col - 1, right_col + 2):
                    canvas[row, col] = 0
        out_starts[i + 1] = n
    return starts.shape[0] - 1


def _distort_numpy(starts, columns, values, affine, elastic, stroke, faintest, out) -> None:
    """The same as the compiled kernel, a chunk of images at a time, in float64: a place within a
    rounding of a pixel's edge can land on the other side, so a few levels differ (4e-5 of the
    pixels with the default draws), by one level, or by a whole level where the cut drops one."""
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
        levels = (np.clip(shrunk, 0, 1) * 255 + 0.5).astype(np.uint8)
        levels[levels < faintest[first:last, None, None]] = 0
        out[first:last] = levels.reshape(last - first, -1)


_compiled = kernels._compile(_distort_compiled)


def distort(starts, columns, values, affine, elastic, stroke, faintest, parts: int = 1) -> SparseImages:
    """The distorted images as sparse rows (what SparseImages.from_images would make of the uint8
    images); see the module's docstring. The compiled kernel runs on `parts` threads at once, each
    on its own run of images (it holds no lock: the GIL is released); the result is the same."""
    count = len(starts) - 1
    if _compiled is None:
        dense = np.empty((count, FRAME * FRAME), dtype=np.uint8)
        _distort_numpy(starts, columns, values, affine, elastic, stroke, faintest, dense)
        return SparseImages.from_images(dense)
    bounds = np.linspace(0, count, max(1, min(parts, count)) + 1).astype(int)
    pieces: list = [None] * (len(bounds) - 1)

    errors: list[BaseException] = []

    def make(part: int) -> None:
        first, last = bounds[part], bounds[part + 1]
        try:
            pieces[part] = _distort_run(starts[first:last + 1], columns, values, affine[first:last],
                                        elastic[first:last], stroke[first:last], faintest[first:last])
        except BaseException as error:  # a MemoryError in a helper is the caller's, not the thread's to print
            errors.append(error)

    helpers = [threading.Thread(target=make, args=(part,), name=f"distort-{part}") for part in range(1, len(pieces))]
    for helper in helpers:
        helper.start()
    try:
        make(0)
    finally:
        for helper in helpers:
            helper.join()
    if errors:
        raise errors[0]
    if len(pieces) == 1:  # as it is: joining would copy it (65 MB for MNIST's training set)
        return SparseImages(*pieces[0], FRAME * FRAME)
    out_starts = np.zeros(count + 1, dtype=np.int64)
    offset = 0
    for part, (piece_starts, _, _) in enumerate(pieces):
        out_starts[bounds[part] + 1:bounds[part + 1] + 1] = piece_starts[1:] + offset
        offset += piece_starts[-1]
    out_columns = np.concatenate([piece_columns for _, piece_columns, _ in pieces])
    out_values = np.concatenate([piece_values for _, _, piece_values in pieces])
    return SparseImages(out_starts, out_columns, out_values, FRAME * FRAME)


def _distort_run(starts, columns, values, affine, elastic, stroke, faintest,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The compiled kernel on the images that `starts` bounds (a slice: columns and values are
    the whole arrays); (starts from 0, columns, values) of the result."""
    count = len(starts) - 1
    out_starts = np.zeros(count + 1, dtype=np.int64)
    # distorted digits hold about 1.2 times the pixels with the cut, 1.6 without (splatting and
    # thicker strokes spread them)
    capacity = 2 * int(starts[-1] - starts[0]) + FRAME * FRAME
    out_columns, out_values = np.empty(capacity, dtype=columns.dtype), np.empty(capacity, dtype=np.float32)
    done = 0
    while True:
        done = _compiled(starts, columns, values, affine, elastic, stroke, faintest, done, out_starts, out_columns,
                         out_values)
        if done == count:
            break
        capacity = int(capacity * 1.5)
        out_columns = np.concatenate([out_columns, np.empty(capacity - len(out_columns), out_columns.dtype)])
        out_values = np.concatenate([out_values, np.empty(capacity - len(out_values), np.float32)])
    used = out_starts[-1]
    # given back in place (no copy, usually): a view would hold the unused 40 % of the capacity
    # for as long as the epoch's images live, and EpochImages keeps two epochs
    out_columns.resize(used, refcheck=False)
    out_values.resize(used, refcheck=False)
    return out_starts, out_columns, out_values


def _faint_shares_compiled(starts, values, faint_below, shares):  # pragma: no cover - compiled
    """shares[i]: the share of image i's ink in values below `faint_below` (0 for an empty image)."""
    for i in range(starts.shape[0] - 1):
        ink, faint = 0.0, 0.0
        for k in range(starts[i], starts[i + 1]):
            ink += values[k]
            faint += values[k] if values[k] < faint_below else np.float32(0)
        shares[i] = faint / ink if ink > 0 else 0.0


_faint_shares = kernels._compile(_faint_shares_compiled)


def faintest_levels(starts, values) -> np.ndarray:
    """(N,) uint8: the faintest level each image keeps once distorted, FAINTEST, or 0 (keep every
    level) for an image with more than MAX_FAINT_INK of its ink below FAINTEST (see FAINTEST).
    Compiled when it can be: 0.13 s in NumPy for MNIST's training set, at every augmented run's start."""
    count = len(starts) - 1
    faint_below = np.float32(FAINTEST / 255)
    if _faint_shares is not None:
        shares = np.empty(count)
        _faint_shares(starts, values, faint_below, shares)
        return np.where(shares <= MAX_FAINT_INK, FAINTEST, 0).astype(np.uint8)
    image = np.repeat(np.arange(count), np.diff(starts))
    faint = values < faint_below
    ink = np.bincount(image, values, minlength=count)
    faint_ink = np.bincount(image[faint], values[faint], minlength=count)
    return np.where(faint_ink <= MAX_FAINT_INK * ink, FAINTEST, 0).astype(np.uint8)


def to_uint8(images: SparseImages) -> np.ndarray:
    """(N, 784) uint8 from sparse rows of k / 255 values."""
    dense = np.zeros((len(images), images.pixels), dtype=np.uint8)
    rows = np.repeat(np.arange(len(images)), np.diff(images.starts))
    dense[rows, images.columns] = np.round(images.values * 255).astype(np.uint8)
    return dense
