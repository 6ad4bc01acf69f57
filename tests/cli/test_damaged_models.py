"""Every damaged model file of the corpus through `evaluate`, `predict` and `train --resume`: one
line on stderr naming the file, exit code 1, no traceback."""

import json
import subprocess
import sys

import pytest

from cli.commands import run_cli
from tests.cli.test_predict import save_image
from tests.conftest import ROOT
from tests.damaged_models import CASES, arrays_of, make_case, write_arrays, write_base_model


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The base model and every damaged file, built once."""
    folder = tmp_path_factory.mktemp("corpus")
    base = write_base_model(folder / "base.npz")
    return base, {case: make_case(case, base, folder) for case in CASES}


@pytest.fixture(scope="module")
def digit(tmp_path_factory):
    return save_image(tmp_path_factory.mktemp("images") / "digit.png")


def commands(path, data_dir, digit):
    return {
        "evaluate": ["evaluate", "--model", str(path), "--data-dir", str(data_dir)],
        "predict": ["predict", "--model", str(path), digit],
        "train --resume": ["train", "--resume", str(path), "--data-dir", str(data_dir), "--epochs", "3", "--json"],
    }


def test_the_base_model_works_with_every_command(corpus, tiny_dataset_dir, digit, capsys):
    base, _ = corpus
    for name, argv in commands(base, tiny_dataset_dir, digit).items():
        assert run_cli(argv) == 0, name
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_damaged_model_file_is_one_error_line_and_exit_code_1(corpus, tiny_dataset_dir, digit, capsys, case):
    path = corpus[1][case]
    capsys.readouterr()
    for name, argv in commands(path, tiny_dataset_dir, digit).items():
        assert run_cli(argv) == 1, name
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}"), (name, err)
        for word in CASES[case][1]:
            assert word in lines[0], (name, err)


def test_a_position_past_this_datasets_epoch_is_refused_before_training(corpus, tiny_dataset_dir, tmp_path,
                                                                        digit, capsys):
    """Without an order the file cannot know the dataset: its next batch 1000 fits 500,000 rows in
    batches of 32, so it loads (evaluate and predict use it), but resuming on 640 rows is refused."""
    base, _ = corpus
    arrays = arrays_of(base)
    metadata = json.loads(str(arrays["metadata"]))
    metadata["position"]["next_batch"] = 1000
    arrays["metadata"] = json.dumps(metadata)
    del arrays["position_order"]
    path = tmp_path / "far.npz"
    write_arrays(path, arrays)
    argv = commands(path, tiny_dataset_dir, digit)
    assert run_cli(argv["evaluate"]) == 0 and run_cli(argv["predict"]) == 0
    capsys.readouterr()
    assert run_cli(argv["train --resume"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: cannot resume from it") and "next batch 1000" in err, err


@pytest.mark.parametrize("case", ["next-batch-negative", "compression-method-99", "metadata-nested-100000-deep",
                                  "mangled-npy-header", "a-png"])
def test_the_process_exits_with_1_and_no_traceback(corpus, tiny_dataset_dir, case, tmp_path):
    path = corpus[1][case]
    env = {"MNIST_DIR": str(tiny_dataset_dir), "XDG_DATA_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "main.py", "train", "--resume", str(path), "--json"],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and "Traceback" not in result.stderr
    assert str(path) in result.stderr


def test_a_run_resumed_with_fewer_epochs_than_it_had_done_saves_a_file_that_loads(tiny_dataset_dir, tmp_path):
    first, second = tmp_path / "first.npz", tmp_path / "second.npz"
    small = ["--hidden", "16", "--batch-size", "64", "--json", "--data-dir", str(tiny_dataset_dir)]
    assert run_cli(["train", "--epochs", "2", "--save", str(first), *small]) == 0
    assert run_cli(["train", "--resume", str(first), "--epochs", "1", "--save", str(second), *small[4:]]) == 0
    assert run_cli(["evaluate", "--model", str(second), "--data-dir", str(tiny_dataset_dir), "--json"]) == 0
