"""A first run's compiled kernels built by a process of their own while the run trains with NumPy.

Why: from an empty cache, numba takes about 13 s to build the training step (lowering its two
parallel loops), where a whole warm `main.py train --epochs 1` takes 1.4 s and a NumPy epoch
about 1.2 s. A first run that waited for the compiler took 10x a warm one. Instead it starts on
the NumPy path (the same step, core/engine/backend.py), and the Trainer moves to the compiled
kernels at the first epoch boundary after they are in the cache (`Trainer.upgrade`).

A process rather than a thread: numba's compiler holds the GIL for most of those seconds (the
run's thread would stall), and a process outlives a run shorter than the compilation, so the
cache is written for the next run anyway.

One build however many runs start: the building process holds an exclusive `flock` on a lock
file in numba's cache folder for as long as it lives (the kernel releases it when the process
ends, however it ends: no stale lock, no process id to trust). A run that cannot take the lock
watches the build instead of starting another. A build that fails leaves a marker (with its
error) beside the lock; while it is there, runs prepare their kernels in-process as before
instead of starting builds that fail again. POSIX only: elsewhere (Windows) the kernels are
prepared in-process, as before.

`python -m core.engine.compile_process` is that process: it builds the kernels exactly as
KernelPreparation does (the same signatures, so the run finds them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

from core.compiled import kernels, step_kernels
from core.engine.kernel_preparation import _cached, _prepare_data_kernels, _prepare_training_step

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

LOCK_NAME = "mnist-mlp-compiling.lock"
FAILED_NAME = "mnist-mlp-build-failed.txt"  # a build's error: later runs compile in-process instead
PROJECT_ROOT = Path(__file__).resolve().parents[2]  # where `-m core...` finds this package
ELSEWHERE_MESSAGE = ("first run: the compiled kernels are being built in the background (once, for some seconds); "
                     "training starts with NumPy and moves to them when they are ready")


class CompilingElsewhere:
    """The build of the kernels by another process (started by this run, or by another one)."""

    def __init__(self, folder: Path, process: subprocess.Popen | None = None) -> None:
        self.folder, self.process = folder, process
        self._ready = False

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def running(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            return False
        return building(self.folder)

    def ready(self) -> bool:
        """Whether the compiled kernels can be loaded from the cache now (the build has ended and
        left them there). A build that failed leaves the run on NumPy: it does not compile for
        13 s in the middle of an epoch instead."""
        if not self._ready and not self.running():
            self._ready = _cached(step_kernels.train_steps)
        return self._ready

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the build to end; whether the kernels are ready."""
        deadline = time.monotonic() + timeout
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.ready()


def cache_folder() -> Path:
    return Path(step_kernels.train_steps.stats.cache_path)


def building(folder: Path) -> bool:
    """Whether a process holds the build lock in `folder` (probed without waiting)."""
    if fcntl is None:
        return False
    try:
        descriptor = os.open(folder / LOCK_NAME, os.O_RDONLY)
    except OSError:
        return False  # no lock file: nobody ever built here
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True  # held by the building process
    finally:
        os.close(descriptor)  # (releases the probe's lock, if it got it)
    return False


def compile_elsewhere(command: list[str] | None = None, folder: Path | None = None) -> CompilingElsewhere | None:
    """For a first run, start (or find) the process that builds the kernels; None when there is
    nothing to build (numba missing or the step cached) or it cannot be done this way (no flock,
    the cache folder cannot be written, or an earlier build failed): the run then prepares its
    kernels in-process, as before. `command` and `folder` (numba's cache folder by default) are
    for tests."""
    if not kernels.AVAILABLE or fcntl is None or _cached(step_kernels.train_steps):
        return None
    try:
        folder = cache_folder() if folder is None else folder
        folder.mkdir(parents=True, exist_ok=True)
        if (folder / FAILED_NAME).exists():
            return None
        descriptor = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except (AttributeError, OSError):
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        return CompilingElsewhere(folder)  # another run's build: watch it
    environment = dict(os.environ)  # the package found even where the working folder is not on sys.path
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), environment.get("PYTHONPATH")]))
    try:
        # the child inherits the locked descriptor: the lock is its for as long as it lives
        process = subprocess.Popen(command or [sys.executable, "-m", "core.engine.compile_process", str(folder)],
                                   cwd=PROJECT_ROOT, env=environment, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(descriptor,),
                                   start_new_session=True)
    except OSError:
        return None
    finally:
        os.close(descriptor)  # this process's copy; the child's keeps the lock
    return CompilingElsewhere(folder, process)


def main(arguments: list[str]) -> int:
    """Build the kernels; on failure leave the error where later runs see it."""
    folder = Path(arguments[0]) if arguments else None
    try:
        _prepare_data_kernels()
        _prepare_training_step()
    except Exception:  # noqa: BLE001 - whatever it is, later runs must not try again in the background
        if folder is not None:
            (folder / FAILED_NAME).write_text(traceback.format_exc(), encoding="utf-8")
        return 1
    return 0


if __name__ == "__main__":
    if hasattr(os, "nice"):
        os.nice(5)  # the user's run first: it trains meanwhile
    sys.exit(main(sys.argv[1:]))
