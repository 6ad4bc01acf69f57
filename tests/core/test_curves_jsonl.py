"""A run's curves as JSON Lines: one line per epoch, then the run's end once it has one."""

import json

from core.engine.config import TrainConfig
from core.engine.run_state import History
from core.files.curves_jsonl import curves_jsonl, ended_status, export_curves_jsonl


def history(epochs: int, test_acc=None) -> History:
    return History(epoch_losses=[0.5 / (k + 1) for k in range(epochs)], val_accs=[0.8 + k / 100 for k in range(epochs)],
                   epoch_seconds=[0.25] * epochs, lrs=[0.001 * 0.97**k for k in range(epochs)], test_acc=test_acc)


def test_each_epoch_is_one_line_and_an_ended_run_closes_with_its_test_line(tmp_path):
    curves = history(3, test_acc=0.95)
    lines = [json.loads(line) for line in curves_jsonl(curves, "stopped").splitlines()]
    assert [line["epoch"] for line in lines[:3]] == [1, 2, 3]
    assert [line["lr"] for line in lines[:3]] == curves.lrs
    assert [line["val_acc"] for line in lines[:3]] == curves.val_accs
    assert lines[3] == {"event": "test", "test_acc": 0.95, "status": "stopped", "epochs": 3}
    path = export_curves_jsonl(curves, "stopped", tmp_path / "run.jsonl")
    assert path.read_text() == curves_jsonl(curves, "stopped")


def test_a_run_that_never_ended_has_no_test_line():
    for status in (None, "running", "interrupted"):
        text = curves_jsonl(history(2), status)
        assert [json.loads(line)["event"] for line in text.splitlines()] == ["epoch", "epoch"]
    assert curves_jsonl(History(), None) == ""


def test_a_model_files_status_is_told_from_its_epochs():
    config = TrainConfig(epochs=3)
    assert ended_status(history(3), config) is None  # no test accuracy: it never ended
    assert ended_status(history(3, 0.9), config) == "finished"
    assert ended_status(history(2, 0.9), config) == "stopped"
