import numpy as np
import pytest

from core.compiled import kernels


@pytest.mark.skipif(not kernels.PARALLEL, reason="the kernels run on one thread: BLAS keeps its threads")
def test_single_threaded_blas_limits_and_restores_nested():
    from threadpoolctl import threadpool_info

    def blas_threads():
        np.ones((2, 2)) @ np.ones((2, 2))
        return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]

    before = blas_threads()
    limit = kernels.SingleThreadedBlas()
    with limit:
        assert set(blas_threads()) == {1}
        with limit:
            assert set(blas_threads()) == {1}
        assert set(blas_threads()) == {1}
    assert blas_threads() == before
    with kernels.SingleThreadedBlas(enabled=False):
        assert blas_threads() == before


@pytest.mark.skipif(not kernels.PARALLEL, reason="the kernels run on one thread: BLAS keeps its threads")
def test_single_threaded_blas_is_restored_by_the_last_of_interleaved_holders():
    """Two Trainers' limits overlapping (A enters, B enters, A leaves, B leaves): BLAS stays on
    one thread until both have left, then gets its own count back."""
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]

    before = blas_threads()
    first, second = kernels.SingleThreadedBlas(), kernels.SingleThreadedBlas()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert set(blas_threads()) == {1}  # the second still trains
    second.__exit__(None, None, None)
    assert blas_threads() == before


@pytest.mark.skipif(not kernels.PARALLEL, reason="the kernels run on one thread: BLAS keeps its threads")
def test_single_threaded_blas_holds_in_any_thread_while_an_earlier_one_lives():
    """threadpoolctl 3.8 lets only the first thread that set OpenBLAS's thread count set it again,
    for as long as that thread lives; the calls of every other thread did nothing. The app's
    second run, in a new worker thread while the first run's thread still lived, then trained
    with OpenBLAS on two threads: about 30 ms a step instead of 0.3. Nor may a finished run's
    limit, its thread alive, keep other code from setting one."""
    import threading

    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]

    before = blas_threads()
    if not before or before == [1] * len(before):
        pytest.skip("BLAS runs on one thread here: a limit of one would hold either way")
    first_done, release = threading.Event(), threading.Event()

    def first_run():
        with kernels.SingleThreadedBlas():
            pass
        first_done.set()
        release.wait()  # the thread lives on, as a finished run's QThread may

    def second_run():
        with kernels.SingleThreadedBlas():
            seen.append(blas_threads())
        seen.append(blas_threads())

    seen = []
    first = threading.Thread(target=first_run)
    first.start()
    try:
        first_done.wait(timeout=10)
        with threadpool_limits(limits=1, user_api="blas"):  # other code's limits, from this thread
            seen.append(blas_threads())
        second = threading.Thread(target=second_run)
        second.start()
        second.join(timeout=10)
    finally:
        release.set()
        first.join(timeout=10)
    assert seen == [[1] * len(before), [1] * len(before), before]
