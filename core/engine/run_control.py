"""Pause, resume, stop and steer a training loop from any thread, and know when it has halted.

The run's caller owns the RunControl and hands it to the Trainer (the window's worker makes it
before the Trainer exists, so a pause or stop pressed while the dataset loads is not lost): this
is the only place the run's pause, stop and new learning rate are kept. The loop calls
`wait_if_paused()` and `take_new_lr()` between chunks of batches; the other calls may come from any
thread. One lock covers them all, so that a resume racing with the loop's check, or with the
end of the run, cannot leave `wait_until_halted()` answering for a state that has passed.
"""

from __future__ import annotations

import math
import threading
import time

from core.errors import ConfigError


class RunControl:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._running = True
        self._stop_requested = False
        self._halted = False  # the loop waits in a pause, or has ended
        self._ended = False
        self._new_lr: float | None = None  # set by set_lr, taken by the loop between chunks

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

    def set_lr(self, lr: float) -> None:
        """Train with learning rate `lr` from the next chunk of batches on (the decay then goes on from it)."""
        if not (math.isfinite(lr) and lr > 0):
            raise ConfigError("learning rate must be a positive number")
        with self._condition:
            self._new_lr = float(lr)

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

    def take_new_lr(self) -> float | None:
        """The learning rate asked for since the last call, or None."""
        with self._condition:
            new_lr, self._new_lr = self._new_lr, None
            return new_lr

    def end(self) -> None:
        with self._condition:
            self._ended = self._halted = True
            self._condition.notify_all()
