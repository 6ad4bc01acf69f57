"""A first run's compiled kernels built by a process of their own while the run trains with NumPy.

Why: from an empty cache, numba takes about 14 s to build the training step (lowering its two
parallel loops), where a whole warm `main.py train --epochs 1` takes 1.4 s and a NumPy epoch
about 1 s. A first run that waited for the compiler took 10x a warm one. Instead it starts on
the NumPy path (the same step, core/engine/backend.py), and the Trainer moves to the compiled
kernels at the first epoch boundary after they are in the cache (`Trainer.upgrade`).

A process rather than a thread: numba's compiler holds the GIL for most of those seconds (the
run's thread would stall), and a process outlives a run shorter than the compilation, so the
cache is written for the next run anyway. A lock file in numba's cache folder, holding the
compiling process's id, keeps two runs started together from compiling twice: the second
watches the first's process.

`python -m core.engine.compile_process LOCK` is that process: it builds the kernels exactly as
KernelPreparation does (the same signatures, so the run finds them), then removes its lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from core.compiled import kernels, step_kernels
from core.engine.kernel_preparation import _cached, _prepare_data_kernels, _prepare_training_step

LOCK_NAME = "mnist-mlp-compiling.pid"
FRESH_LOCK_SECONDS = 60  # a lock without a readable id yet: its process is being started
PROJECT_ROOT = Path(__file__).resolve().parents[2]  # where `-m core...` finds this package
ELSEWHERE_MESSAGE = ("first run: the compiled kernels are being built in the background (about 15 s, once); "
                     "training starts with NumPy and moves to them when they are ready")


class CompilingElsewhere:
    """The process building the kernels (started by this run, or by another one still going)."""

    def __init__(self, lock: Path, pid: int, process: subprocess.Popen | None = None) -> None:
        self.lock, self.pid, self.process = lock, pid, process
        self._ready = False

    def running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return _alive(self.pid) and self.lock.exists()

    def ready(self) -> bool:
        """Whether the compiled kernels can be loaded from the cache now (the process has ended
        and left them there). A process that failed leaves the run on NumPy: it does not compile
        for 14 s in the middle of an epoch instead."""
        if not self._ready and not self.running():
            self._ready = _cached(step_kernels.train_steps)
        return self._ready

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the process to end; whether the kernels are ready."""
        deadline = time.monotonic() + timeout
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.ready()


def compile_elsewhere(command: list[str] | None = None, folder: Path | None = None) -> CompilingElsewhere | None:
    """For a first run, start (or find) the process that builds the kernels; None when there is
    nothing to build (numba missing or the step cached) or it cannot be done this way (the cache
    folder cannot be written, or Windows, where probing a process id would signal it): the run
    then prepares its kernels in-process, as before. `command` and `folder` (where the lock goes:
    numba's cache folder by default) are for tests."""
    if not kernels.AVAILABLE or os.name == "nt" or _cached(step_kernels.train_steps):
        return None
    try:
        folder = Path(step_kernels.train_steps.stats.cache_path) if folder is None else folder
        folder.mkdir(parents=True, exist_ok=True)
    except (AttributeError, OSError):
        return None
    lock = folder / LOCK_NAME
    for _ in range(2):
        try:
            descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            pid = _read_pid(lock)
            if pid is not None and _alive(pid):
                return CompilingElsewhere(lock, pid)
            if pid is None and _age(lock) < FRESH_LOCK_SECONDS:
                return CompilingElsewhere(lock, -1)  # being started: watched through its lock
            lock.unlink(missing_ok=True)  # stale: its process is gone (killed, or the machine restarted)
            continue
        except OSError:
            return None
        break
    else:
        return None
    try:
        process = subprocess.Popen(command or [sys.executable, "-m", "core.engine.compile_process", str(lock)],
                                   cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:
        os.close(descriptor)
        lock.unlink(missing_ok=True)
        return None
    with os.fdopen(descriptor, "w") as file:
        file.write(str(process.pid))
    return CompilingElsewhere(lock, process.pid, process)


def _read_pid(lock: Path) -> int | None:
    try:
        text = lock.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() and 0 < int(text) < 2**31 else None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return pid == -1  # the lock's process is being started (see compile_elsewhere)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process of that id: alive
        return True
    return True


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return FRESH_LOCK_SECONDS


def main(arguments: list[str]) -> int:
    lock = Path(arguments[0]) if arguments else None
    try:
        _prepare_data_kernels()
        _prepare_training_step()
        return 0
    finally:
        if lock is not None and _read_pid(lock) == os.getpid():
            lock.unlink(missing_ok=True)


if __name__ == "__main__":
    if hasattr(os, "nice"):
        os.nice(5)  # the user's run first: it trains meanwhile
    sys.exit(main(sys.argv[1:]))
