"""What the first layer learned: its weights drawn as images, one 28x28 tile per hidden unit.

Column k of W1 (784, n) holds the weights from every pixel into unit k, so reshaped to 28x28 it
is the picture that unit responds to most: positive where ink excites it, negative where ink
inhibits it. All tiles share one symmetric colour scale, so tiles compare with each other and
zero always has the same colour.
"""

from __future__ import annotations

import numpy as np

from core.analysis.mosaic import square_columns, tile_at, tile_mosaic
from core.data.dataset import IMAGE_SHAPE


def weight_mosaic(first_layer: np.ndarray, gap: int = 1) -> tuple[np.ndarray, float]:
    """W1 (784, n) as one float32 mosaic of n 28x28 tiles, and the colour-scale limit.

    Tile k (in a grid of ceil(sqrt(n)) columns, row-major) is column k reshaped to 28x28, row
    by row as the image's pixels are. Gaps and unused cells are NaN. The limit is max |w| over
    the finite weights, so the scale [-limit, +limit] is symmetric and the same for all tiles;
    it is 1.0 when there is no nonzero finite weight (a zeroed or diverged model), so the scale
    is never empty.
    """
    first_layer = np.asarray(first_layer, dtype=np.float32)
    pixels = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
    if first_layer.ndim != 2 or first_layer.shape[0] != pixels:
        raise ValueError(f"expected first-layer weights of shape ({pixels}, n), got {first_layer.shape}")
    unit_count = first_layer.shape[1]
    tiles = first_layer.T.reshape(unit_count, *IMAGE_SHAPE)
    mosaic = tile_mosaic(tiles, square_columns(unit_count), gap)
    finite = np.abs(first_layer[np.isfinite(first_layer)])
    limit = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    return mosaic, limit


def unit_at(row: float, column: float, unit_count: int, gap: int = 1) -> int | None:
    """The first-layer unit whose tile lies under pixel (row, column) of `weight_mosaic`'s image, or None."""
    return tile_at(row, column, IMAGE_SHAPE, square_columns(unit_count), gap, unit_count)
