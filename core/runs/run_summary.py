"""A run's summary: the small JSON file the History list shows without opening the run's model.

Summaries are read from a folder anyone can drop files into, so each one is parsed into a typed
record at the edge, field by field (type, range, the run id's pattern), within a size and nesting
bound: a bad one is a SummaryError naming the field, never a crash of whoever lists the runs. The
summary keeps the per-epoch curves, so a run whose model file was pruned still shows them.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import asdict, dataclass, fields

from core.engine.config import MAX_EPOCHS, MAX_HIDDEN_LAYERS, MAX_HIDDEN_UNITS, OPTIMIZERS
from core.engine.run_state import Checkpoint, History
from core.files.bounded_json import JsonBoundError, loads_bounded

RUN_ID_PATTERN = re.compile(r"\d{8}-\d{6}-\d{3}-(?:" + "|".join(OPTIMIZERS) + r")")
STARTED_PATTERN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
STATUSES = ("running", "finished", "stopped", "diverged", "interrupted")
MAX_SUMMARY_BYTES = 1_000_000  # 10,000 epochs of four curves written compactly take about 800 kB
MAX_SUMMARY_DEPTH = 4  # a summary nests 2 deep
MAX_NAME_CHARS = 200
CURVES = ("epoch_losses", "val_accs", "lrs", "epoch_seconds")


class SummaryError(ValueError):
    """A summary file that is not one this app wrote; the message names the field."""


def new_run_id(optimizer: str, now: float | None = None) -> str:
    """A sortable, readable, unique-enough name: 20261125-031502-123-adam (RUN_ID_PATTERN)."""
    now = time.time() if now is None else now
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return f"{stamp}-{int(now * 1000) % 1000:03d}-{optimizer}"


def is_run_id(text: object) -> bool:
    return isinstance(text, str) and RUN_ID_PATTERN.fullmatch(text) is not None


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
    epoch_losses: tuple[float, ...] = ()
    val_accs: tuple[float, ...] = ()
    lrs: tuple[float, ...] = ()
    epoch_seconds: tuple[float, ...] = ()
    # what the folder says, not the summary: never written to the file
    model_kept: bool = True
    pinned: bool = False

    @classmethod
    def summarize(cls, run_id: str, started: str, status: str, checkpoint: Checkpoint) -> RunRecord:
        history, config = checkpoint.history, checkpoint.config
        best_epoch, best_val_acc = history.best_epoch() or (None, None)
        return cls(run_id, started, status, config.optimizer, config.lr, config.batch_size, config.hidden,
                   config.epochs, len(history.epoch_losses), history.test_acc, best_val_acc, best_epoch,
                   float(sum(history.epoch_seconds)), checkpoint.dataset_name,
                   *(tuple(float(value) for value in getattr(history, name)) for name in CURVES))

    @classmethod
    def from_json(cls, text: str) -> RunRecord:
        """The record in `text`, or SummaryError saying which field is wrong."""
        try:
            values = loads_bounded(text, MAX_SUMMARY_BYTES, MAX_SUMMARY_DEPTH)
        except JsonBoundError as error:
            raise SummaryError(str(error)) from None
        if not isinstance(values, dict):
            raise SummaryError("not a JSON object")
        return cls(**{name: check(values, name) for name, check in _FIELD_CHECKS.items()})

    def to_json(self) -> str:
        values = asdict(self)
        for name in ("model_kept", "pinned"):
            del values[name]
        head = {name: value for name, value in values.items() if name not in CURVES}
        head["hidden"] = list(self.hidden)
        lines = [f' "{name}": {json.dumps(value)}' for name, value in head.items()]
        lines += [f' "{name}": {json.dumps(list(values[name]))}' for name in CURVES]  # one line a curve
        return "{\n" + ",\n".join(lines) + "\n}"

    def history(self) -> History:
        """The curves kept in the summary (no batch losses: those live in the model file)."""
        return History(epoch_losses=list(self.epoch_losses), val_accs=list(self.val_accs), lrs=list(self.lrs),
                       epoch_seconds=list(self.epoch_seconds), test_acc=self.test_acc)


# -- field checks: each takes the parsed object and the field's name, returns the typed value ------
def _required(values: dict, name: str) -> object:
    if name not in values:
        raise SummaryError(f"{name}: missing")
    return values[name]


def _pattern(pattern: re.Pattern, shown: str):
    def check(values: dict, name: str) -> str:
        value = _required(values, name)
        if not isinstance(value, str) or pattern.fullmatch(value) is None:
            raise SummaryError(f"{name}: {_shown(value)} is not {shown}")
        return value
    return check


def _choice(choices: tuple[str, ...]):
    def check(values: dict, name: str) -> str:
        value = _required(values, name)
        if value not in choices or not isinstance(value, str):
            raise SummaryError(f"{name}: {_shown(value)} is not one of {', '.join(choices)}")
        return value
    return check


def _number(low: float, high: float, optional: bool = False, integer: bool = False, finite: bool = True):
    def check(values: dict, name: str):
        value = values.get(name) if optional else _required(values, name)
        if value is None and optional:
            return None
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise SummaryError(f"{name}: {_shown(value)} is not {'an integer' if integer else 'a number'}")
        try:
            as_float = float(value)
        except OverflowError:  # an integer of hundreds of digits
            as_float = math.inf
        if not (low <= as_float <= high if math.isfinite(as_float) else not finite):
            raise SummaryError(f"{name}: {_shown(value)} is outside [{low:g}, {high:g}]")
        return value if integer else as_float
    return check


def _text(values: dict, name: str) -> str:
    value = _required(values, name)
    if not isinstance(value, str) or not 0 < len(value) <= MAX_NAME_CHARS or not value.isprintable():
        raise SummaryError(f"{name}: {_shown(value)} is not a short line of text")
    return value


def _hidden(values: dict, name: str) -> tuple[int, ...]:
    value = _required(values, name)
    if (not isinstance(value, list) or not 1 <= len(value) <= MAX_HIDDEN_LAYERS
            or any(isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_HIDDEN_UNITS
                   for size in value)):
        raise SummaryError(f"{name}: {_shown(value)} is not a list of 1 to {MAX_HIDDEN_LAYERS} layer sizes "
                           f"of 1 to {MAX_HIDDEN_UNITS}")
    return tuple(value)


def _curve(values: dict, name: str) -> tuple[float, ...]:
    value = values.get(name, [])  # summaries written before the curves were kept have none
    if (not isinstance(value, list) or len(value) > MAX_EPOCHS
            or any(isinstance(item, bool) or not isinstance(item, (int, float)) for item in value)):
        raise SummaryError(f"{name}: not a list of at most {MAX_EPOCHS} numbers")
    return tuple(float(item) for item in value)


def _shown(value: object) -> str:
    text = json.dumps(value) if isinstance(value, (str, int, float, type(None))) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


_FIELD_CHECKS = {
    "run_id": _pattern(RUN_ID_PATTERN, "a run id (like 20261125-031502-123-adam)"),
    "started": _pattern(STARTED_PATTERN, "a local time (like 2026-11-25T03:15:02)"),
    "status": _choice(STATUSES),
    "optimizer": _choice(OPTIMIZERS),
    "lr": _number(0, 1e300),
    "batch_size": _number(1, 60000, integer=True),
    "hidden": _hidden,
    "epochs_planned": _number(1, MAX_EPOCHS, integer=True),
    "epochs_done": _number(0, MAX_EPOCHS, integer=True),
    "test_acc": _number(0, 1, optional=True),
    "best_val_acc": _number(0, 1, optional=True),
    "best_epoch": _number(1, MAX_EPOCHS, optional=True, integer=True),
    "seconds": _number(0, 1e9),
    "dataset_name": _text,
    **{name: _curve for name in CURVES},
}
assert set(_FIELD_CHECKS) == {f.name for f in fields(RunRecord)} - {"model_kept", "pinned"}
