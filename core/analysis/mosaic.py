"""Many small images laid out as one: a grid of equal tiles, NaN between them and in empty cells.

A view then draws a whole grid with one image item (one texture upload) instead of one item per
tile, and NaN pixels render transparent, so gaps and unused cells show the background. The
inverse, `tile_at`, maps a pixel of the grid back to the tile under it (for hovering, clicking).
"""

from __future__ import annotations

import math

import numpy as np


def square_columns(tile_count: int) -> int:
    """The column count of the squarest grid holding `tile_count` tiles: ceil(sqrt(n)), at least 1."""
    return max(1, math.ceil(math.sqrt(tile_count)))


def grid_shape(tile_count: int, columns: int) -> tuple[int, int]:
    """(rows, columns) of a grid of `columns` columns holding `tile_count` tiles; at least 1 x 1."""
    return max(1, math.ceil(tile_count / columns)), columns


def tile_mosaic(tiles: np.ndarray, columns: int, gap: int = 1, rows: int | None = None) -> np.ndarray:
    """Tiles (n, h, w) as one float32 image, row-major: tile k in grid row k // columns, column k % columns.

    The image is rows*h + (rows-1)*gap pixels high and columns*w + (columns-1)*gap wide; gaps and
    cells without a tile are NaN. `rows` defaults to as few as hold all tiles; pass more to keep a
    page's size fixed when it holds fewer tiles.
    """
    tiles = np.asarray(tiles)
    if tiles.ndim != 3:
        raise ValueError(f"expected tiles of shape (n, h, w), got {tiles.shape}")
    if columns < 1 or gap < 0:
        raise ValueError(f"need columns >= 1 and gap >= 0, got {columns} and {gap}")
    count, height, width = tiles.shape
    rows = grid_shape(count, columns)[0] if rows is None else rows
    if count > rows * columns:
        raise ValueError(f"{count} tiles do not fit a {rows}x{columns} grid")
    mosaic = np.full((rows * height + (rows - 1) * gap, columns * width + (columns - 1) * gap), np.nan,
                     dtype=np.float32)
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = row * (height + gap), column * (width + gap)
        mosaic[top:top + height, left:left + width] = tiles[index]
    return mosaic


def tile_at(row: float, column: float, tile_shape: tuple[int, int], columns: int, gap: int,
            tile_count: int) -> int | None:
    """The index of the tile under pixel (row, column) of a `tile_mosaic` grid, or None over a gap,
    an empty cell or outside. Coordinates may be fractional (a mouse position in image pixels)."""
    height, width = tile_shape
    if row < 0 or column < 0:
        return None
    grid_row, inside_row = divmod(int(row), height + gap)
    grid_column, inside_column = divmod(int(column), width + gap)
    if inside_row >= height or inside_column >= width or grid_column >= columns:
        return None
    index = grid_row * columns + grid_column
    return index if index < tile_count else None
