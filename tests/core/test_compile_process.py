"""A first run's kernels built by another process: one process however many runs start, its lock
cleaned up, a stale lock taken over, and a run that finds nothing to build compiles nothing."""

import os
import subprocess
import sys

import pytest

from core.compiled import kernels, step_kernels
from core.engine import compile_process
from core.engine.compile_process import LOCK_NAME, compile_elsewhere

pytestmark = pytest.mark.skipif(not kernels.AVAILABLE or os.name == "nt",
                                reason="needs numba (and a POSIX system) to build kernels elsewhere")
WAITING = [sys.executable, "-c", "import sys; sys.stdin.read()"]  # runs until its stdin closes


@pytest.fixture
def uncached(monkeypatch):
    """As on a first run: numba's cache holds no training step (until `cached` says otherwise)."""
    state = {"cached": False}
    monkeypatch.setattr(compile_process, "_cached", lambda kernel: state["cached"])
    return state


def test_a_first_run_starts_one_process_and_a_second_run_watches_it(tmp_path, uncached, monkeypatch):
    started: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    def popen(command, **options):
        started.append(real_popen(command, **{**options, "stdin": subprocess.PIPE}))
        return started[-1]

    monkeypatch.setattr(compile_process.subprocess, "Popen", popen)
    first = compile_elsewhere(WAITING, tmp_path)
    second = compile_elsewhere(WAITING, tmp_path)
    try:
        assert len(started) == 1, "the second run does not compile again"
        assert first.process is started[0] and second.process is None
        assert (tmp_path / LOCK_NAME).read_text() == str(started[0].pid) == str(second.pid)
        assert first.running() and second.running()
        assert not first.ready() and not second.ready()
    finally:
        started[0].stdin.close()
        started[0].wait(60)
    (tmp_path / LOCK_NAME).unlink()  # what the real process does at its end
    uncached["cached"] = True
    assert not first.running() and not second.running()
    assert first.ready() and second.ready() and first.wait(0)


def test_a_process_that_left_no_kernels_leaves_the_run_on_numpy(tmp_path, uncached):
    failing = compile_elsewhere([sys.executable, "-c", "raise SystemExit(3)"], tmp_path)
    assert failing.process.wait(60) == 3
    assert not failing.wait(5) and not failing.ready()


def test_a_stale_lock_is_taken_over(tmp_path, uncached):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(60)
    (tmp_path / LOCK_NAME).write_text(str(gone.pid))  # its process was killed before cleaning up
    elsewhere = compile_elsewhere([sys.executable, "-c", "pass"], tmp_path)
    assert elsewhere is not None and elsewhere.process is not None and elsewhere.pid != gone.pid
    assert (tmp_path / LOCK_NAME).read_text() == str(elsewhere.pid)
    elsewhere.process.wait(60)


def test_a_lock_being_written_is_not_taken_for_stale(tmp_path, uncached):
    (tmp_path / LOCK_NAME).write_text("")  # created, its process id not written yet
    elsewhere = compile_elsewhere([sys.executable, "-c", "raise SystemExit(1)"], tmp_path)
    assert elsewhere.process is None and elsewhere.running()
    (tmp_path / LOCK_NAME).unlink()
    assert not elsewhere.running()


def test_nothing_is_started_when_the_kernels_are_cached_or_the_folder_cannot_be_written(tmp_path, uncached):
    uncached["cached"] = True
    assert compile_elsewhere(WAITING, tmp_path) is None
    uncached["cached"] = False
    blocker = tmp_path / "a file"
    blocker.write_text("")
    assert compile_elsewhere(WAITING, blocker / "cache") is None  # a folder under a file
    assert not list(tmp_path.glob(f"**/{LOCK_NAME}"))


def test_the_compiling_process_builds_the_step_and_removes_its_own_lock(tmp_path):
    lock = tmp_path / LOCK_NAME
    lock.write_text(str(os.getpid()))
    assert compile_process.main([str(lock)]) == 0
    assert not lock.exists()
    assert compile_process._cached(step_kernels.train_steps)
    lock.write_text("12345678")  # another process's lock: not ours to remove
    assert compile_process.main([str(lock)]) == 0 and lock.exists()

