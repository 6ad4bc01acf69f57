"""The first layer as a mosaic: tile k is unit k's weights, gaps are NaN, one symmetric scale."""

import numpy as np
import pytest

from core.analysis.filters import unit_at, weight_mosaic


def random_first_layer(units: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.1, (784, units)).astype(np.float32)


def tile(mosaic: np.ndarray, k: int, columns: int, gap: int) -> np.ndarray:
    row, column = divmod(k, columns)
    top, left = row * (28 + gap), column * (28 + gap)
    return mosaic[top:top + 28, left:left + 28]


def test_tile_k_is_column_k_reshaped_row_by_row():
    first_layer = random_first_layer(10)
    mosaic, _ = weight_mosaic(first_layer, gap=1)
    assert mosaic.dtype == np.float32
    for k in range(10):
        np.testing.assert_array_equal(tile(mosaic, k, 4, 1), first_layer[:, k].reshape(28, 28))


def test_the_grid_has_ceil_sqrt_n_columns_and_nan_gaps_and_empty_cells():
    mosaic, _ = weight_mosaic(random_first_layer(10), gap=2)  # 4 columns, 3 rows, 2 cells unused
    assert mosaic.shape == (3 * 28 + 2 * 2, 4 * 28 + 3 * 2)
    assert np.isnan(mosaic[28:30, :]).all() and np.isnan(mosaic[:, 28:30]).all()
    assert np.isnan(tile(mosaic, 10, 4, 2)).all() and np.isnan(tile(mosaic, 11, 4, 2)).all()
    assert np.isnan(mosaic).sum() == mosaic.size - 10 * 784


def test_the_seed_network_gives_a_16_by_16_grid():
    mosaic, _ = weight_mosaic(random_first_layer(256), gap=1)
    assert mosaic.shape == (16 * 28 + 15, 16 * 28 + 15)
    assert np.isnan(mosaic).sum() == mosaic.size - 256 * 784  # the gaps, and no cell unused


def test_the_limit_is_the_largest_magnitude_whatever_its_sign():
    first_layer = random_first_layer(5)
    first_layer[100, 3] = -0.9
    assert weight_mosaic(first_layer)[1] == pytest.approx(0.9)
    first_layer[7, 0] = 1.25
    assert weight_mosaic(first_layer)[1] == pytest.approx(1.25)


def test_the_limit_ignores_non_finite_weights_and_is_never_zero():
    first_layer = random_first_layer(4)
    first_layer[0, 0] = np.nan
    first_layer[1, 1] = np.inf
    assert weight_mosaic(first_layer)[1] == pytest.approx(np.abs(first_layer[np.isfinite(first_layer)]).max())
    assert weight_mosaic(np.zeros((784, 4), np.float32))[1] == 1.0


def test_wrong_shapes_are_refused():
    with pytest.raises(ValueError, match="784"):
        weight_mosaic(np.zeros((100, 4)))
    with pytest.raises(ValueError):
        weight_mosaic(np.zeros(784))


def test_unit_at_finds_the_tile_under_a_pixel_and_none_over_gaps():
    assert unit_at(0, 0, 10) == 0
    assert unit_at(27.9, 27.9, 10) == 0
    assert unit_at(28.5, 5, 10) is None  # the gap row
    assert unit_at(5, 29 * 3 + 1, 10) == 3
    assert unit_at(29 * 2 + 3, 29 + 3, 10) == 9
    assert unit_at(29 * 2 + 3, 29 * 2 + 3, 10) is None  # an unused cell
    assert unit_at(-1, 3, 10) is None and unit_at(3, 29 * 4 + 1, 10) is None
