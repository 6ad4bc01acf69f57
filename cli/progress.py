"""A one-line terminal progress bar, drawn only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


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
