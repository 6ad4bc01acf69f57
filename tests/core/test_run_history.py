"""Runs kept across sessions: saved atomically, listed newest first, interrupted ones recognized."""

import csv
import io

import numpy as np
import pytest

from core.config import TrainConfig
from core.network import MLP
from core.run_history import RunRecord, RunStore, curves_csv, default_runs_dir, export_curves_csv, new_run_id
from core.run_state import Checkpoint, History


def a_checkpoint(epochs_done=2, test_acc=0.93, optimizer="adam"):
    config = TrainConfig.for_optimizer(optimizer, hidden=(8,), epochs=3)
    history = History(batch_losses=[2.0, 1.0, 0.8, 0.5][: 2 * epochs_done], epoch_losses=[1.5, 0.65][:epochs_done],
                      val_accs=[0.8, 0.9][:epochs_done], epoch_seconds=[0.5, 0.7][:epochs_done],
                      lrs=[0.1, 0.097][:epochs_done], test_acc=test_acc)
    return Checkpoint(MLP.initialized(config.layer_sizes), config, "MNIST", tuple("0123456789"), history)


def test_the_store_lives_in_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_runs_dir() == tmp_path / "mnist-mlp" / "runs"


def test_a_saved_run_is_listed_with_its_summary_and_loads_back(tmp_path):
    store = RunStore(tmp_path)
    record = store.save("20261125-101500-000-adam", "2026-11-25T10:15:00", "finished", a_checkpoint())
    assert record.epochs_done == 2 and record.epochs_planned == 3
    assert record.best_val_acc == 0.9 and record.best_epoch == 2
    assert record.seconds == pytest.approx(1.2) and record.test_acc == 0.93
    assert store.records() == [record]
    loaded = store.load(record.run_id)
    assert loaded.history.epoch_losses == [1.5, 0.65]
    assert not list(tmp_path.glob("*.tmp"))


def test_runs_are_listed_newest_first_and_deleted_with_their_model(tmp_path):
    store = RunStore(tmp_path)
    older = store.save(new_run_id("sgd", now=1_700_000_000.0), "x", "finished", a_checkpoint(optimizer="sgd"))
    newer = store.save(new_run_id("adam", now=1_700_000_100.5), "y", "stopped", a_checkpoint(epochs_done=1))
    assert [r.run_id for r in store.records()] == [newer.run_id, older.run_id]
    store.delete(newer.run_id)
    assert [r.run_id for r in store.records()] == [older.run_id]
    assert not store.model_path(newer.run_id).exists()


def test_a_run_still_marked_running_is_interrupted_unless_it_is_live(tmp_path):
    store = RunStore(tmp_path)
    record = store.save("r1", "t", "running", a_checkpoint(epochs_done=1, test_acc=None))
    assert store.records()[0].status == "interrupted"
    assert store.records(live_run_ids=frozenset({"r1"}))[0].status == "running"
    assert store.records()[0].epochs_done == record.epochs_done == 1


def test_damaged_or_orphaned_summaries_are_skipped(tmp_path):
    store = RunStore(tmp_path)
    good = store.save("good", "t", "finished", a_checkpoint())
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "foreign.json").write_text('{"hello": 1}')
    orphan = RunRecord.summarize("orphan", "t", "finished", a_checkpoint())
    (tmp_path / "orphan.json").write_text(orphan.to_json())  # its model file is missing
    assert [r.run_id for r in store.records()] == [good.run_id]


def test_a_missing_folder_lists_nothing(tmp_path):
    assert RunStore(tmp_path / "nowhere").records() == []


def test_the_curves_export_as_one_csv_row_per_epoch(tmp_path):
    history = a_checkpoint().history
    rows = list(csv.reader(io.StringIO(curves_csv(history))))
    assert rows[0] == ["epoch", "loss", "val_acc", "lr", "seconds"]
    assert [row[0] for row in rows[1:]] == ["1", "2"]
    assert float(rows[2][1]) == pytest.approx(0.65) and float(rows[2][2]) == pytest.approx(0.9)
    path = export_curves_csv(history, tmp_path / "curves.csv")
    assert path.read_text() == curves_csv(history)


def test_run_ids_sort_by_time_and_name_the_optimizer():
    first, second = new_run_id("adam", now=1_700_000_000.25), new_run_id("sgd", now=1_700_000_000.75)
    assert first < second and first.endswith("-adam") and second.endswith("-sgd")
    assert np.all([part.isdigit() for part in first.split("-")[:3]])
