import numpy as np
import pytest

from core import blas, kernels, step_kernels

pytestmark = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed: nothing calls BLAS from it")


def test_numpys_sgemm_is_found_and_agrees_with_numpy():
    sgemm = step_kernels.usable_sgemm()
    assert sgemm is not None, "no cblas_sgemm found in the BLAS NumPy loaded"
    rng = np.random.default_rng(1)
    a, b = rng.random((6, 9), dtype=np.float32), rng.random((6, 4), dtype=np.float32)
    c = np.full((9, 4), np.nan, dtype=np.float32)
    step_kernels._matmul(sgemm, blas.TRANSPOSE, blas.NO_TRANSPOSE, 9, 4, 6, a, 9, b, 4, c, 4)
    np.testing.assert_allclose(c, a.T @ b, rtol=1e-6)

