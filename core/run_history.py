"""Runs that outlast the session: each run's checkpoint and a small summary in the user's data folder.

A run is two files in `<user data>/runs/`: `<id>.npz`, the checkpoint (model, settings, curves,
optimizer state: `main.py train --resume` can continue it), and `<id>.json`, the summary the list
shows without opening the checkpoint. The trainer's worker saves both at every epoch end and at the
end of the run, so a run cut short by closing the app (or by a crash) is still listed with what it
reached: a summary still marked "running" when no app is training it is shown as "interrupted".
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

from core.atomic_file import write_atomically
from core.dataset import APP_NAME
from core.model_file import load_checkpoint, save_checkpoint
from core.run_state import Checkpoint, History


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    started: str  # local time, ISO 8601 to the second
    status: str
    optimizer: str
    lr: float
    batch_size: int
    hidden: tuple[int, ...]
    epochs_planned: int
    epochs_done: int
    test_acc: float | None
    best_val_acc: float | None
    best_epoch: int | None  # 1-based
    seconds: float
    dataset_name: str

    @classmethod
    def summarize(cls, run_id: str, started: str, status: str, checkpoint: Checkpoint) -> RunRecord:
        history, config = checkpoint.history, checkpoint.config
        best_epoch, best_val_acc = history.best_epoch() or (None, None)
        return cls(run_id, started, status, config.optimizer, config.lr, config.batch_size, config.hidden,
                   config.epochs, len(history.epoch_losses), history.test_acc, best_val_acc, best_epoch,
                   float(sum(history.epoch_seconds)), checkpoint.dataset_name)

    @classmethod
    def from_json(cls, text: str) -> RunRecord:
        values = json.loads(text)
        values["hidden"] = tuple(values["hidden"])
        return cls(**values)

    def to_json(self) -> str:
        values = asdict(self)
        values["hidden"] = list(self.hidden)
        return json.dumps(values, indent=1)


def default_runs_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "runs"


def new_run_id(optimizer: str, now: float | None = None) -> str:
    """A sortable, readable, unique-enough name: 20261125-031502-123-adam."""
    now = time.time() if now is None else now
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return f"{stamp}-{int(now * 1000) % 1000:03d}-{optimizer}"


def local_time(now: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() if now is None else now))


class RunStore:
    """The folder of saved runs. Files are written atomically; unreadable summaries are skipped."""

    def __init__(self, folder: str | os.PathLike | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_runs_dir()

    def model_path(self, run_id: str) -> Path:
        return self.folder / f"{run_id}.npz"

    def _summary_path(self, run_id: str) -> Path:
        return self.folder / f"{run_id}.json"

    def save(self, run_id: str, started: str, status: str, checkpoint: Checkpoint) -> RunRecord:
        """Write the checkpoint, then its summary: a listed run always has its model beside it."""
        record = RunRecord.summarize(run_id, started, status, checkpoint)
        save_checkpoint(self.model_path(run_id), checkpoint)
        write_atomically(self._summary_path(run_id), record.to_json().encode())
        return record

    def records(self, live_run_ids: frozenset[str] = frozenset()) -> list[RunRecord]:
        """Every saved run, newest first; "running" ones not in `live_run_ids` are "interrupted"."""
        records = []
        for path in self.folder.glob("*.json"):
            try:
                record = RunRecord.from_json(path.read_text())
            except (OSError, ValueError, TypeError, KeyError):
                continue  # a foreign or damaged file: not a run we can list
            if not self.model_path(record.run_id).is_file():
                continue
            if record.status == "running" and record.run_id not in live_run_ids:
                record = RunRecord(**{**asdict(record), "status": "interrupted"})
            records.append(record)
        return sorted(records, key=lambda record: record.run_id, reverse=True)

    def load(self, run_id: str) -> Checkpoint:
        return load_checkpoint(self.model_path(run_id))

    def delete(self, run_id: str) -> None:
        self._summary_path(run_id).unlink(missing_ok=True)
        self.model_path(run_id).unlink(missing_ok=True)


def curves_csv(history: History) -> str:
    """One row per epoch: the curves a spreadsheet or a plotting script wants."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["epoch", "loss", "val_acc", "lr", "seconds"])
    for epoch, row in enumerate(zip(history.epoch_losses, history.val_accs, history.lrs, history.epoch_seconds), 1):
        writer.writerow([epoch, *(f"{value:.6g}" for value in row)])
    return buffer.getvalue()


def export_curves_csv(history: History, path: str | os.PathLike) -> Path:
    return write_atomically(path, curves_csv(history).encode())
