"""`main.py predict`: image files in, one line per image out; a blank image is reported, not an error."""

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter

from cli.commands import run_cli

SMALL = ["--hidden", "32,16", "--batch-size", "32"]


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def save_image(path, with_digit=True):
    """A 120x90 picture: a black stroke on white paper, or only the paper."""
    image = QImage(90, 120, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.white)
    if with_digit:
        painter = QPainter(image)
        painter.fillRect(40, 15, 12, 90, Qt.GlobalColor.black)
        painter.end()
    assert image.save(str(path))
    return str(path)


@pytest.fixture(scope="module")
def model_path(tiny_dataset_dir, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "tiny.npz"
    assert run_cli(["train", "--data-dir", str(tiny_dataset_dir), "--epochs", "1", "--json",
                    "--save", str(path), *SMALL]) == 0
    return path


def test_predict_json_prints_one_line_per_image_with_ten_probabilities(model_path, tmp_path, capsys):
    digit = save_image(tmp_path / "digit.png")
    blank = save_image(tmp_path / "blank.png", with_digit=False)
    jpeg = save_image(tmp_path / "digit.jpg")
    capsys.readouterr()
    assert run_cli(["predict", "--model", str(model_path), digit, blank, jpeg, "--json"]) == 0
    captured = capsys.readouterr()
    lines = json_lines(captured.out)
    assert [line["image"] for line in lines] == [digit, blank, jpeg]
    for line in (lines[0], lines[2]):
        probabilities = line["probabilities"]
        assert len(probabilities) == 10 and all(0 <= p <= 1 for p in probabilities)
        assert sum(probabilities) == pytest.approx(1, abs=1e-5)
        assert line["prediction"] == max(range(10), key=probabilities.__getitem__)
        assert line["class_name"] == str(line["prediction"])
    assert lines[1] == {"image": blank, "empty": True}
    assert captured.err == ""


def test_predict_in_words_reports_a_blank_image_as_empty(model_path, tmp_path, capsys):
    blank = save_image(tmp_path / "blank.png", with_digit=False)
    digit = save_image(tmp_path / "digit.png")
    capsys.readouterr()
    assert run_cli(["predict", "--model", str(model_path), blank, digit]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{blank}: empty image, nothing to classify"
    assert out[1].startswith(f"{digit}: ") and "%" in out[1]


def test_predict_on_a_file_that_is_no_image_is_one_error_line(model_path, tmp_path, capsys):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG but not really")
    assert run_cli(["predict", "--model", str(model_path), str(broken)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and str(broken) in err and "Traceback" not in err


def test_predict_says_empty_for_a_picture_without_contrast(model_path, tmp_path, capsys):
    grey = QImage(90, 120, QImage.Format.Format_RGB32)
    grey.fill(QColor(128, 128, 128))
    specks = QImage(90, 120, QImage.Format.Format_RGB32)
    specks.fill(Qt.GlobalColor.white)
    for x, y in ((5, 7), (60, 100), (80, 20)):
        specks.setPixelColor(x, y, QColor("black"))
    paths = []
    for name, image in (("grey.png", grey), ("specks.png", specks)):
        assert image.save(str(tmp_path / name))
        paths.append(str(tmp_path / name))
    capsys.readouterr()
    assert run_cli(["predict", "--model", str(model_path), *paths, "--json"]) == 0
    assert json_lines(capsys.readouterr().out) == [{"image": path, "empty": True} for path in paths]


def test_predict_reads_white_ink_on_a_transparent_background(model_path, tmp_path, capsys):
    image = QImage(90, 120, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.fillRect(40, 15, 12, 90, Qt.GlobalColor.white)
    painter.end()
    white_ink = str(tmp_path / "white-ink.png")
    assert image.save(white_ink)
    black_ink = save_image(tmp_path / "black-ink.png")
    capsys.readouterr()
    assert run_cli(["predict", "--model", str(model_path), white_ink, black_ink, "--json"]) == 0
    white, black = json_lines(capsys.readouterr().out)
    assert "prediction" in white and white["probabilities"] == pytest.approx(black["probabilities"], abs=1e-4)


def test_predict_on_a_folder_names_it_as_a_folder(model_path, tmp_path, capsys):
    assert run_cli(["predict", "--model", str(model_path), str(tmp_path)]) == 1
    assert capsys.readouterr().err.strip() == f"error: {tmp_path}: is a folder, not an image"


def test_predict_explain_gives_the_input_each_layer_and_a_saliency_map(tmp_path, capsys):
    """Issue 15: activations of 256/128/64/10 and 28x28 maps, with the bundled model."""
    digit = str(save_image(tmp_path / "digit.png"))
    assert run_cli(["predict", digit, "--json", "--explain"]) == 0
    (line,) = json_lines(capsys.readouterr().out)
    assert [len(layer) for layer in line["activations"]] == [256, 128, 64, 10]
    assert np.array(line["input"]).shape == (28, 28) and np.array(line["saliency"]).shape == (28, 28)
    assert line["saliency_class"] == line["prediction"]
    assert line["activations"][-1] == pytest.approx(line["probabilities"], abs=1e-5)
    assert run_cli(["predict", digit, "--explain"]) == 1
    assert "add --json" in capsys.readouterr().err


def test_no_preprocess_feeds_a_28x28_image_as_it_is(tmp_path, capsys, mnist_dir):
    from PySide6.QtGui import QImage

    from core.data.dataset import load_dataset

    dataset = load_dataset(mnist_dir)
    image = np.ascontiguousarray(dataset.test_images[0].reshape(28, 28))
    path = tmp_path / "mnist0.png"
    assert QImage(image.data, 28, 28, 28, QImage.Format.Format_Grayscale8).save(str(path))
    assert run_cli(["predict", str(path), "--json", "--no-preprocess", "--explain"]) == 0
    (line,) = json_lines(capsys.readouterr().out)
    np.testing.assert_allclose(np.array(line["input"]), image / 255, atol=1e-5)
    assert line["prediction"] == int(dataset.test_labels[0])
    big = str(save_image(tmp_path / "big.png"))
    assert run_cli(["predict", big, "--no-preprocess"]) == 1
    assert "--no-preprocess takes 28x28 images" in capsys.readouterr().err
