"""Arrays whose data starts on a cache line.

NumPy aligns its allocations to 16 bytes only. The compiled kernels load 64-byte vectors (AVX-512)
from rows of 256 or 128 floats: in a buffer 16 bytes off a line, every such load spans two cache
lines.
"""

from __future__ import annotations

import numpy as np

CACHE_LINE = 64


def aligned_empty(shape: int | tuple[int, ...], dtype=np.float32) -> np.ndarray:
    dtype = np.dtype(dtype)
    count = int(np.prod(shape))
    raw = np.empty(count * dtype.itemsize + CACHE_LINE, dtype=np.uint8)
    skip = -raw.ctypes.data % CACHE_LINE
    return raw[skip:skip + count * dtype.itemsize].view(dtype).reshape(shape)


def aligned_zeros(shape: int | tuple[int, ...], dtype=np.float32) -> np.ndarray:
    array = aligned_empty(shape, dtype)
    array[...] = 0
    return array


def aligned_copy(array: np.ndarray) -> np.ndarray:
    copy = aligned_empty(array.shape, array.dtype)
    copy[...] = array
    return copy
