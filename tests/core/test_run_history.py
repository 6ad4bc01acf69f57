"""Runs kept across sessions: saved atomically, listed newest first, interrupted ones recognized;
bad summaries listed apart with their reason, paths confined to the folder, a size budget."""

import csv
import io
import json
import os
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.atomic_file import write_atomically
from core.engine.config import TrainConfig
from core.engine.network import MLP
from core.engine.run_state import Checkpoint, History
from core.errors import RunHistoryError
from core.files.bounded_json import JsonBoundError, loads_bounded, nesting_depth
from core.runs.run_history import (
    RunRecord,
    RunStore,
    curves_csv,
    default_runs_dir,
    export_curves_csv,
    new_run_id,
    parse_size,
)
from core.runs.run_summary import SummaryError

STARTED = "2026-11-25T10:15:00"


def a_checkpoint(epochs_done=2, test_acc=0.93, optimizer="adam"):
    config = TrainConfig.for_optimizer(optimizer, hidden=(8,), epochs=3)
    history = History(batch_losses=[2.0, 1.0, 0.8, 0.5][: 2 * epochs_done], epoch_losses=[1.5, 0.65][:epochs_done],
                      val_accs=[0.8, 0.9][:epochs_done], epoch_seconds=[0.5, 0.7][:epochs_done],
                      lrs=[0.1, 0.097][:epochs_done], test_acc=test_acc)
    return Checkpoint(MLP.initialized(config.layer_sizes), config, "MNIST", tuple("0123456789"), history)


def run_id(day: int, optimizer: str = "adam") -> str:
    return f"202611{day:02d}-101500-000-{optimizer}"


def test_the_store_lives_in_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_runs_dir() == tmp_path / "mnist-mlp" / "runs"


def test_a_saved_run_is_listed_with_its_summary_and_curves_and_loads_back(tmp_path):
    store = RunStore(tmp_path)
    record = store.save(run_id(25), STARTED, "finished", a_checkpoint())
    assert record.epochs_done == 2 and record.epochs_planned == 3
    assert record.best_val_acc == 0.9 and record.best_epoch == 2
    assert record.seconds == pytest.approx(1.2) and record.test_acc == 0.93
    assert record.epoch_losses == (1.5, 0.65) and record.val_accs == (0.8, 0.9)
    assert store.records() == [record]
    assert store.record(record.run_id) == record
    loaded = store.load(record.run_id)
    assert loaded.history.epoch_losses == [1.5, 0.65]
    assert not list(tmp_path.glob("*.tmp"))


def test_runs_are_listed_newest_first_and_deleted_with_their_model(tmp_path):
    store = RunStore(tmp_path)
    older = store.save(new_run_id("sgd", now=1_700_000_000.0), STARTED, "finished", a_checkpoint(optimizer="sgd"))
    newer = store.save(new_run_id("adam", now=1_700_000_100.5), STARTED, "stopped", a_checkpoint(epochs_done=1))
    assert [r.run_id for r in store.records()] == [newer.run_id, older.run_id]
    store.delete(newer.run_id)
    assert [r.run_id for r in store.records()] == [older.run_id]
    assert not store.model_path(newer.run_id).exists()


def test_a_run_still_marked_running_is_interrupted_unless_it_is_live(tmp_path):
    store = RunStore(tmp_path)
    record = store.save(run_id(1), STARTED, "running", a_checkpoint(epochs_done=1, test_acc=None))
    assert store.records()[0].status == "interrupted"
    assert store.records(live_run_ids=frozenset({run_id(1)}))[0].status == "running"
    assert store.records()[0].epochs_done == record.epochs_done == 1


def good_summary(**changes) -> str:
    values = json.loads(RunRecord.summarize(run_id(2), STARTED, "finished", a_checkpoint()).to_json())
    return json.dumps({**values, **changes})


BAD_SUMMARIES = {
    "garbage": (b"{not json", "not valid JSON"),
    "a string lr": (good_summary(lr="0.001").encode(), "lr"),
    "a number run id": (good_summary(run_id=7).encode(), "run_id"),
    "a traversal run id": (good_summary(run_id="../../somewhere/precious").encode(), "run_id"),
    "another run's id": (good_summary(run_id=run_id(3)).encode(), "does not match"),
    "deeply nested JSON": (b"[" * 100_000 + b"]" * 100_000, "nested"),
    "nested in a field": (good_summary(hidden=[[[[[[[8]]]]]]]).encode(), "nested"),
    "a list": (b"[1, 2, 3]", "not a JSON object"),
    "a missing field": (good_summary(optimizer=None).replace('"optimizer": null, ', "").encode(), "optimizer"),
    "a boolean batch size": (good_summary(batch_size=True).encode(), "batch_size"),
    "an accuracy of 2": (good_summary(test_acc=2.0).encode(), "test_acc"),
    "an infinite time": (good_summary(seconds=1e400).encode(), "seconds"),
    "a 400-digit epoch count": (good_summary(epochs_done=10**400).encode(), "epochs_done"),
    "a 5000-digit number": (good_summary().replace('"lr": 0.0005', '"lr": 1' + "0" * 5000).encode(), "JSON"),
    "a huge hidden layer": (good_summary(hidden=[10**12]).encode(), "hidden"),
    "a curve of strings": (good_summary(val_accs=["a"]).encode(), "val_accs"),
    "binary junk": (bytes(range(256)) * 4, "UTF-8"),
    "too large": (b" " * 2_000_000, "bytes"),
}


@pytest.mark.parametrize("case", BAD_SUMMARIES)
def test_a_bad_summary_is_listed_apart_with_its_reason(tmp_path, case):
    store = RunStore(tmp_path)
    good = store.save(run_id(1), STARTED, "finished", a_checkpoint())
    content, reason = BAD_SUMMARIES[case]
    (tmp_path / f"{run_id(2)}.json").write_bytes(content)
    (tmp_path / f"{run_id(2)}.npz").write_bytes(store.model_path(run_id(1)).read_bytes())
    listing = store.scan()
    assert [r.run_id for r in listing.records] == [good.run_id]
    (unreadable,) = listing.unreadable
    assert unreadable.name == f"{run_id(2)}.json" and reason in unreadable.reason


def test_odd_files_in_the_folder_are_reported_not_fatal(tmp_path):
    store = RunStore(tmp_path)
    store.save(run_id(1), STARTED, "finished", a_checkpoint())
    (tmp_path / "x.json").mkdir()
    (tmp_path / f"{run_id(3)}.json").mkdir()
    os.mkfifo(tmp_path / f"{run_id(4)}.json")  # reading a FIFO would block forever
    (tmp_path / f"{run_id(5)}.json").symlink_to("/etc/hostname")
    (tmp_path / "notes.txt").write_text("not a run")
    listing = store.scan()
    assert [r.run_id for r in listing.records] == [run_id(1)]
    reasons = {item.name: item.reason for item in listing.unreadable}
    assert "not a run id" in reasons["x.json"]
    assert "directory" in reasons[f"{run_id(3)}.json"]
    assert "regular file" in reasons[f"{run_id(4)}.json"]
    assert "cannot be opened" in reasons[f"{run_id(5)}.json"]  # links are not followed
    assert "notes.txt" not in reasons


def test_an_unreadable_summary_is_reported_with_the_system_reason(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    path = tmp_path / f"{run_id(2)}.json"
    path.write_text(good_summary())
    path.chmod(0)
    real_open = os.open
    if os.geteuid() == 0:  # root reads through permissions: have the system refuse as it would anyone else

        def refusing_open(name, *args, **kwargs):
            if os.fspath(name) == os.fspath(path):
                raise PermissionError(13, "Permission denied")
            return real_open(name, *args, **kwargs)

        monkeypatch.setattr(os, "open", refusing_open)
    (unreadable,) = store.scan().unreadable
    assert "Permission denied" in unreadable.reason


def test_a_summary_whose_model_is_gone_is_listed_as_pruned_with_its_curves(tmp_path):
    store = RunStore(tmp_path)
    store.save(run_id(1), STARTED, "finished", a_checkpoint())
    store.model_path(run_id(1)).unlink()
    (record,) = store.records()
    assert not record.model_kept and record.history().val_accs == [0.8, 0.9]
    with pytest.raises(RunHistoryError, match="pruned"):
        store.load(run_id(1))


def test_a_traversal_run_id_touches_nothing_outside_the_folder(tmp_path):
    runs = tmp_path / "data" / "runs"
    store = RunStore(runs)
    store.save(run_id(1), STARTED, "finished", a_checkpoint())
    somewhere = tmp_path / "somewhere"
    somewhere.mkdir()
    for name in ("precious.json", "precious.npz"):
        (somewhere / name).write_text("keep me")
    (runs / f"{run_id(2)}.json").write_text(good_summary(run_id="../../somewhere/precious"))
    listing = store.scan()
    assert [r.run_id for r in listing.records] == [run_id(1)]
    for bad in ("../../somewhere/precious", "/tmp/x", "..", "", "20261101-101500-000-adam/../../x"):
        with pytest.raises(RunHistoryError, match="not a run id"):
            store.delete(bad)
        with pytest.raises(RunHistoryError):
            store.load(bad)
    assert all((somewhere / name).read_text() == "keep me" for name in ("precious.json", "precious.npz"))


def test_a_run_file_linked_outside_the_folder_is_neither_read_nor_deleted(tmp_path):
    runs, outside = tmp_path / "runs", tmp_path / "outside.npz"
    store = RunStore(runs)
    store.save(run_id(1), STARTED, "finished", a_checkpoint())
    outside.write_bytes(store.model_path(run_id(1)).read_bytes())
    store.model_path(run_id(1)).unlink()
    store.model_path(run_id(1)).symlink_to(outside)
    with pytest.raises(RunHistoryError, match="outside"):
        store.load(run_id(1))
    with pytest.raises(RunHistoryError, match="outside"):
        store.delete(run_id(1))
    assert outside.exists()


def test_a_missing_folder_lists_nothing(tmp_path):
    assert RunStore(tmp_path / "nowhere").scan().records == []


def test_stray_temp_files_of_killed_saves_are_removed_when_the_store_opens(tmp_path):
    RunStore(tmp_path).save(run_id(1), STARTED, "finished", a_checkpoint())
    strays = [f"{run_id(1)}.npz.abc_x9yz.tmp", f"{run_id(2)}.json.k2j4h5g6.tmp", "pinned.txt.a1b2c3d4.tmp"]
    foreign = ["notes.txt.abcdefgh.tmp", f"{run_id(1)}.npz.tmp", "mine.tmp"]
    for name in strays + foreign:
        (tmp_path / name).write_bytes(b"half a file")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / strays[0]).write_bytes(b"not in the runs folder itself")
    RunStore(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [f"{run_id(1)}.npz", f"{run_id(1)}.json", "sub", *foreign])
    assert (tmp_path / "sub" / strays[0]).exists()


def test_a_save_going_on_keeps_its_temp_file_when_another_store_opens(tmp_path):
    """A live save (here in another thread; another process is the same to flock) is never cleaned up."""
    store = RunStore(tmp_path)
    writing, may_finish = threading.Event(), threading.Event()
    seen = []

    def slow_content(file):
        file.write(b"first half ")
        writing.set()
        may_finish.wait(30)
        file.write(b"second half")

    writer = threading.Thread(target=lambda: write_atomically(tmp_path / f"{run_id(1)}.json", slow_content))
    writer.start()
    assert writing.wait(30)
    seen = [path.name for path in tmp_path.glob("*.tmp")]
    removed = RunStore(tmp_path).remove_stray_temp_files()
    may_finish.set()
    writer.join(30)
    assert len(seen) == 1 and removed == []
    assert (tmp_path / f"{run_id(1)}.json").read_bytes() == b"first half second half"
    assert not list(tmp_path.glob("*.tmp")) and store.folder == tmp_path


def test_past_the_budget_the_oldest_unpinned_models_are_pruned_first(tmp_path):
    store = RunStore(tmp_path)
    for day in range(1, 6):
        store.save(run_id(day), STARTED, "finished", a_checkpoint())
    model_bytes = store.model_path(run_id(1)).stat().st_size
    store.set_pinned(run_id(1), True)
    total = store.folder_bytes()
    assert store.prune(budget=total) == []
    pruned = store.prune(budget=total - 2 * model_bytes, keep=frozenset({run_id(2)}))
    assert pruned == [run_id(3), run_id(4)]
    listing = {record.run_id: record for record in store.records()}
    assert len(listing) == 5  # every summary is kept
    assert [day for day in range(1, 6) if listing[run_id(day)].model_kept] == [1, 2, 5]
    assert listing[run_id(1)].pinned and listing[run_id(3)].history().epoch_losses == [1.5, 0.65]
    assert store.folder_bytes() <= total - 2 * model_bytes
    assert store.prune(budget=0, keep=frozenset({run_id(2)})) == [run_id(5)]  # pinned, kept: never
    store.delete(run_id(1))
    assert store.pinned() == frozenset()


def test_sizes_read_as_a_user_writes_them():
    assert parse_size("2G") == parse_size("2 GB") == 2 * 1000**3
    assert parse_size("500m") == 500_000_000 and parse_size("1.5k") == 1500 and parse_size("123") == 123
    for bad in ("", "two gigs", "-1G", "1X"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_nesting_is_measured_without_parsing_and_strings_do_not_count():
    assert nesting_depth('{"a": [1, {"b": "[[[["}]}') == 3
    assert nesting_depth("[" * 50_000) == 50_000
    with pytest.raises(JsonBoundError, match="nested"):
        loads_bounded("[" * 50_000 + "]" * 50_000, 10**6, 10)
    with pytest.raises(JsonBoundError, match="characters"):
        loads_bounded("[]" * 100, 50, 10)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=300), st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30).map(json.dumps)))
def test_any_text_is_a_record_or_a_summary_error(text):
    try:
        RunRecord.from_json(text)
    except SummaryError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.fixed_dictionaries({}, optional={
    name: st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=30)
    | st.lists(st.integers() | st.floats(), max_size=3)
    for name in json.loads(good_summary())}))
def test_summaries_with_any_field_values_are_records_or_summary_errors(values):
    try:
        record = RunRecord.from_json(json.dumps({**json.loads(good_summary()), **values}))
    except SummaryError:
        return
    assert RunRecord.from_json(record.to_json()) == record


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


def test_a_save_killed_mid_write_leaves_a_temp_file_the_next_store_removes(tmp_path):
    """A real SIGKILL in the middle of write_atomically: the old file stays whole, the temp file
    stays behind (no handler runs), and opening the store removes it."""
    import signal
    import subprocess
    import sys

    from tests.conftest import ROOT

    target = tmp_path / f"{run_id(1)}.npz"
    target.write_bytes(b"the last good model")
    writer = subprocess.Popen([sys.executable, "-c", f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from core.atomic_file import write_atomically
def half(file):
    file.write(b"half a new model")
    file.flush()
    print("writing", flush=True)
    time.sleep(600)
write_atomically({str(target)!r}, half)
"""], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline() == "writing\n"
        assert len(list(tmp_path.glob("*.tmp"))) == 1
        assert RunStore(tmp_path).remove_stray_temp_files() == []  # its writer is alive: left alone
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(60)
    assert len(list(tmp_path.glob("*.tmp"))) == 1
    RunStore(tmp_path)
    assert not list(tmp_path.glob("*.tmp")) and target.read_bytes() == b"the last good model"
