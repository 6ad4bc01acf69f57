"""Keeping a headless run in the history as it trains, on the window's schedule.

`main.py train` and the window's worker record their runs in one folder (core/runs/run_history.py): the
checkpoint and summary are saved at the first chunk of batches after an epoch's end (at an epoch's end the
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

from core.engine.events import ChunkEnd, EpochEnd, RunEnd
from core.engine.run_state import Checkpoint
from core.engine.trainer import Trainer
from core.errors import RunHistoryError
from core.runs.run_history import RunRecord, RunStore, local_time, new_run_id

SAVE_INTERVAL = 10.0  # seconds: the first epoch's end is saved at once, later ones at most this often
SAVE_INTERVAL_ENV = "MNIST_MLP_SAVE_INTERVAL"  # for kill tests: 0 saves at every epoch's end


def save_interval_from_environment(default: float = SAVE_INTERVAL) -> float:
    try:
        value = float(os.environ.get(SAVE_INTERVAL_ENV, default))
    except ValueError:
        return default
    return value if math.isfinite(value) and value >= 0 else default


class RunRecorder:
    """One run's saves into a RunStore; `failure` says why recording stopped, if it did."""

    def __init__(self, store: RunStore, optimizer: str, interval: float = SAVE_INTERVAL, run_id: str = "") -> None:
        self.store: RunStore | None = store
        self.folder = store.folder
        self.run_id = run_id or new_run_id(optimizer)
        self.started = local_time()
        self.interval = interval
        self.failure: str | None = None
        self.saved = False
        self._save_due = False
        self._last_save = -math.inf

    def observe(self, trainer: Trainer, event: object) -> RunRecord | None:
        """Call with each event of `trainer.run()`; the run's record when this event saved it."""
        if isinstance(event, EpochEnd):
            self._save_due = True
        elif isinstance(event, ChunkEnd) and self._save_due and time.monotonic() - self._last_save >= self.interval:
            self._save_due = False
            return self._save("running", trainer.checkpoint())
        elif isinstance(event, RunEnd):
            return self._save(event.status, trainer.checkpoint())
        return None

    def finish(self, status: str, checkpoint: Checkpoint) -> RunRecord | None:
        """Save the run's last state (when no RunEnd went through observe); its record, or None."""
        return self._save(status, checkpoint)

    def model_path(self) -> Path | None:
        """Where the run's model is, once it has been saved and while recording works."""
        return self.store.model_path(self.run_id) if self.store is not None and self.saved else None

    def _save(self, status: str, checkpoint: Checkpoint) -> RunRecord | None:
        if self.store is None:
            return None
        try:
            record = self.store.save(self.run_id, self.started, status, checkpoint)
        except (OSError, RunHistoryError) as error:
            self.failure = f"{self.store.folder}: {getattr(error, 'strerror', None) or error}"
            self.store = None
            return None
        self.saved = True
        self._last_save = time.monotonic()
        return record
