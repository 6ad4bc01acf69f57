"""A run's curves as JSON Lines: the very lines `train --json` prints, so that scripts read one format.

One object per epoch, `{"event": "epoch", "epoch": 1, "loss": …, "val_acc": …, "seconds": …, "lr": …}`,
then, once the run has ended, `{"event": "test", "test_acc": …, "status": …, "epochs": …}`.
The command line prints its lines through the same two functions, so the fields cannot drift apart.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from core.atomic_file import write_atomically
from core.engine.config import TrainConfig
from core.engine.run_state import History

ENDED_STATUSES = ("finished", "stopped", "diverged")  # a run with one of these has its last line


def epoch_line(epoch: int, loss: float, val_acc: float, seconds: float, lr: float) -> dict:
    """An epoch's line: `epoch` 1-based, `val_acc` a fraction, `lr` the rate used during the epoch."""
    return {"event": "epoch", "epoch": epoch, "loss": loss, "val_acc": val_acc, "seconds": seconds, "lr": lr}


def test_line(test_acc: float | None, status: str, epochs: int) -> dict:
    """The last line of a run: its test accuracy, how it ended ("finished", "stopped", "diverged")
    and how many epochs it trained."""
    return {"event": "test", "test_acc": test_acc, "status": status, "epochs": epochs}


def ended_status(history: History, config: TrainConfig) -> str | None:
    """How a saved run ended, as far as its model file tells: None while it has no test accuracy
    (it never ended), "finished" when it trained every planned epoch, else "stopped" (a model file
    does not record whether a stopped run diverged)."""
    if history.test_acc is None:
        return None
    return "finished" if len(history.epoch_losses) >= config.epochs else "stopped"


def curves_jsonl(history: History, status: str | None) -> str:
    """The lines `train --json` printed for this run: its epochs, then its end when `status` says it
    ended (one of ENDED_STATUSES; not "running", "interrupted" or None)."""
    lines = [epoch_line(epoch, *row) for epoch, row in
             enumerate(zip(history.epoch_losses, history.val_accs, history.epoch_seconds, history.lrs), 1)]
    if status in ENDED_STATUSES:
        lines.append(test_line(history.test_acc, status, len(history.epoch_losses)))
    return "".join(json.dumps(line) + "\n" for line in lines)


def export_curves_jsonl(history: History, status: str | None, path: str | os.PathLike) -> Path:
    return write_atomically(path, curves_jsonl(history, status).encode())
