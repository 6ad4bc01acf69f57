"""`export` and `import` on the command line: the issue's "done when", and the JSON Lines curves."""

import json
import sys

import numpy as np
import pytest

from assets import pretrained_model_path
from cli.commands import run_cli
from core.data.dataset import load_dataset
from core.files.model_file import load_checkpoint

SMALL = ["--hidden", "32,16", "--batch-size", "32"]


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def evaluate_json(capsys, *args) -> dict:
    capsys.readouterr()
    assert run_cli(["evaluate", "--json", *args]) == 0
    return json_lines(capsys.readouterr().out)[-1]


def test_the_bundled_model_round_trips_through_onnx_and_agrees_with_evaluate(tmp_path, mnist_dir, capsys):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install '.[test]')")
    exported, imported = tmp_path / "model.onnx", tmp_path / "imported.npz"
    assert run_cli(["export", "--format", "onnx", str(pretrained_model_path()), str(exported)]) == 0
    dataset = load_dataset(mnist_dir)
    session = ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    pixels = dataset.test_images.reshape(-1, 784) / np.float32(255)
    (probabilities,) = session.run(["probabilities"], {"pixels": pixels})
    ours = load_checkpoint(pretrained_model_path()).model.predict_proba(dataset.test_images)
    assert np.abs(probabilities - ours).max() <= 1e-5
    runtime_accuracy = float(np.mean(probabilities.argmax(axis=1) == dataset.test_labels))
    bundled = evaluate_json(capsys, "--data-dir", str(mnist_dir))
    assert runtime_accuracy == bundled["test_acc"]  # the same images right, to the last one

    assert run_cli(["import", str(exported), str(imported)]) == 0
    assert "784-256-128-64-10" in capsys.readouterr().out
    round_trip = evaluate_json(capsys, "--model", str(imported), "--data-dir", str(mnist_dir))
    assert round_trip["test_acc"] == bundled["test_acc"] and round_trip["confusion"] == bundled["confusion"]


def test_an_unsupported_graph_gets_a_one_line_refusal(tmp_path, capsys):
    onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install '.[onnx]')")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Conv", ["image", "kernel"], ["features"], name="/features/0/Conv")], "cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, None)],
        [helper.make_tensor("kernel", TensorProto.FLOAT, [8, 1, 3, 3], [0.0] * 72)])
    path = tmp_path / "cnn.onnx"
    onnx.save(helper.make_model(graph), str(path))
    assert run_cli(["import", str(path), str(tmp_path / "out.npz")]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "Conv node '/features/0/Conv' is not supported" in captured.err
    assert not (tmp_path / "out.npz").exists()


def test_a_state_dict_round_trip_keeps_the_predictions(tmp_path, tiny_dataset_dir, capsys):
    weights, imported = tmp_path / "weights.npz", tmp_path / "imported.npz"
    assert run_cli(["export", str(pretrained_model_path()), str(weights)]) == 0  # format from the suffix
    assert "state dict" in capsys.readouterr().out
    assert run_cli(["import", str(weights), str(imported)]) == 0
    original = evaluate_json(capsys, "--data-dir", str(tiny_dataset_dir))
    assert evaluate_json(capsys, "--model", str(imported), "--data-dir", str(tiny_dataset_dir)) == original


def test_the_curves_as_json_lines_are_the_lines_train_json_printed(tiny_dataset_dir, tmp_path, capsys):
    model_path, curves = tmp_path / "model.npz", tmp_path / "curves.jsonl"
    assert run_cli(["train", "--data-dir", str(tiny_dataset_dir), "--epochs", "3", "--json",
                    "--save", str(model_path), *SMALL]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert run_cli(["export", "--format", "jsonl", str(model_path), str(curves)]) == 0
    assert curves.read_text().splitlines() == printed
    assert run_cli(["export", str(model_path), str(tmp_path / "curves.csv")]) == 0
    assert (tmp_path / "curves.csv").read_text().splitlines()[0] == "epoch,loss,val_acc,lr,seconds"


def test_export_refuses_an_unknown_suffix_and_overwriting_its_source(tmp_path, capsys):
    assert run_cli(["export", str(pretrained_model_path()), str(tmp_path / "model.bin")]) == 1
    assert "--format" in capsys.readouterr().err
    copy = tmp_path / "model.npz"
    copy.write_bytes(pretrained_model_path().read_bytes())
    assert run_cli(["export", "--format", "state-dict", str(copy), str(copy)]) == 1
    assert "would overwrite" in capsys.readouterr().err
    load_checkpoint(copy)  # still the model file


def test_without_onnx_export_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    assert run_cli(["export", str(pretrained_model_path()), str(tmp_path / "model.onnx")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install ".[onnx]"' in err
