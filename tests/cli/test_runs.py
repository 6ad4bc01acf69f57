"""`train` records its run in the window's history; `runs` reads and tends that history headless;
`train --save` is checked before training and never loses the trained model."""

import errno
import json
import os

import pytest

import core.atomic_file
from cli.commands import run_cli
from core.files.model_file import load_checkpoint
from core.runs.run_history import RunStore

SMALL = ["--hidden", "32,16", "--batch-size", "32", "--epochs", "2"]


def train(dataset_dir, *extra) -> int:
    return run_cli(["train", "--data-dir", str(dataset_dir), "--json", *SMALL, *extra])


def listed(capsys) -> dict:
    capsys.readouterr()
    assert run_cli(["runs", "list", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error:") and "Traceback" not in err
    return err


def test_train_records_its_run_where_the_window_lists_it(tiny_dataset_dir, capsys):
    assert train(tiny_dataset_dir) == 0
    test_line = json.loads(capsys.readouterr().out.splitlines()[-1])
    (record,) = RunStore().records()
    assert record.status == "finished" and record.epochs_done == 2 and record.test_acc == test_line["test_acc"]
    assert load_checkpoint(RunStore().model_path(record.run_id)).history.test_acc == record.test_acc
    assert train(tiny_dataset_dir, "--no-history") == 0
    assert len(RunStore().records()) == 1


def test_runs_list_show_export_and_delete(tiny_dataset_dir, tmp_path, capsys):
    assert train(tiny_dataset_dir) == 0 and train(tiny_dataset_dir, "--optimizer", "sgd") == 0
    listing = listed(capsys)
    newest, oldest = listing["runs"]
    assert newest["optimizer"] == "sgd" and oldest["optimizer"] == "adam" and listing["unreadable"] == []
    assert listing["folder_bytes"] > 0 and listing["budget_bytes"] == 2 * 1000**3

    assert run_cli(["runs", "show", newest["run_id"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == newest
    assert run_cli(["runs", "show", oldest["run_id"]]) == 0
    assert "epoch    2" in capsys.readouterr().out

    model_path, csv_path = tmp_path / "out" / "model.npz", tmp_path / "curves.csv"
    assert run_cli(["runs", "export", oldest["run_id"], str(model_path)]) == 0
    assert load_checkpoint(model_path).history.test_acc == oldest["test_acc"]
    assert run_cli(["runs", "export", oldest["run_id"], str(csv_path)]) == 0
    assert csv_path.read_text().splitlines()[0] == "epoch,loss,val_acc,lr,seconds"

    assert run_cli(["runs", "delete", newest["run_id"][:-3]]) == 0  # the start of one id is enough
    assert [run["run_id"] for run in listed(capsys)["runs"]] == [oldest["run_id"]]


def test_runs_list_json_names_the_unreadable_summaries(tiny_dataset_dir, capsys):
    assert train(tiny_dataset_dir) == 0
    folder = RunStore().folder
    (folder / "20260101-000000-000-adam.json").write_text('{"lr": "0.001"}')
    (folder / "x.json").mkdir()
    (folder / "20260102-000000-000-adam.json").write_text("[" * 100_000)
    unreadable = {item["file"]: item["reason"] for item in listed(capsys)["unreadable"]}
    assert set(unreadable) == {"20260101-000000-000-adam.json", "x.json", "20260102-000000-000-adam.json"}
    assert "nested" in unreadable["20260102-000000-000-adam.json"]
    assert run_cli(["runs", "list"]) == 0
    assert capsys.readouterr().out.count("unreadable:") == 3


@pytest.mark.parametrize("run", ["../../somewhere/precious", "2099", "", "/etc/passwd"])
def test_a_run_that_is_not_there_is_one_error_line_and_touches_nothing(tiny_dataset_dir, tmp_path, capsys, run):
    precious = tmp_path / "precious.json"
    precious.write_text("keep me")
    assert train(tiny_dataset_dir) == 0
    capsys.readouterr()
    for action in (["show", run], ["delete", run], ["export", run, str(tmp_path / "x.npz")]):
        assert run_cli(["runs", *action]) == 1
        one_error_line(capsys)
    assert precious.read_text() == "keep me" and len(RunStore().records()) == 1


def test_prune_removes_the_oldest_models_past_the_budget(tiny_dataset_dir, capsys):
    for _ in range(3):
        assert train(tiny_dataset_dir) == 0
    capsys.readouterr()
    assert run_cli(["runs", "prune", "--history-budget", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    runs = listed(capsys)["runs"]
    assert result["pruned"] == [run["run_id"] for run in reversed(runs)]
    assert all(not run["model_kept"] and run["epoch_losses"] for run in runs)
    assert run_cli(["runs", "prune", "--history-budget", "lots"]) == 1
    assert "--history-budget" in one_error_line(capsys)


def test_the_budget_from_the_environment_applies_to_train(tiny_dataset_dir, monkeypatch, capsys):
    assert train(tiny_dataset_dir) == 0
    monkeypatch.setenv("MNIST_MLP_HISTORY_BUDGET", "1")
    assert train(tiny_dataset_dir) == 0
    older, newer = listed(capsys)["runs"][::-1]
    assert not older["model_kept"] and newer["model_kept"]  # the run just trained is never pruned


@pytest.mark.parametrize("where, message", [
    (lambda tmp: tmp, "is a folder"),
    (lambda tmp: tmp / "a-file" / "model.npz", "is a file, not a folder"),
    (lambda tmp: tmp / "a-file" / "deeper" / "model.npz", "is a file, not a folder"),
    (lambda tmp: "/proc/model.npz", "cannot write in /proc"),
])
def test_an_unwritable_save_path_is_refused_before_training(tiny_dataset_dir, tmp_path, capsys, where, message):
    (tmp_path / "a-file").write_text("a file")
    assert train(tiny_dataset_dir, "--save", str(where(tmp_path))) == 1
    assert message in one_error_line(capsys)
    assert RunStore().records() == []  # nothing was trained


def test_a_read_only_folder_is_refused_before_training(tiny_dataset_dir, tmp_path, capsys, monkeypatch):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    if os.access(folder, os.W_OK):  # root writes through permissions: the system refuses as it would anyone else
        real = core.atomic_file.tempfile.TemporaryFile

        def refusing(*args, dir=None, **kwargs):
            if dir is not None and os.fspath(dir) == os.fspath(folder):
                raise PermissionError(errno.EACCES, "Permission denied")
            return real(*args, dir=dir, **kwargs)

        monkeypatch.setattr(core.atomic_file.tempfile, "TemporaryFile", refusing)
    assert train(tiny_dataset_dir, "--save", str(folder / "model.npz")) == 1
    assert "Permission denied" in one_error_line(capsys)


def fill_the_disk_of(monkeypatch, *folders) -> None:
    """Every write into `folders` ends as on a full disk: at the fsync, after the data was written."""
    real_fsync = os.fsync

    def fsync(fd):
        if os.path.dirname(os.readlink(f"/proc/self/fd/{fd}")) in map(os.fspath, folders):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(core.atomic_file.os, "fsync", fsync)


@pytest.mark.parametrize("history", [[], ["--no-history"]])
def test_a_full_disk_at_the_end_keeps_the_model_in_the_history_and_the_old_file(tiny_dataset_dir, tmp_path,
                                                                               capsys, monkeypatch, history):
    save = tmp_path / "disk" / "model.npz"
    assert train(tiny_dataset_dir, "--save", str(save), "--no-history", "--optimizer", "sgd") == 0
    before = save.read_bytes()
    fill_the_disk_of(monkeypatch, save.parent)
    capsys.readouterr()
    assert train(tiny_dataset_dir, "--save", str(save), *history) == 1
    err = one_error_line(capsys)
    assert "No space left on device" in err and str(save) in err
    (record,) = RunStore().records()
    rescued = RunStore().model_path(record.run_id)
    assert str(rescued) in err
    assert load_checkpoint(rescued).config.optimizer == "adam" and record.status == "finished"
    assert save.read_bytes() == before
    assert sorted(path.name for path in save.parent.iterdir()) == ["model.npz"]  # no temp file left


def test_when_the_history_cannot_take_it_either_the_message_says_so(tiny_dataset_dir, tmp_path, capsys,
                                                                  monkeypatch):
    save, store = tmp_path / "disk" / "model.npz", RunStore()
    fill_the_disk_of(monkeypatch, save.parent, store.folder)
    assert train(tiny_dataset_dir, "--save", str(save)) == 1
    err = one_error_line(capsys)
    assert "lost" in err and str(store.folder) in err


def test_train_removes_the_temp_files_a_killed_save_left_beside_its_save_path(tiny_dataset_dir, tmp_path):
    save = tmp_path / "model.npz"
    (tmp_path / "model.npz.k1lled00.tmp").write_bytes(b"half a model")
    (tmp_path / "other.npz.k1lled00.tmp").write_bytes(b"not this run's target")
    assert train(tiny_dataset_dir, "--save", str(save)) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.npz", "other.npz.k1lled00.tmp"]
