"""A one-line terminal progress bar, drawn only when stderr is a terminal."""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO

from core.engine.run_progress import BatchProgress


class ProgressLine:
    """Redraws one line at most ~10 times a second: cheap enough to call on every batch."""

    def __init__(self, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.width = width
        self._last_draw = 0.0

    def update(self, done: int, total: int, text: str = "", force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < 0.1 and done < total:
            return
        self._last_draw = now
        filled = int(self.width * done / max(total, 1))
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {done}/{total} {text}\x1b[K")
        self.stream.flush()

    def finish(self, text: str = "") -> None:
        if self.enabled:
            self.stream.write(f"\r{text}\x1b[K\n")
            self.stream.flush()


def wait_for_kernels(preparation, quiet: bool = False) -> None:
    """Wait for the compiled kernels (core/engine/kernel_preparation.py), and when they are being
    compiled (a first run only, for seconds) say so, with the seconds so far, instead of stalling
    silently inside epoch 1."""
    from core.engine.kernel_preparation import FIRST_RUN_MESSAGE, STAGES

    if preparation.wait(0.2) or not preparation.first_run or quiet:
        preparation.wait()
        return
    print(f"{FIRST_RUN_MESSAGE}...", flush=True)
    line = ProgressLine()
    while not preparation.wait(0.25):
        text = f"{preparation.stage}, {preparation.seconds:.0f} s"
        line.update(preparation.stages_done, len(STAGES), text, force=True)
    line.finish()
    print(f"compiled kernels ready ({preparation.seconds:.1f} s; later runs load them from the cache)", flush=True)


def progress_text(progress: BatchProgress) -> str:
    """What the progress line says during a run: its epoch, last loss, speed and time left."""
    left = f", {progress.seconds_left:.0f} s left" if math.isfinite(progress.seconds_left) else ""
    return (f"epoch {progress.epoch} loss {progress.new_losses[-1]:.4f} "
            f"{progress.samples_per_second:,.0f} samples/s{left}")
