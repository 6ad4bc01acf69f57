import numpy as np
import pytest

from core.compiled import kernels
from core.data.sparse_images import SparseImages


def mnist_like(count=50, pixels=784, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(1, 256, (count, pixels)).astype(np.uint8)
    images[rng.random(images.shape) < 0.8] = 0
    images[3] = 0  # an all-zero image
    return images


def test_rows_hold_the_non_zero_pixels_divided_by_255_exactly():
    images = mnist_like()
    sparse = SparseImages.from_images(images)
    assert len(sparse) == len(images) and sparse.pixels == 784
    assert sparse.density == pytest.approx(np.count_nonzero(images) / images.size)
    rows = np.array([5, 3, 0, 49])
    np.testing.assert_array_equal(sparse.take(rows).to_dense(), np.divide(images[rows], np.float32(255)))
    assert sparse.starts[4] == sparse.starts[3]  # the blank image has no entries
    assert sparse.columns.dtype == np.uint16 and sparse.values.dtype == np.float32


def test_float_images_keep_their_values():
    x = np.divide(mnist_like(seed=1), np.float32(255))
    sparse = SparseImages.from_images(x)
    np.testing.assert_array_equal(sparse.take(np.arange(len(x))).to_dense(), x)


@pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed: only the NumPy path exists")
def test_compiled_and_numpy_builds_agree():
    images = mnist_like(seed=2)
    compiled = SparseImages.from_images(images, compiled=True)
    plain = SparseImages.from_images(images, compiled=False)
    for name in ("starts", "columns", "values"):
        np.testing.assert_array_equal(getattr(compiled, name), getattr(plain, name))
