"""The ONNX export, run by a real runtime (onnxruntime) against our own forward pass."""

import json
import subprocess
import sys

import numpy as np
import pytest

from assets import pretrained_model_path
from core.data.dataset import load_dataset
from core.engine.network import MLP
from core.engine.run_state import Checkpoint
from core.errors import OptionalDependencyError
from core.files.model_file import load_checkpoint
from core.files.onnx_export import INPUT_NAME, LOGITS, OPSET, PROBABILITIES, export_onnx, onnx_available, require_onnx
from tests.conftest import ROOT

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install '.[test]')")
pytest.importorskip("onnx", reason="onnx is not installed (pip install '.[onnx]')")


def session_for(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def run_in_batches(session, images: np.ndarray, batch: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    pixels = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
    parts = [session.run([PROBABILITIES, LOGITS], {INPUT_NAME: pixels[start:start + batch]})
             for start in range(0, len(pixels), batch)]
    return np.concatenate([part[0] for part in parts]), np.concatenate([part[1] for part in parts])


def assert_runtime_agrees(checkpoint: Checkpoint, path, images: np.ndarray) -> np.ndarray:
    probabilities, logits = run_in_batches(session_for(path), images)
    ours = checkpoint.model.predict_proba(images)
    assert probabilities.shape == ours.shape == (len(images), 10)
    np.testing.assert_array_equal(probabilities.argmax(axis=1), ours.argmax(axis=1))
    assert np.abs(probabilities - ours).max() <= 1e-5
    np.testing.assert_allclose(logits, checkpoint.model.logits(images.reshape(len(images), -1) / np.float32(255)),
                               atol=1e-4)
    return probabilities


def test_the_bundled_model_exported_agrees_with_our_forward_pass_on_the_mnist_test_set(tmp_path, mnist_dir):
    checkpoint = load_checkpoint(pretrained_model_path())
    dataset = load_dataset(mnist_dir)
    path = export_onnx(checkpoint, tmp_path / "model.onnx")
    probabilities = assert_runtime_agrees(checkpoint, path, dataset.test_images)
    runtime_accuracy = float(np.mean(probabilities.argmax(axis=1) == dataset.test_labels))
    our_accuracy = float(np.mean(checkpoint.model.predict(dataset.test_images) == dataset.test_labels))
    assert runtime_accuracy == our_accuracy == checkpoint.test_acc  # to the last image


def test_an_exported_model_agrees_with_our_forward_pass_on_a_synthetic_batch(tmp_path):
    model = MLP.initialized((784, 48, 24, 10), seed=7)
    rng = np.random.default_rng(3)
    for weight in model.weights:
        weight *= 3  # wider logits than a fresh init's, so the probabilities are not all near 0.1
    images = rng.integers(0, 256, (777, 28, 28), dtype=np.uint8)
    checkpoint = Checkpoint(model, load_checkpoint(pretrained_model_path()).config.replace(hidden=(48, 24)))
    assert_runtime_agrees(checkpoint, export_onnx(checkpoint, tmp_path / "small.onnx"), images)


def test_the_graph_states_its_interface_and_metadata(tmp_path):
    checkpoint = load_checkpoint(pretrained_model_path())
    session = session_for(export_onnx(checkpoint, tmp_path / "model.onnx"))
    (pixels,) = session.get_inputs()
    assert (pixels.name, pixels.shape, pixels.type) == (INPUT_NAME, ["batch", 784], "tensor(float)")
    assert [(output.name, output.shape) for output in session.get_outputs()] == [
        (PROBABILITIES, ["batch", 10]), (LOGITS, ["batch", 10])]
    metadata = session.get_modelmeta().custom_metadata_map
    assert json.loads(metadata["class_names"]) == list(checkpoint.class_names)
    assert metadata["layer_sizes"] == "784,256,128,64,10" and metadata["dataset_name"] == "MNIST"
    assert float(metadata["test_acc"]) == checkpoint.test_acc
    onnx = require_onnx()
    model = onnx.load(str(tmp_path / "model.onnx"))
    assert [(opset.domain, opset.version) for opset in model.opset_import] == [("", OPSET)]
    assert [node.op_type for node in model.graph.node] == ["Gemm", "Relu"] * 3 + ["Gemm", "Softmax"]


def test_a_failed_export_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    checkpoint = load_checkpoint(pretrained_model_path())
    path = export_onnx(checkpoint, tmp_path / "model.onnx")
    before = path.read_bytes()
    smaller = Checkpoint(MLP.initialized((784, 8, 10)), checkpoint.config.replace(hidden=(8,)))

    def disk_full(_descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("core.atomic_file.os.fsync", disk_full)  # the new graph is half on disk
    with pytest.raises(OSError):
        export_onnx(smaller, path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_without_the_onnx_package_export_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now raises ImportError
    assert not onnx_available()
    with pytest.raises(OptionalDependencyError, match=r'pip install "\.\[onnx\]"'):
        export_onnx(load_checkpoint(pretrained_model_path()), tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()


def test_the_readme_example_runs_as_written(tmp_path):
    """docs/onnx_example.py is the README's "Use your model elsewhere" snippet, run unchanged."""
    export_onnx(load_checkpoint(pretrained_model_path()), tmp_path / "model.onnx")
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "onnx_example.py")], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    predicted, confidence = result.stdout.split()
    assert predicted == "1" and float(confidence.rstrip("%")) > 90
    assert len((ROOT / "docs" / "onnx_example.py").read_text().splitlines()) <= 11
