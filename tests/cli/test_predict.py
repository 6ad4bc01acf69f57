"""`main.py predict`: image files in, one line per image out; a blank image is reported, not an error."""

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter

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
        assert line["prediction"] == str(max(range(10), key=probabilities.__getitem__))
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
