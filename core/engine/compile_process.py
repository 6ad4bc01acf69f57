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
watches the build instead of starting another; watchers probe it with a shared lock, so two
probes never see each other. A build writes a marker beside the lock when it starts and removes
it once the step is cached, so a build that died in any way (an error, a crash, a kill) is
known: while the marker is there, runs prepare their kernels in-process, as before, instead of
starting builds that die again (and a successful in-process preparation removes it). POSIX only:
elsewhere (Windows), and where flock does not work (some network file systems), the kernels are
prepared in-process, as before.

`python -m core.engine.compile_process` is that process: it builds the kernels exactly as
KernelPreparation does (the same signatures, so the run finds them).
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

from core.compiled import kernels, step_kernels
from core.engine.kernel_preparation import FAILED_NAME, _cached

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

LOCK_NAME = "mnist-mlp-compiling.lock"
HELD = (errno.EWOULDBLOCK, errno.EAGAIN)  # flock's answer when another holds the lock (any other: no flock here)
START_TRIES = 3  # a probe's shared lock of a moment can hide a free lock from a starting run: try again
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

    def state(self) -> bool | None:
        """True: the kernels are ready; False: still being built; None: the build ended without
        them (the caller then prepares them in-process)."""
        if self.ready():
            return True
        return False if self.running() else None

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the build to end; whether the kernels are ready."""
        deadline = time.monotonic() + timeout
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.ready()


def cache_folder() -> Path:
    return Path(step_kernels.train_steps.stats.cache_path)


def building(folder: Path) -> bool:
    """Whether a process holds the build lock in `folder`, probed without waiting, with a shared
    lock (probes do not see each other; the builder's exclusive lock refuses them)."""
    if fcntl is None:
        return False
    try:
        descriptor = os.open(folder / LOCK_NAME, os.O_RDWR)  # writable: NFS emulates flock with fcntl locks
    except OSError:
        return False  # no lock file: nobody ever built here
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as error:
        return error.errno in HELD  # another error: no working flock here, so no build either
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
        descriptor = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except (AttributeError, OSError):
        return None
    for attempt in range(START_TRIES):
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as error:
            if error.errno not in HELD:  # no working flock (ENOLCK on NFS...): prepare in-process
                os.close(descriptor)
                return None
            if attempt == START_TRIES - 1:
                os.close(descriptor)
                return CompilingElsewhere(folder)  # another run's build: watch it
            time.sleep(0.02)
    if (folder / FAILED_NAME).exists():  # (checked with the lock held: a running build has one too)
        os.close(descriptor)
        return None
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
    """Build the kernels. The failure marker goes down first and comes off only once the step is
    in the cache, so a build that dies in any way leaves it (with the error, when there is one)."""
    folder = Path(arguments[0]) if arguments else None
    marker = None if folder is None else folder / FAILED_NAME
    if marker is not None:
        marker.write_text("the build did not finish (killed, or the process crashed)\n", encoding="utf-8")
    try:
        from core.engine.kernel_preparation import _prepare_data_kernels, _prepare_training_step

        _prepare_data_kernels()
        _prepare_training_step()
        if not _cached(step_kernels.train_steps):
            raise RuntimeError("numba did not write the training step to its cache")
    except Exception:  # noqa: BLE001 - whatever it is, later runs must not try again in the background
        if marker is not None:
            marker.write_text(traceback.format_exc(), encoding="utf-8")
        return 1
    if marker is not None:
        marker.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    if hasattr(os, "nice"):
        os.nice(5)  # the user's run first: it trains meanwhile
    sys.exit(main(sys.argv[1:]))
