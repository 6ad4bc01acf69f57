"""Compiled kernels for the optimizers and the data, with numba when it is installed.

- Optimizer updates (`update_range`, `optimizer_update`). In NumPy an Adam step is
  about ten passes over the 242,762 parameters; fused it is one (0.41 ms -> 0.13 ms per step).
  They perform the same float32 operations in the same order as core/optim.py, without fastmath,
  so both paths are bit-identical (tests/core/test_optim.py).
- The images as compressed sparse rows (`count_nonzero_rows`, `fill_sparse_rows`), which the
  compiled training step reads (core/step_kernels.py), and the seed's shuffle (`swap_in_order`).

Threads: the optimizer updates and the training step split their work over the cores (numba
prange) when `PARALLEL`. numba's workers and OpenBLAS's both busy-wait between jobs, and the two
pools together made a step 10-20 times slower here, so while it runs the compiled step keeps
BLAS on the calling thread (`SingleThreadedBlas`, with threadpoolctl). Without threadpoolctl, or
on one core, every kernel runs on the calling thread. All of them release the GIL.

Which thread calls them matters. Measured here, the Trainer on two kernel threads in a thread
other than Python's main one ran at full speed (70-85k samples/s, as in the main thread) until
the main thread had once run a parallel kernel itself; from then on, at 25-45k. (GNU OpenMP
then counts more threads than cores and its workers sleep instead of spinning between calls.)
The app therefore trains only in its worker thread, never in the GUI thread.

Without numba (or with MNIST_MLP_KERNELS=numpy) `AVAILABLE` is False and callers use NumPy.
"""

from __future__ import annotations

import os

import numpy as np

try:
    if os.environ.get("MNIST_MLP_KERNELS", "").lower() == "numpy":
        raise ImportError("fused kernels disabled by MNIST_MLP_KERNELS=numpy")
    import numba
except ImportError:  # numba is optional: the NumPy path computes the same values
    numba = None

try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # then BLAS keeps its threads and the kernels stay on one
    ThreadpoolController = None

AVAILABLE = numba is not None
PARALLEL = AVAILABLE and ThreadpoolController is not None and numba.config.NUMBA_NUM_THREADS > 1
THREADS = numba.config.NUMBA_NUM_THREADS if PARALLEL else 1
prange = numba.prange if PARALLEL else range


def _compile(function=None, *, contract: bool = False, parallel: bool = False):
    """njit without per-element zero-division checks (error_model="numpy"), so loops vectorize.

    contract=True lets a multiply and an add fuse into one FMA, as BLAS does; the optimizer
    kernels keep it off to stay bit-identical to NumPy. parallel=True runs `prange` loops on
    all cores when PARALLEL (each iteration does the same arithmetic either way).
    """
    def decorate(function):
        if numba is None:
            return None
        return numba.njit(nogil=True, cache=True, error_model="numpy", parallel=parallel and PARALLEL,
                          fastmath={"contract"} if contract else False)(function)
    return decorate if function is None else decorate(function)


def set_kernel_threads(count: int) -> None:
    """How many threads the calling thread's kernels use (numba keeps this setting per thread).

    The app's training thread takes one, leaving a core to the GUI: two-thread kernels wait for
    both cores at every call, and a GUI painting on one of them stalls each of those calls.
    """
    if PARALLEL:
        numba.set_num_threads(max(1, min(count, THREADS)))


def kernel_threads() -> int:
    return numba.get_num_threads() if PARALLEL else 1


class SingleThreadedBlas:
    """Context manager: inside it, BLAS (NumPy's matmul) runs on the calling thread only.

    Reusable; costs two calls into the BLAS library on entry and on exit, none when nested. (Set
    and reset at every step, they made the app's timer late: OpenBLAS's threads woke each time.)
    Does nothing unless
    `enabled` and PARALLEL (without threadpoolctl BLAS keeps its threads), nor while the calling
    thread's kernels run on one thread (set_kernel_threads).
    """

    def __init__(self, enabled: bool = True) -> None:
        controllers = ThreadpoolController().lib_controllers if enabled and PARALLEL else []
        self._libraries = [library for library in controllers if library.user_api == "blas"]
        self._saved: list[list[int]] = []  # a stack, so that it nests

    def __enter__(self) -> SingleThreadedBlas:
        if self._saved:  # already inside: the Trainer holds it over its whole loop
            self._saved.append([])
        elif kernel_threads() > 1:  # kernels on one thread leave the other cores to BLAS
            self._saved.append([library.num_threads for library in self._libraries])
            for library in self._libraries:
                library.set_num_threads(1)
        else:
            self._saved.append([])  # nothing changed, nothing to restore
        return self

    def __exit__(self, *exc_info) -> None:
        for library, threads in zip(self._libraries, self._saved.pop()):
            library.set_num_threads(threads)


# -- optimizer updates: bit-identical to core/optim.py ---------------------------------------

SGD, MOMENTUM, ADAM = 0, 1, 2  # the `kind` of `update_range`


@_compile
def update_range(kind, params, grads, first, second, settings, start, stop):  # pragma: no cover - compiled
    """One optimizer update of params[start:stop] (core/optim.py has the formulas).

    kind SGD: settings = (lr,). MOMENTUM: first = velocity, settings = (lr, beta). ADAM: first,
    second = m, v, settings = (1 - beta1, 1 - beta2, eps', step size), bias correction folded in.
    The loops run over slices from 0: LLVM vectorizes those, not `range(start, stop)` (6x slower).
    """
    w, g = params[start:stop], grads[start:stop]
    if kind == SGD:
        lr = settings[0]
        for i in range(w.size):
            w[i] -= g[i] * lr
    elif kind == MOMENTUM:
        lr, beta, velocity = settings[0], settings[1], first[start:stop]
        for i in range(w.size):
            v = velocity[i] * beta + g[i]
            velocity[i] = v
            w[i] -= v * lr
    else:
        one_minus_beta1, one_minus_beta2, eps, step_size = settings[0], settings[1], settings[2], settings[3]
        m, v = first[start:stop], second[start:stop]
        for i in range(w.size):
            m_i = m[i] + (g[i] - m[i]) * one_minus_beta1
            m[i] = m_i
            v_i = v[i] + (g[i] * g[i] - v[i]) * one_minus_beta2
            v[i] = v_i
            w[i] -= (m_i / (np.sqrt(v_i) + eps)) * step_size


@_compile(parallel=True)
def optimizer_update(kind, params, grads, first, second, settings, parts):  # pragma: no cover - compiled
    """`update_range` over all of params, in `parts` ranges (one per kernel thread)."""
    for part in prange(parts):
        update_range(kind, params, grads, first, second, settings, part * params.size // parts,
                     (part + 1) * params.size // parts)


# -- sparse input rows ---------------------------------------------------------------------------

@_compile
def count_nonzero_rows(images, starts):  # pragma: no cover - compiled
    """starts[i + 1] = number of non-zero values in row i (cumsum them for the row offsets)."""
    for i in range(images.shape[0]):
        count = 0
        for p in range(images.shape[1]):
            count += images[i, p] != 0
        starts[i + 1] = count


@_compile
def fill_sparse_rows(images, divisor, starts, columns, values):  # pragma: no cover - compiled
    """columns/values[starts[i]:starts[i + 1]] = the non-zero pixels of row i, as float32
    pixel / divisor (exactly what np.divide gives)."""
    for i in range(images.shape[0]):
        k = starts[i]
        for p in range(images.shape[1]):
            pixel = images[i, p]
            if pixel != 0:
                columns[k] = p
                values[k] = np.float32(pixel) / divisor
                k += 1


# -- the seed's shuffle ---------------------------------------------------------------------------

@_compile
def swap_in_order(values, partners):  # pragma: no cover - compiled
    """Fisher-Yates with its draws made: for i = n-1 down to 1, swap values[i] and values[partners[k]]."""
    k = 0
    for i in range(values.size - 1, 0, -1):
        j = partners[k]
        values[i], values[j] = values[j], values[i]
        k += 1
