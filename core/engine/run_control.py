"""Pause, resume and stop a training loop from any thread, and know when it has halted.

The loop calls `wait_if_paused()` between chunks of batches; the other calls may come from any
thread. One lock covers them all, so that a resume racing with the loop's check, or with the
end of the run, cannot leave `wait_until_halted()` answering for a state that has passed.
"""

from __future__ import annotations

import threading
import time


class RunControl:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._running = True
        self._stop_requested = False
        self._halted = False  # the loop waits in a pause, or has ended
        self._ended = False

    # -- from any thread ----------------------------------------------------------------------------
    def pause(self) -> None:
        with self._condition:
            self._running = False

    def resume(self) -> None:
        with self._condition:
            self._running = True
            self._halted = self._ended  # at once: a wait_until_halted() after another pause() waits for it
            self._condition.notify_all()

    def stop(self) -> None:
        with self._condition:
            self._stop_requested = True
            self._running = True
            self._condition.notify_all()

    @property
    def paused(self) -> bool:
        return not self._running

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    def wait_until_halted(self, timeout: float | None = None) -> bool:
        """Wait until the loop trains no more batches: paused between chunks, or ended. False on timeout."""
        with self._condition:
            return self._condition.wait_for(lambda: self._halted, timeout)

    # -- from the loop ------------------------------------------------------------------------------
    def wait_if_paused(self) -> float:
        """Block while paused; returns the seconds spent waiting."""
        with self._condition:
            if self._running:
                return 0.0
            started = time.perf_counter()
            while not self._running:
                self._halted = True  # again after each wake-up: a resume() then pause() finds it halted
                self._condition.notify_all()
                self._condition.wait()
            self._halted = False
            return time.perf_counter() - started

    def end(self) -> None:
        with self._condition:
            self._ended = self._halted = True
            self._condition.notify_all()
