"""A first run's kernels built by another process: one build however many runs start, held by a
lock that ends with its process, a failed build remembered, and nothing started when there is
nothing to build."""

import errno
import os
import subprocess
import sys

import pytest

from core.compiled import kernels
from core.engine import compile_process, kernel_preparation
from core.engine.compile_process import FAILED_NAME, LOCK_NAME, building, compile_elsewhere

pytestmark = pytest.mark.skipif(not kernels.AVAILABLE or compile_process.fcntl is None,
                                reason="needs numba and flock (POSIX) to build kernels elsewhere")
WAITING = [sys.executable, "-c", "import sys; sys.stdin.read()"]  # runs until its stdin closes


@pytest.fixture
def uncached(monkeypatch):
    """As on a first run: numba's cache holds no training step (until `cached` says otherwise)."""
    state = {"cached": False}
    monkeypatch.setattr(compile_process, "_cached", lambda kernel: state["cached"])
    return state


@pytest.fixture
def started(monkeypatch):
    """The processes compile_elsewhere starts, with a stdin the test can close to end them."""
    processes: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    def popen(command, **options):
        processes.append(real_popen(command, **{**options, "stdin": subprocess.PIPE}))
        return processes[-1]

    monkeypatch.setattr(compile_process.subprocess, "Popen", popen)
    yield processes
    for process in processes:
        process.stdin.close()
        process.wait(60)


def test_a_first_run_starts_one_build_and_a_second_run_watches_it(tmp_path, uncached, started):
    first = compile_elsewhere(WAITING, tmp_path)
    second = compile_elsewhere(WAITING, tmp_path)
    assert len(started) == 1, "the second run does not build again"
    assert first.process is started[0] and second.process is None
    assert building(tmp_path), "the child holds the lock after the run that started it let go of its copy"
    assert first.running() and second.running()
    assert not first.ready() and not second.ready()

    started[0].stdin.close()
    started[0].wait(60)
    assert not building(tmp_path), "the lock ends with its process, however it ends"
    assert not first.running() and not second.running()
    assert not first.ready(), "ended, but nothing in the cache: the run stays on NumPy"
    uncached["cached"] = True
    second._ready = False
    assert first.wait(0) and second.ready()


def test_a_lock_file_left_by_a_killed_build_is_no_obstacle(tmp_path, uncached, started):
    killed = compile_elsewhere(WAITING, tmp_path)
    started[0].kill()
    started[0].wait(60)
    assert (tmp_path / LOCK_NAME).exists() and not killed.running()
    again = compile_elsewhere(WAITING, tmp_path)
    assert again.process is started[1] and again.running()


def test_a_failed_build_is_remembered_and_later_runs_prepare_in_process(tmp_path, uncached, monkeypatch):
    def broken():
        raise RuntimeError("LLVM ran out of memory")

    monkeypatch.setattr(kernel_preparation, "_prepare_training_step", broken)
    assert compile_process.main([str(tmp_path)]) == 1
    assert "LLVM ran out of memory" in (tmp_path / FAILED_NAME).read_text()
    assert compile_elsewhere(WAITING, tmp_path) is None


def test_a_build_that_dies_without_a_word_is_remembered_too(tmp_path, uncached, monkeypatch):
    """The marker is down from the build's start: a kill or a crash leaves it."""
    seen = []
    monkeypatch.setattr(kernel_preparation, "_prepare_training_step",
                        lambda: seen.append((tmp_path / FAILED_NAME).read_text()))
    assert compile_process.main([str(tmp_path)]) == 1  # built, but nothing in the cache (uncached)
    assert seen and "did not finish" in seen[0]
    assert "did not write the training step" in (tmp_path / FAILED_NAME).read_text()


def test_a_run_watches_a_build_in_progress_whatever_its_marker_says(tmp_path, uncached, started):
    first = compile_elsewhere(WAITING, tmp_path)
    (tmp_path / FAILED_NAME).write_text("the build did not finish")  # as the real build writes at its start
    second = compile_elsewhere(WAITING, tmp_path)
    assert first.process is not None and second is not None and second.process is None and second.running()
    assert second.state() is False
    started[0].stdin.close()
    started[0].wait(60)
    assert second.state() is None, "ended without the kernels: the caller prepares them in-process"


def test_without_a_working_flock_the_kernels_are_prepared_in_process(tmp_path, uncached, monkeypatch):
    def no_locks(descriptor, operation):
        raise OSError(errno.ENOLCK, "No locks available")  # NFS without its lock daemon

    (tmp_path / LOCK_NAME).write_text("")
    monkeypatch.setattr(compile_process.fcntl, "flock", no_locks)
    assert compile_elsewhere(WAITING, tmp_path) is None
    assert not building(tmp_path)


def test_a_build_that_exits_with_an_error_leaves_the_run_on_numpy(tmp_path, uncached):
    failing = compile_elsewhere([sys.executable, "-c", "raise SystemExit(3)"], tmp_path)
    assert failing.process.wait(60) == 3
    assert not failing.wait(5) and not failing.ready()


def test_nothing_is_started_when_the_kernels_are_cached_or_the_folder_cannot_be_written(tmp_path, uncached):
    uncached["cached"] = True
    assert compile_elsewhere(WAITING, tmp_path) is None
    uncached["cached"] = False
    blocker = tmp_path / "a file"
    blocker.write_text("")
    assert compile_elsewhere(WAITING, blocker / "cache") is None  # a folder under a file
    assert not list(tmp_path.glob(f"**/{LOCK_NAME}"))


@pytest.mark.skipif(sys.version_info < (3, 11), reason="Python's safe path (-P) is new in 3.11")
def test_the_building_process_finds_the_package_whatever_its_working_folder(tmp_path, uncached):
    """It runs `-m core.engine.compile_process` with PYTHONPATH set, so even with Python's safe
    path (the working folder not on sys.path) the package is found."""
    probe = [sys.executable, "-P", "-c", "import core.engine.compile_process"]
    environment_before = dict(os.environ)
    process = compile_elsewhere(probe, tmp_path).process
    assert process.wait(120) == 0
    assert dict(os.environ) == environment_before, "the child's environment is its own"


def test_the_building_process_builds_the_step_and_leaves_no_failure(tmp_path):
    assert compile_process.main([str(tmp_path)]) == 0
    assert not (tmp_path / FAILED_NAME).exists()
