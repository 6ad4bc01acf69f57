import numpy as np
import pytest

from core import kernels, step_kernels

pytestmark = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed: no compiled kernels")


def weighted_rows(matrix: np.ndarray, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    out = np.full(matrix.shape[1], np.nan, dtype=np.float32)  # every element must be written
    step_kernels._weighted_rows(out, matrix, rows, weights, 0, len(rows))
    return out


@pytest.mark.parametrize("width", [1, 15, 16, 17, 127, 128, 144, 256, 300])
@pytest.mark.parametrize("row_type", [np.uint16, np.int32, np.int64])
def test_weighted_rows_sums_the_chosen_rows(width, row_type):
    rng = np.random.default_rng(width)
    matrix = rng.standard_normal((50, width)).astype(np.float32)
    rows = rng.integers(0, 50, size=23).astype(row_type)
    weights = rng.random(23, dtype=np.float32)
    expected = (weights.astype(np.float64)[:, None] * matrix[rows].astype(np.float64)).sum(axis=0)
    np.testing.assert_allclose(weighted_rows(matrix, rows, weights), expected, rtol=1e-5, atol=1e-5)


def test_weighted_rows_of_no_rows_is_zero():
    matrix = np.ones((4, 200), dtype=np.float32)
    assert not weighted_rows(matrix, np.empty(0, np.int32), np.empty(0, np.float32)).any()


def test_every_column_block_takes_the_same_sums():
    """Column j's sum comes out bit-identical whether j falls in a 128-wide block, a 16-wide
    block or the scalar tail: each is one FMA per row, in order, from zero."""
    rng = np.random.default_rng(1)
    matrix = rng.standard_normal((40, 300)).astype(np.float32)
    rows = rng.integers(0, 40, size=31).astype(np.int32)
    weights = rng.standard_normal(31).astype(np.float32)
    whole = weighted_rows(matrix, rows, weights)  # 0-255 wide blocks, 256-287 narrow, 288-299 tail
    for first in (200, 250, 290):  # other columns fall in other kinds of block
        part = weighted_rows(np.ascontiguousarray(matrix[:, first:]), rows, weights)
        np.testing.assert_array_equal(part, whole[first:])
