"""Compiled kernels for the data, and how every compiled kernel is built and threaded.

- The images as compressed sparse rows (`count_nonzero_rows`, `fill_sparse_rows`), which the
  compiled training step reads, and the seed's shuffle (`swap_in_order`). The training step and
  the optimizer updates are in core/compiled/step_kernels.py.

Threads: the optimizer updates and the training step split their work over the cores (numba
prange) when `PARALLEL`; on one core every kernel runs on the calling thread. All of them
release the GIL. The step itself calls no BLAS, but numba's workers and OpenBLAS's both
busy-wait between jobs, and the two pools together made a step 10-20 times slower here (when the
step still called SGEMM): so while a run trains, BLAS elsewhere in the process (validation
between epochs, the app's drawing pad) stays on its calling thread (`SingleThreadedBlas`, with
threadpoolctl; without it, BLAS keeps its threads). The pad's reading of a drawing does so at
all times: a few small products, which a busy machine made 20 times slower on two BLAS threads.

Waiting between the phases of a batch: the training step's threads meet twice a batch (every
~0.15 ms). GNU OpenMP's workers spin while they wait, by default for 300,000 rounds (about
0.1-0.2 s); a spinning thread whose partner has lost its core to another process burns its own
time slice, and with two CPU-bound processes beside it an Adam epoch took 5-42 s instead of
0.32 s. `GOMP_SPINCOUNT` (read once, when numba starts its threads) is therefore set to
SPIN_ROUNDS unless the user set it: a wait spins a few microseconds, then sleeps and leaves the
core to whoever can use it (bench/bench_busy.py has the figures). Spinning not at all cost 50 %
of the idle speed (a sleep and a wake-up at every meeting).

Which thread calls them matters. Once Python's main thread has run a parallel kernel, the same
kernels in another thread ran slower: 465 -> 550 us a step measured, and the window's training
25 % slower (GNU OpenMP then keeps a pool for each of the two threads, counts more threads than
cores, and its workers sleep instead of spinning between calls). The app therefore trains only
in its worker thread, never in the GUI thread. (It was 2-3 times slower, and about 100 times in
the app's second run, while threadpoolctl ignored the other thread's BLAS limit: see
`_set_blas_threads`.)

Without numba (or with MNIST_MLP_KERNELS=numpy) `AVAILABLE` is False and callers use NumPy.
"""

from __future__ import annotations

import os
import threading

import numpy as np

SPIN_ROUNDS = "1000"  # GNU OpenMP's rounds of spinning before a waiting thread sleeps (see above)
os.environ.setdefault("GOMP_SPINCOUNT", SPIN_ROUNDS)  # before numba loads libgomp, which reads it once

try:
    if os.environ.get("MNIST_MLP_KERNELS", "").lower() == "numpy":
        raise ImportError("fused kernels disabled by MNIST_MLP_KERNELS=numpy")
    import numba
except ImportError:  # numba is optional: the NumPy path computes the same values
    numba = None

try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # then BLAS keeps its threads
    ThreadpoolController = None

AVAILABLE = numba is not None
PARALLEL = AVAILABLE and numba.config.NUMBA_NUM_THREADS > 1
THREADS = numba.config.NUMBA_NUM_THREADS if PARALLEL else 1
prange = numba.prange if AVAILABLE else range


def _compile(function=None, *, contract: bool = False, parallel: bool = False):
    """njit without per-element zero-division checks (error_model="numpy"), so loops vectorize.

    contract=True lets a multiply and an add fuse into one FMA, as BLAS does; the optimizer
    kernels keep it off to stay bit-identical to NumPy. parallel=True runs `prange` loops on
    the calling thread's kernel threads (each iteration does the same arithmetic either way).

    Every kernel is cached on disk. A parallel kernel is built parallel whatever the thread
    count: numba's cache key leaves out the flags, so one build serves every NUMBA_NUM_THREADS
    (a serial build once cached under NUMBA_NUM_THREADS=1 would have been loaded by parallel
    runs; so parallel kernels were not cached there, and one-thread runs compiled the step, 4 s,
    at every start). On one thread a prange loop runs on the calling thread.
    """
    def decorate(function):
        if numba is None:
            return None
        return numba.njit(nogil=True, cache=True, error_model="numpy", parallel=parallel,
                          fastmath={"contract"} if contract else False)(function)
    return decorate if function is None else decorate(function)


def set_kernel_threads(count: int) -> None:
    """How many threads the calling thread's kernels use (numba keeps this setting per thread)."""
    if PARALLEL:
        numba.set_num_threads(max(1, min(count, THREADS)))


def kernel_threads() -> int:
    return numba.get_num_threads() if PARALLEL else 1


class SingleThreadedBlas:
    """Context manager: inside it, BLAS (NumPy's matmul) runs on one thread, process-wide.

    BLAS's thread count belongs to the process, so all instances share one count of holders:
    the first to enter saves the count and sets 1, the last to leave restores it (two Trainers
    run side by side must not restore each other's setting). Entering while held costs no call
    into BLAS; the Trainer holds it over its whole loop, as setting and resetting it at every
    step woke OpenBLAS's threads each time and made the app's timer late. Does nothing unless
    `enabled` and PARALLEL (without threadpoolctl BLAS keeps its threads), nor while the calling
    thread's kernels run on one thread (set_kernel_threads): the kernels leave BLAS the cores.
    `whatever_the_kernels` drops the last two conditions, for work that is all small products
    (the pad's reading of a drawing), which BLAS's threads slow down on a busy machine whatever
    the kernels do.
    """

    _lock = threading.Lock()
    _holders = 0
    _saved: list[int] = []

    def __init__(self, enabled: bool = True, whatever_the_kernels: bool = False) -> None:
        self._whatever_the_kernels = whatever_the_kernels
        usable = enabled and (PARALLEL or whatever_the_kernels) and ThreadpoolController is not None
        controllers = ThreadpoolController().lib_controllers if usable else []
        self._libraries = [library for library in controllers if library.user_api == "blas"]
        self._counted: list[bool] = []  # per nesting level: whether it holds the limit

    def __enter__(self) -> SingleThreadedBlas:
        counted = bool(self._libraries) and (self._whatever_the_kernels or kernel_threads() > 1)
        self._counted.append(counted)
        if counted:
            with SingleThreadedBlas._lock:
                if SingleThreadedBlas._holders == 0:
                    SingleThreadedBlas._saved = [library.num_threads for library in self._libraries]
                    _set_blas_threads(self._libraries, [1] * len(self._libraries))
                SingleThreadedBlas._holders += 1
        return self

    def __exit__(self, *exc_info) -> None:
        if not self._counted.pop():
            return
        with SingleThreadedBlas._lock:
            SingleThreadedBlas._holders -= 1
            if SingleThreadedBlas._holders == 0:
                _set_blas_threads(self._libraries, SingleThreadedBlas._saved)


def _set_blas_threads(libraries: list, counts: list[int]) -> None:
    """Sets each BLAS library's thread count, from whichever thread calls.

    threadpoolctl (3.8) lets only the first thread that set OpenBLAS's (process-wide) count set
    it again while that thread lives, and silently ignores every other thread. The app's second
    run, in a new worker thread while the first run's still lived, then kept OpenBLAS on two
    threads beside the step's own two: about 30 ms a step instead of 0.3. The holders here are
    counted process-wide, so whichever thread enters or leaves last takes control, and gives it
    up again, so that other code's limits (threadpool_limits) work from any thread.
    """
    for library, count in zip(libraries, counts):
        give_up_control = getattr(type(library), "clear_controlling_thread", None)
        if give_up_control is not None:
            give_up_control(force=True)
        library.set_num_threads(count)
        if give_up_control is not None:
            give_up_control(force=True)


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
