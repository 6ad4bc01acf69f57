"""Keeping a headless run in the history as it trains, on the window's schedule.

`main.py train` records its run in the same folder as the window (core/runs/run_history.py): the
checkpoint and summary are saved at the first batch after an epoch's end (at an epoch's end the
trainer has not yet moved its position on, so a checkpoint taken there would resume one epoch
back), at most every `interval` seconds (the first epoch at once), and at the run's end. A save
that fails (a full disk, a read-only folder) does not stop the training: the recorder stops
recording and keeps the reason, for the command to report.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

from core.engine.events import BatchEnd, EpochEnd, RunEnd
from core.engine.run_state import Checkpoint
from core.engine.trainer import Trainer
from core.errors import RunHistoryError
from core.runs.run_history import RunStore, local_time, new_run_id

SAVE_INTERVAL = 10.0  # seconds, as the window's worker
SAVE_INTERVAL_ENV = "MNIST_MLP_SAVE_INTERVAL"  # for kill tests: 0 saves at every epoch's end


def save_interval_from_environment(default: float = SAVE_INTERVAL) -> float:
    try:
        value = float(os.environ.get(SAVE_INTERVAL_ENV, default))
    except ValueError:
        return default
    return value if math.isfinite(value) and value >= 0 else default


class RunRecorder:
    """One run's saves into a RunStore; `failure` says why recording stopped, if it did."""

    def __init__(self, store: RunStore, optimizer: str, interval: float = SAVE_INTERVAL) -> None:
        self.store: RunStore | None = store
        self.run_id = new_run_id(optimizer)
        self.started = local_time()
        self.interval = interval
        self.failure: str | None = None
        self.saved = False
        self._save_due = False
        self._last_save = -math.inf

    def observe(self, trainer: Trainer, event: object) -> None:
        """Call with each event of `trainer.run()`."""
        if isinstance(event, EpochEnd):
            self._save_due = True
        elif isinstance(event, BatchEnd) and self._save_due and time.monotonic() - self._last_save >= self.interval:
            self._save("running", trainer.checkpoint())
            self._save_due = False
        elif isinstance(event, RunEnd):
            self._save(event.status, trainer.checkpoint())

    def finish(self, status: str, checkpoint: Checkpoint) -> Path | None:
        """Save the run's last state (when no RunEnd went through observe); its model's path, or None."""
        self._save(status, checkpoint)
        return self.model_path()

    def model_path(self) -> Path | None:
        """Where the run's model is, once it has been saved and while recording works."""
        return self.store.model_path(self.run_id) if self.store is not None and self.saved else None

    def _save(self, status: str, checkpoint: Checkpoint) -> None:
        if self.store is None:
            return
        try:
            self.store.save(self.run_id, self.started, status, checkpoint)
        except (OSError, RunHistoryError) as error:
            self.failure = f"{self.store.folder}: {getattr(error, 'strerror', None) or error}"
            self.store = None
            return
        self.saved = True
        self._last_save = time.monotonic()
