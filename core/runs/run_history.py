"""Runs that outlast the session: each run's checkpoint and a small summary in the user's data folder.

A run is two files in `<user data>/runs/`: `<id>.npz`, the checkpoint (model, settings, curves,
optimizer state: `main.py train --resume` can continue it), and `<id>.json`, the summary the list
shows without opening the checkpoint (core/runs/run_summary.py). The window's training worker and
`main.py train` save both at epoch ends and at the end of the run, so a run cut short by closing
the app (or by a crash) is still listed with what it reached: a summary still marked "running"
when no app is training it is shown as "interrupted".

Everything in the folder is distrusted: a summary that does not validate is listed apart as
unreadable, with its reason; a run id is used in a path only when it matches RUN_ID_PATTERN and
the resolved path lies in the folder; temp files left by killed saves are removed when a store
is opened. The folder has a size budget: past it, the oldest runs lose their model files (their
summaries, with the curves, stay), except pinned runs and the ones being trained.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import time
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs

from core.atomic_file import remove_stray_temp_files, write_atomically
from core.data.dataset import APP_NAME
from core.engine.run_state import Checkpoint, History
from core.errors import RunHistoryError
from core.files.model_file import load_checkpoint, save_checkpoint
from core.runs.run_summary import MAX_SUMMARY_BYTES, RUN_ID_PATTERN, RunRecord, SummaryError, is_run_id, new_run_id

__all__ = ["RunRecord", "RunStore", "new_run_id", "default_runs_dir", "local_time", "curves_csv",
           "export_curves_csv", "parse_size", "DEFAULT_BUDGET", "BUDGET_ENV"]

DEFAULT_BUDGET = 2 * 1000**3  # bytes
BUDGET_ENV = "MNIST_MLP_HISTORY_BUDGET"
PINS_FILE = "pinned.txt"
MAX_PINS_BYTES = 64_000
_RUN_FILE = re.compile(RUN_ID_PATTERN.pattern + r"\.(?:npz|json)|" + re.escape(PINS_FILE))
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?)\s*([kmgt]?)i?b?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Unreadable:
    """A file that looks like a summary but is not one: its name and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class RunListing:
    records: list[RunRecord]  # newest first
    unreadable: list[Unreadable]  # by name


def default_runs_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "runs"


def local_time(now: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() if now is None else now))


def parse_size(text: str) -> int:
    """'2G', '500 MB', '1.5g', '123456' -> bytes (powers of 1000, as file managers count)."""
    match = _SIZE.fullmatch(str(text))
    if match is None:
        raise ValueError(f"{text!r} is not a size (like 2G, 500M or a number of bytes)")
    factor = 1000 ** " kmgt".index(match[2].lower() or " ")
    return int(float(match[1]) * factor)


def budget_from_environment(default: int = DEFAULT_BUDGET) -> int:
    text = os.environ.get(BUDGET_ENV)
    if not text:
        return default
    try:
        return parse_size(text)
    except ValueError as error:
        raise RunHistoryError(f"{BUDGET_ENV}: {error}") from None


class RunStore:
    """The folder of saved runs. Opening it removes the temp files killed saves left in it."""

    def __init__(self, folder: str | os.PathLike | None = None, budget: int = DEFAULT_BUDGET) -> None:
        self.folder = Path(folder) if folder is not None else default_runs_dir()
        self.budget = budget  # bytes
        self.remove_stray_temp_files()

    def remove_stray_temp_files(self) -> list[Path]:
        """Temp files of saves killed mid-write (only ours, only in this folder, never a live save's)."""
        return remove_stray_temp_files(self.folder, _RUN_FILE)

    # -- paths, confined to the folder --------------------------------------------------------------
    def _path(self, run_id: str, suffix: str) -> Path:
        if not is_run_id(run_id):
            raise RunHistoryError(f"{str(run_id)[:80]!r} is not a run id (like 20261125-031502-123-adam)")
        path = self.folder / f"{run_id}{suffix}"
        if path.resolve().parent != self.folder.resolve():
            raise RunHistoryError(f"{path}: leads outside the runs folder {self.folder}; left alone")
        return path

    def model_path(self, run_id: str) -> Path:
        return self._path(run_id, ".npz")

    def summary_path(self, run_id: str) -> Path:
        return self._path(run_id, ".json")

    # -- writing --------------------------------------------------------------------------------
    def save(self, run_id: str, started: str, status: str, checkpoint: Checkpoint) -> RunRecord:
        """Write the checkpoint, then its summary: a listed run has its model beside it until pruned."""
        record = RunRecord.summarize(run_id, started, status, checkpoint)
        try:
            RunRecord.from_json(record.to_json())  # never write a summary that would not read back
        except SummaryError as error:
            raise RunHistoryError(f"{run_id}: not saved, its summary would be unreadable ({error})") from None
        model_path, summary_path = self.model_path(run_id), self.summary_path(run_id)
        save_checkpoint(model_path, checkpoint)
        write_atomically(summary_path, record.to_json().encode())
        return replace(record, pinned=run_id in self.pinned())

    def delete(self, run_id: str) -> None:
        """Remove the run's two files (and its pin); nothing outside the folder is ever touched."""
        paths = self.summary_path(run_id), self.model_path(run_id)
        for path in paths:
            path.unlink(missing_ok=True)
        if run_id in self.pinned():
            self.set_pinned(run_id, False)

    # -- reading --------------------------------------------------------------------------------
    def scan(self, live_run_ids: frozenset[str] = frozenset()) -> RunListing:
        """Every run whose summary validates, newest first ("running" ones not in `live_run_ids`
        are "interrupted"), and every other .json file with the reason it is not listed."""
        records, unreadable = [], []
        try:
            entries = sorted(os.scandir(self.folder), key=lambda entry: entry.name)
        except FileNotFoundError:
            return RunListing([], [])
        except OSError as error:
            return RunListing([], [Unreadable(str(self.folder), error.strerror or str(error))])
        names = {entry.name for entry in entries}
        pinned = self.pinned()
        for entry in entries:
            if not entry.name.endswith(".json"):
                continue
            try:
                record = self._read_summary(entry.name)
            except (SummaryError, RunHistoryError) as error:
                unreadable.append(Unreadable(entry.name, str(error)))
                continue
            if record.status == "running" and record.run_id not in live_run_ids:
                record = replace(record, status="interrupted")
            records.append(replace(record, model_kept=f"{record.run_id}.npz" in names,
                                   pinned=record.run_id in pinned))
        records.sort(key=lambda record: record.run_id, reverse=True)
        return RunListing(records, unreadable)

    def records(self, live_run_ids: frozenset[str] = frozenset()) -> list[RunRecord]:
        return self.scan(live_run_ids).records

    def record(self, run_id: str) -> RunRecord:
        """One run's summary, or RunHistoryError saying why it cannot be read."""
        path = self.summary_path(run_id)
        try:
            record = self._read_summary(path.name)
        except SummaryError as error:
            raise RunHistoryError(f"{path}: {error}") from None
        return replace(record, model_kept=self.model_path(run_id).is_file(), pinned=run_id in self.pinned())

    def _read_summary(self, name: str) -> RunRecord:
        stem = name[: -len(".json")]
        if not is_run_id(stem):
            raise SummaryError("its name is not a run id (like 20261125-031502-123-adam.json)")
        text = _read_text(self.folder / name, MAX_SUMMARY_BYTES)
        record = RunRecord.from_json(text)
        if record.run_id != stem:
            raise SummaryError(f"run_id: {record.run_id} does not match the file's name")
        return record

    def load(self, run_id: str) -> Checkpoint:
        path = self.model_path(run_id)
        if not path.exists():
            raise RunHistoryError(f"{path}: the run's model was pruned or deleted; its curves remain")
        return load_checkpoint(path)

    # -- pins, size, pruning ----------------------------------------------------------------------
    def pinned(self) -> frozenset[str]:
        """Runs never pruned: the run ids in pinned.txt, one a line (other lines ignored)."""
        try:
            text = _read_text(self.folder / PINS_FILE, MAX_PINS_BYTES)
        except (SummaryError, RunHistoryError):
            return frozenset()
        return frozenset(line.strip() for line in text.splitlines() if is_run_id(line.strip()))

    def set_pinned(self, run_id: str, pinned: bool) -> None:
        self.summary_path(run_id)  # refuses a bad id
        pins = (self.pinned() | {run_id}) if pinned else (self.pinned() - {run_id})
        write_atomically(self.folder / PINS_FILE, "".join(f"{pin}\n" for pin in sorted(pins)).encode())

    def folder_bytes(self) -> int:
        """What the folder's files take, in bytes (subfolders are not the store's and not counted)."""
        total = 0
        try:
            for entry in os.scandir(self.folder):
                try:
                    if entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
                except OSError:
                    continue
        except OSError:
            return 0
        return total

    def prune(self, budget: int | None = None, keep: frozenset[str] = frozenset()) -> list[str]:
        """Past the budget, remove the model files of the oldest runs until the folder fits (or no
        prunable model is left): never a pinned run's or one in `keep` (being trained). Returns
        the run ids whose models were removed, oldest first."""
        budget = self.budget if budget is None else budget
        total = self.folder_bytes()
        if total <= budget:
            return []
        pinned = self.pinned()
        pruned = []
        for record in sorted(self.records(), key=lambda record: record.run_id):
            if total <= budget:
                break
            if not record.model_kept or record.pinned or record.run_id in pinned or record.run_id in keep:
                continue
            path = self.model_path(record.run_id)
            try:
                size = path.stat().st_size
                path.unlink()
            except OSError:
                continue
            total -= size
            pruned.append(record.run_id)
        return pruned


def _read_text(path: Path, max_bytes: int) -> str:
    """A small regular file's text: a directory, a FIFO, a link, a huge or binary file is a SummaryError."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise RunHistoryError(f"{path}: no such file") from None
    except OSError as error:
        raise SummaryError(f"cannot be opened ({error.strerror or error})") from None
    try:
        info = os.fstat(handle)
        if stat.S_ISDIR(info.st_mode):
            raise SummaryError("a directory, not a summary file")
        if not stat.S_ISREG(info.st_mode):
            raise SummaryError("not a regular file")
        if info.st_size > max_bytes:
            raise SummaryError(f"{info.st_size:,} bytes, more than the {max_bytes:,} a summary may take")
        with os.fdopen(os.dup(handle), "rb") as file:
            data = file.read(max_bytes + 1)
    except OSError as error:
        raise SummaryError(f"cannot be read ({error.strerror or error})") from None
    finally:
        os.close(handle)
    if len(data) > max_bytes:
        raise SummaryError(f"more than the {max_bytes:,} bytes a summary may take")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SummaryError("not UTF-8 text (binary data)") from None


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
