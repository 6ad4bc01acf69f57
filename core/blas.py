"""Where NumPy's own SGEMM (float32 matrix multiply) is, for compiled numba code to call.

Why: the compiled training step (core/step_kernels.py) is one call that splits the batch across
the cores, and each core multiplies its own rows. numba's `np.dot` would need SciPy for that;
NumPy already carries a BLAS, so the step calls that library's `cblas_sgemm` by its address.

`find_sgemm()` is None, and the step uses NumPy instead, when no symbol is found whose integer
size is known: NumPy's wheels export `scipy_cblas_sgemm64_` (64-bit sizes); a plain
`cblas_sgemm` is taken only from an OpenBLAS whose build says whether it uses 64-bit integers,
since passing sizes of the wrong width would read garbage, and no trial product can tell.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np

ROW_MAJOR, NO_TRANSPOSE, TRANSPOSE = 101, 111, 112

# cblas_sgemm's names whose suffix says its integers are 64-bit (ILP64): NumPy's wheels
# (scipy-openblas) and older ones (openblas64_).
_ILP64_SYMBOLS = ("scipy_cblas_sgemm64_", "cblas_sgemm64_")
# names that say nothing about it: used only when the library's own configuration tells
_PLAIN_SYMBOLS = (("scipy_cblas_sgemm", "scipy_openblas_get_config"), ("cblas_sgemm", "openblas_get_config"))


@dataclass(frozen=True)
class Sgemm:
    address: int  # of cblas_sgemm in the BLAS library NumPy loaded
    ilp64: bool  # its size arguments are int64 (else int32)


def _blas_libraries() -> list[str]:
    """Paths of the loaded BLAS libraries, NumPy's own first."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    np.ones((2, 2), dtype=np.float32) @ np.ones((2, 2), dtype=np.float32)  # make sure it is loaded
    paths = [info["filepath"] for info in threadpool_info() if info["user_api"] == "blas"]
    return sorted(paths, key=lambda path: "numpy" not in path)


def find_sgemm() -> Sgemm | None:
    for path in _blas_libraries():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in _ILP64_SYMBOLS:
            if hasattr(library, symbol):
                return Sgemm(_address(library, symbol), ilp64=True)
        for symbol, config_symbol in _PLAIN_SYMBOLS:
            if hasattr(library, symbol) and hasattr(library, config_symbol):
                get_config = getattr(library, config_symbol)
                get_config.restype = ctypes.c_char_p
                config = get_config() or b""
                return Sgemm(_address(library, symbol), ilp64=b"USE64BITINT" in config)
    return None


def _address(library: ctypes.CDLL, symbol: str) -> int:
    return ctypes.cast(getattr(library, symbol), ctypes.c_void_p).value
