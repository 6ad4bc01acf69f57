import numpy as np
import pytest

from core.compiled import kernels, step_kernels

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


def test_weighted_rows_reads_rows_past_32767_through_unsigned_indices():
    matrix = np.zeros((40_000, 20), dtype=np.float32)
    matrix[33_000] = np.arange(20)
    rows = np.array([33_000], dtype=np.uint16)  # negative, were it widened by its sign
    np.testing.assert_array_equal(weighted_rows(matrix, rows, np.ones(1, np.float32)), np.arange(20))


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


def product(weights: np.ndarray, matrix: np.ndarray, transpose_weights: bool = False) -> np.ndarray:
    """weights @ matrix (weights.T @ matrix if transpose_weights) through `_product`."""
    rows = weights.shape[1] if transpose_weights else weights.shape[0]
    k_count, columns = matrix.shape
    strides = (1, weights.shape[1]) if transpose_weights else (weights.shape[1], 1)
    out = np.full(rows * columns, np.nan, dtype=np.float32)
    pad = np.empty((k_count + 4) * step_kernels.LANES, dtype=np.float32)
    step_kernels._product(out, 0, columns, rows, columns, weights.reshape(-1), 0, *strides,
                          matrix.reshape(-1), 0, columns, k_count, pad)
    return out.reshape(rows, columns)


@pytest.mark.parametrize("rows", [1, 3, 4, 7, 32, 64])
@pytest.mark.parametrize("columns", [1, 10, 16, 33, 64, 100, 128])
def test_product_is_the_matrix_product(rows, columns):
    rng = np.random.default_rng(rows * 1000 + columns)
    weights = rng.standard_normal((rows, 20)).astype(np.float32)
    matrix = rng.standard_normal((20, columns)).astype(np.float32)
    expected = weights.astype(np.float64) @ matrix.astype(np.float64)
    np.testing.assert_allclose(product(weights, matrix), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(product(np.ascontiguousarray(weights.T), matrix, transpose_weights=True), expected,
                               rtol=1e-5, atol=1e-5)


def test_every_product_block_takes_the_same_sums():
    """Whether a row falls in a block of four rows or one, and a column in a block of 64, 32, 16
    or the zero-padded rest: bit-identical sums."""
    rng = np.random.default_rng(2)
    weights = rng.standard_normal((7, 50)).astype(np.float32)
    matrix = rng.standard_normal((50, 122)).astype(np.float32)  # 64 + 32 + 16 + 10 columns
    whole = product(weights, matrix)
    np.testing.assert_array_equal(product(weights[3:], matrix), whole[3:])  # rows 3-6: in a block of four now
    for first in (10, 40, 70, 100):
        np.testing.assert_array_equal(product(weights, np.ascontiguousarray(matrix[:, first:])), whole[:, first:])


def product_transposed(a, b):
    """a b^T through step_kernels._product_transposed, into a NaN-filled output."""
    out = np.full((a.shape[0], b.shape[0]), np.nan, dtype=np.float32)
    step_kernels._product_transposed(out.ravel(), 0, out.shape[1], a.shape[0], b.shape[0], a.ravel(), 0,
                                     a.shape[1], b.ravel(), 0, b.shape[1], a.shape[1])
    return out


@pytest.mark.parametrize("rows, columns, length", [(32, 256, 128), (4, 4, 16), (5, 7, 10), (32, 64, 10),
                                                   (3, 17, 33), (1, 1, 1), (8, 12, 0)])
def test_product_transposed_is_the_product_with_the_transpose(rows, columns, length):
    """Blocks of 4 x 4 with the last chunk of each row masked, the rest one at a time: every
    output written, each the dot product of its two rows."""
    rng = np.random.default_rng(rows * 100 + columns + length)
    a = rng.standard_normal((rows, length)).astype(np.float32)
    b = rng.standard_normal((columns, length)).astype(np.float32)
    expected = a.astype(np.float64) @ b.T.astype(np.float64)
    np.testing.assert_allclose(product_transposed(a, b), expected, rtol=1e-5, atol=1e-5)


def test_product_transposed_reads_nothing_past_its_rows():
    """The masked last chunk: rows that end 3 floats before NaNs sum no NaN."""
    rng = np.random.default_rng(4)
    a = np.full((4, 16), np.nan, dtype=np.float32)
    b = np.full((4, 16), np.nan, dtype=np.float32)
    a[:, :13], b[:, :13] = rng.random((4, 13)), rng.random((4, 13))
    out = np.full((4, 4), np.nan, dtype=np.float32)
    step_kernels._product_transposed(out.ravel(), 0, 4, 4, 4, a.ravel(), 0, 16, b.ravel(), 0, 16, 13)
    np.testing.assert_allclose(out, a[:, :13].astype(np.float64) @ b[:, :13].T, rtol=1e-5)
