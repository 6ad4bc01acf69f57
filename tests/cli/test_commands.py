"""The command line, driven as a user would: arguments in, lines out, exit codes."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from cli.commands import run_cli
from core.files.model_file import load_checkpoint
from tests.conftest import ROOT

SMALL = ["--hidden", "32,16", "--batch-size", "32"]


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_train_json_prints_one_object_per_epoch_then_the_test(tiny_dataset_dir, tmp_path, capsys):
    model_path = tmp_path / "model.npz"
    code = run_cli(["train", "--data-dir", str(tiny_dataset_dir), "--epochs", "3", "--json", "--lr", "0.003",
                    "--save", str(model_path), *SMALL])
    assert code == 0
    lines = json_lines(capsys.readouterr().out)
    assert [line["epoch"] for line in lines if line["event"] == "epoch"] == [1, 2, 3]
    assert all(0 <= line["val_acc"] <= 1 and line["seconds"] > 0 for line in lines[:3])
    assert lines[-1]["event"] == "test" and 0.9 < lines[-1]["test_acc"] <= 1
    saved = load_checkpoint(model_path)
    assert saved.config.hidden == (32, 16) and saved.history.test_acc == lines[-1]["test_acc"]


def test_resume_continues_where_the_saved_run_stopped(tiny_dataset_dir, tmp_path, capsys):
    first, second = tmp_path / "first.npz", tmp_path / "second.npz"
    assert run_cli(["train", "--data-dir", str(tiny_dataset_dir), "--epochs", "2", "--json",
                    "--optimizer", "sgd", "--save", str(first), *SMALL]) == 0
    assert run_cli(["train", "--data-dir", str(tiny_dataset_dir), "--epochs", "4", "--json",
                    "--resume", str(first), "--save", str(second)]) == 0
    straight = tmp_path / "straight.npz"
    assert run_cli(["train", "--data-dir", str(tiny_dataset_dir), "--epochs", "4", "--json",
                    "--optimizer", "sgd", "--save", str(straight), *SMALL]) == 0
    resumed, reference = load_checkpoint(second), load_checkpoint(straight)
    assert len(resumed.history.epoch_losses) == 4
    np.testing.assert_allclose(resumed.history.epoch_losses, reference.history.epoch_losses, rtol=1e-6)


def test_evaluate_prints_accuracy_and_confusion_matrix(tiny_dataset_dir, tmp_path, capsys):
    model_path = tmp_path / "model.npz"
    run_cli(["train", "--data-dir", str(tiny_dataset_dir), "--epochs", "2", "--json", "--save", str(model_path),
             *SMALL])
    capsys.readouterr()
    assert run_cli(["evaluate", "--model", str(model_path), "--data-dir", str(tiny_dataset_dir), "--json"]) == 0
    result = json_lines(capsys.readouterr().out)[-1]
    matrix = np.array(result["confusion"])
    assert matrix.shape == (10, 10) and matrix.sum() == 200
    assert result["test_acc"] == pytest.approx(np.trace(matrix) / 200)
    assert run_cli(["evaluate", "--model", str(model_path), "--data-dir", str(tiny_dataset_dir)]) == 0
    text = capsys.readouterr().out
    assert "accuracy" in text and "confusion matrix" in text


@pytest.mark.parametrize("arguments, message", [
    (["train", "--lr", "-1"], "learning rate"),
    (["train", "--hidden", "12,x"], "hidden"),
    (["evaluate", "--model", "missing.npz"], "no such file"),
])
def test_bad_input_gives_one_clear_line_and_a_non_zero_exit(tiny_dataset_dir, arguments, message, capsys):
    code = run_cli([*arguments, "--data-dir", str(tiny_dataset_dir)])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and message in err and "Traceback" not in err


def test_a_missing_dataset_folder_names_the_files(tmp_path, capsys):
    assert run_cli(["train", "--data-dir", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err
    assert "train-images" in err and "Traceback" not in err


def test_a_diverging_run_exits_non_zero_and_says_to_lower_the_lr(tiny_dataset_dir, tmp_path, capsys):
    code = run_cli(["train", "--data-dir", str(tiny_dataset_dir), "--optimizer", "sgd", "--lr", "10000",
                    "--epochs", "3", *SMALL])
    assert code == 1
    assert "lower" in capsys.readouterr().err.lower()


def test_main_help_and_errors_in_a_real_process(tmp_path):
    for command in (["--help"], ["train", "--help"], ["evaluate", "--help"], ["predict", "--help"],
                    ["download", "--help"]):
        result = subprocess.run([sys.executable, str(ROOT / "main.py"), *command], capture_output=True, text=True)
        assert result.returncode == 0 and "usage" in result.stdout
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", "--data-dir", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_without_a_display_the_window_says_so_instead_of_crashing():
    env = {key: value for key, value in os.environ.items()
           if key not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, str(ROOT / "main.py")], capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode == 1
    assert "no display" in result.stderr and "Traceback" not in result.stderr


def test_train_patience_reaches_the_config():
    from cli.parser import build_parser
    from cli.train_flags import config_from_flags

    args = build_parser().parse_args(["train", "--patience", "4"])
    assert config_from_flags(args).patience == 4
    assert config_from_flags(build_parser().parse_args(["train"])).patience == 0


def test_train_extra_data_adds_a_personal_set_to_the_training_images(tmp_path, tiny_dataset_dir, capsys):
    from core.data.personal_set import PersonalSet

    drawings = PersonalSet(tmp_path / "mine")
    for label in (3, 7):
        image = np.zeros((28, 28), np.float32)
        image[8:20, 10:18] = 1.0
        drawings.add(image, label)
    assert run_cli(["train", "--data-dir", str(tiny_dataset_dir), "--epochs", "1", "--hidden", "16",
                    "--batch-size", "32", "--extra-data", str(tmp_path / "mine"), "--no-history"]) == 0
    assert "with 2 drawings of" in capsys.readouterr().out
    from core.data.dataset import load_dataset
    dataset = load_dataset(tiny_dataset_dir)
    extended = drawings.added_to(dataset)
    assert len(extended.train_images) == len(dataset.train_images) + 2
    assert extended.train_labels[-2:].tolist() == [3, 7]
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "train-images-idx3-ubyte").write_bytes(b"junk")
    assert run_cli(["train", "--data-dir", str(tiny_dataset_dir), "--epochs", "1", "--extra-data",
                    str(tmp_path / "bad"), "--no-history"]) == 1
    assert "train-images-idx3-ubyte" in capsys.readouterr().err
