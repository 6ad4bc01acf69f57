"""`main.py runs list|show|export|delete|prune`: the history folder the window lists, headless.

Run ids are checked against the one pattern and every path stays in the folder (RunStore does
both). A RUN argument is a whole run id or the start of exactly one. Errors are EngineErrors,
which the CLI prints as one line, with exit code 1.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from core.atomic_file import check_writable_target
from core.errors import EngineError, FileWriteError, RunHistoryError
from core.files.model_file import save_checkpoint
from core.runs.run_history import RunRecord, RunStore, budget_from_environment, export_curves_csv, parse_size


def history_store(budget_text: str | None = None) -> RunStore:
    """The window's runs folder, its budget from --history-budget, else the environment, else 2 GB.
    Opening it removes the temp files that killed saves left there."""
    if budget_text is None:
        return RunStore(budget=budget_from_environment())
    try:
        return RunStore(budget=parse_size(budget_text))
    except ValueError as error:
        raise EngineError(f"--history-budget: {error}") from None


def runs(args) -> int:
    store = history_store(getattr(args, "history_budget", None))
    handler = {"list": _list, "show": _show, "export": _export, "delete": _delete, "prune": _prune}[args.action]
    return handler(store, args)


def record_json(record: RunRecord) -> dict:
    values = asdict(record)
    values["hidden"] = list(record.hidden)
    for name in ("epoch_losses", "val_accs", "lrs", "epoch_seconds"):
        values[name] = list(values[name])
    return values


def _list(store: RunStore, args) -> int:
    listing = store.scan()
    if args.json:
        print(json.dumps({"folder": str(store.folder), "folder_bytes": store.folder_bytes(),
                          "budget_bytes": store.budget,
                          "runs": [record_json(record) for record in listing.records],
                          "unreadable": [{"file": item.name, "reason": item.reason} for item in listing.unreadable]}))
        return 0
    print(f"{store.folder}: {len(listing.records)} runs, {store.folder_bytes() / 1e6:.1f} MB "
          f"of a {store.budget / 1e9:g} GB budget")
    for record in listing.records:
        test = "-" if record.test_acc is None else f"{record.test_acc:.2%}"
        model = "pinned" if record.pinned else "" if record.model_kept else "model pruned"
        print(f"{record.run_id:<28} {record.dataset_name[:16]:<16} lr {record.lr:<8g} "
              f"{record.epochs_done:>4}/{record.epochs_planned:<4} test {test:>7}  {record.status:<11} {model}")
    for item in listing.unreadable:
        print(f"unreadable: {item.name}: {item.reason}")
    return 0


def _find(store: RunStore, run: str) -> RunRecord:
    """The run `run` names: its whole id, or the start of exactly one listed run's id."""
    records = store.records()
    exact = [record for record in records if record.run_id == run]
    matches = exact or ([record for record in records if record.run_id.startswith(run)] if run else [])
    if len(matches) == 1:
        return matches[0]
    if not matches:
        return store.record(run)  # an exact id not listed: says why (not a run id, unreadable, missing)
    raise RunHistoryError(f"{run!r} names {len(matches)} runs ({matches[0].run_id}, {matches[1].run_id}, …); "
                          f"give more of the id")


def _show(store: RunStore, args) -> int:
    record = _find(store, args.run)
    if args.json:
        print(json.dumps(record_json(record)))
        return 0
    hidden = ",".join(str(size) for size in record.hidden)
    best = "-" if record.best_val_acc is None else f"{record.best_val_acc:.2%} at epoch {record.best_epoch}"
    print(f"run {record.run_id}, started {record.started.replace('T', ' ')}, {record.status}")
    print(f"{record.dataset_name}: {record.optimizer} lr={record.lr:g} batch={record.batch_size} hidden={hidden}")
    print(f"{record.epochs_done}/{record.epochs_planned} epochs in {record.seconds:.1f} s; best validation {best}; "
          f"test {'-' if record.test_acc is None else f'{record.test_acc:.2%}'}")
    model = store.model_path(record.run_id)
    print(f"model: {model}" if record.model_kept else "model: pruned (the curves remain)")
    for epoch, (loss, val_acc) in enumerate(zip(record.epoch_losses, record.val_accs), 1):
        print(f"epoch {epoch:>4}  loss {loss:.4f}  val {val_acc:.2%}")
    return 0


def _export(store: RunStore, args) -> int:
    record = _find(store, args.run)
    path = check_writable_target(args.path)
    if path.suffix.lower() == ".csv":
        history = store.load(record.run_id).history if record.model_kept else record.history()
        written = _written(lambda: export_curves_csv(history, path), path)
    else:
        checkpoint = store.load(record.run_id)  # read through the validating reader, not copied blind
        written = _written(lambda: save_checkpoint(path, checkpoint), path)
    if args.json:
        print(json.dumps({"run_id": record.run_id, "path": str(written)}))
    else:
        print(f"wrote {written}")
    return 0


def _written(write, path: Path) -> Path:
    try:
        return write()
    except OSError as error:
        raise FileWriteError(f"{path}: cannot write it ({error.strerror or error})") from None


def _delete(store: RunStore, args) -> int:
    record = _find(store, args.run)
    try:
        store.delete(record.run_id)
    except OSError as error:
        raise RunHistoryError(f"{record.run_id}: cannot delete it ({error.strerror or error})") from None
    print(json.dumps({"deleted": record.run_id}) if args.json else f"deleted {record.run_id}")
    return 0


def _prune(store: RunStore, args) -> int:
    pruned = store.prune()
    if args.json:
        print(json.dumps({"pruned": pruned, "folder_bytes": store.folder_bytes(), "budget_bytes": store.budget}))
    else:
        print(f"removed the models of {len(pruned)} runs; the folder takes {store.folder_bytes() / 1e6:.1f} MB "
              f"of {store.budget / 1e9:g} GB")
        for run_id in pruned:
            print(f"pruned {run_id}")
    return 0
