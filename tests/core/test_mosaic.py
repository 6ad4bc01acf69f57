"""Tiles laid out as one image, and the way back from a pixel to its tile."""

import numpy as np
import pytest

from core.analysis.mosaic import grid_shape, square_columns, tile_at, tile_mosaic


def test_tiles_fill_the_grid_row_by_row_with_nan_between():
    tiles = np.arange(5 * 2 * 3, dtype=np.uint8).reshape(5, 2, 3)
    mosaic = tile_mosaic(tiles, columns=2, gap=1)  # 3 rows; the last cell is empty
    assert mosaic.shape == (3 * 2 + 2, 2 * 3 + 1) and mosaic.dtype == np.float32
    for index in range(5):
        row, column = divmod(index, 2)
        np.testing.assert_array_equal(mosaic[row * 3:row * 3 + 2, column * 4:column * 4 + 3], tiles[index])
    assert np.isnan(mosaic[2, :]).all() and np.isnan(mosaic[:, 3]).all()
    assert np.isnan(mosaic[6:8, 4:7]).all()


def test_fixed_rows_keep_a_short_page_the_size_of_a_full_one():
    tiles = np.ones((3, 2, 2), np.uint8)
    assert tile_mosaic(tiles, columns=2, gap=1, rows=3).shape == (3 * 2 + 2, 2 * 2 + 1)
    assert np.isnan(tile_mosaic(np.zeros((0, 2, 2)), columns=2, rows=1)).all()
    with pytest.raises(ValueError, match="do not fit"):
        tile_mosaic(tiles, columns=1, rows=2)


def test_tile_at_inverts_the_layout():
    tile_shape, columns, gap, count = (2, 3), 2, 1, 5
    mosaic = tile_mosaic(np.arange(count, dtype=float)[:, None, None] * np.ones((count, *tile_shape)), columns, gap)
    for row in range(mosaic.shape[0]):
        for column in range(mosaic.shape[1]):
            found = tile_at(row + 0.5, column + 0.5, tile_shape, columns, gap, count)
            if np.isnan(mosaic[row, column]):
                assert found is None
            else:
                assert found == mosaic[row, column]
    assert tile_at(-0.5, 0, tile_shape, columns, gap, count) is None
    assert tile_at(0, 7.5, tile_shape, columns, gap, count) is None  # right of the grid


@pytest.mark.parametrize(("count", "columns"), [(0, 1), (1, 1), (2, 2), (4, 2), (5, 3), (256, 16), (257, 17)])
def test_square_columns(count, columns):
    assert square_columns(count) == columns
    assert grid_shape(count, columns)[0] * columns >= count
