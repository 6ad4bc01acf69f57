"""A run's events turned into reports for a display: coalesced, at most a few a second, with an ETA.

The Trainer yields one ChunkEnd per call of the compiled step (some 20 a second) and an EpochEnd
per epoch (short epochs end faster than a screen redraws). A display wants neither rate: it
wants the batches and epochs since its last update, at a fixed rate whatever the batch rate, so
that its cost does not grow with the speed of training; and at once when the run pauses, its
learning rate is changed or it ends, so that what it shows is all that was trained.
`RunProgress.observe(event)` returns such a report when one is due (the window's worker emits
it as a signal; anything headless can use it the same way).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.engine.events import BackendChanged, ChunkEnd, EpochEnd, LearningRateChanged, Paused, RunEnd, RunStart

REPORTS_PER_SECOND = 5


@dataclass(frozen=True, eq=False)
class BatchProgress:
    """The batches finished since the last report, and where the run stands after them."""

    epoch: int
    epochs: int
    batch: int  # batches done in the epoch
    batches_per_epoch: int
    new_losses: np.ndarray  # float64
    first_step: int  # global index (0-based) of new_losses[0] in the run's batch losses
    samples_per_second: float
    elapsed: float
    seconds_left: float  # nan until the rate is known


@dataclass(frozen=True, eq=False)
class Progress:
    """What a run did since the last report: its new batches (None when there are none) and the
    epochs it finished, in one piece (as two signals, the GUI thread took the GIL between them
    and drew the charts twice, the second time about 20 ms later)."""

    batches: BatchProgress | None
    epochs: tuple[EpochEnd, ...]


class Throttle:
    """Says yes at most `per_second` times a second (the first time at once)."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / per_second
        self.clock = clock
        self._last = -math.inf

    def due(self) -> bool:
        return self.clock() - self._last >= self.interval

    def reset(self) -> None:
        self._last = self.clock()


class RunProgress:
    """The pending batches and epochs of one run, and the ETA computed from them."""

    def __init__(self, per_second: float = REPORTS_PER_SECOND, clock: Callable[[], float] = time.monotonic) -> None:
        self.throttle = Throttle(per_second, clock)
        self.start: RunStart | None = None
        self._losses: list[np.ndarray] = []
        self._epochs: list[EpochEnd] = []
        self._latest: ChunkEnd | None = None
        self._first_step = 0  # global index of the first pending loss
        # the ETA's rate is measured from here (batches done, seconds): the run's start, or its
        # move to the compiled kernels (BackendChanged), after which the earlier rate says nothing
        self._rate_from = (0, 0.0)

    def observe(self, event) -> Progress | None:
        """Take one event of Trainer.run(); the report to show now, or None."""
        if isinstance(event, RunStart):
            self.start = event
            self._first_step = event.batches_done
            self._rate_from = (event.batches_done, 0.0)
            return None
        if isinstance(event, BackendChanged):
            pending = sum(len(losses) for losses in self._losses)
            self._rate_from = (self._first_step + pending, self._latest.elapsed if self._latest is not None else 0.0)
            return None
        if isinstance(event, ChunkEnd):
            self._losses.append(event.losses)
            self._latest = event
        elif isinstance(event, EpochEnd):
            self._epochs.append(event)
        elif not isinstance(event, (LearningRateChanged, Paused, RunEnd)):
            return None
        if isinstance(event, (ChunkEnd, EpochEnd)) and not self.throttle.due():
            return None
        return self.take()

    def take(self) -> Progress | None:
        """Whatever is pending, now (None when nothing is)."""
        batches, epochs = self._take_batches(), tuple(self._epochs)
        self._epochs = []
        if batches is None and not epochs:
            return None
        self.throttle.reset()
        return Progress(batches, epochs)

    def _take_batches(self) -> BatchProgress | None:
        if not self._losses or self._latest is None or self.start is None:
            return None
        event, start = self._latest, self.start
        losses = np.concatenate(self._losses)
        done = self._first_step + len(losses)
        batches_from, seconds_from = self._rate_from
        seconds = event.elapsed - seconds_from
        rate = (done - batches_from) / seconds if seconds > 0 else 0.0
        seconds_left = (start.total_batches - done) / rate if rate > 0 else float("nan")
        progress = BatchProgress(event.epoch, start.epochs, event.batch, start.batches_per_epoch, losses,
                                 self._first_step, event.samples_per_second, event.elapsed, seconds_left)
        self._first_step = done
        self._losses = []
        return progress
