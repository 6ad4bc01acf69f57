"""Dataset folders: where they are looked for, both naming styles, and what a broken one says."""

import gzip
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from core.data.dataset import (
    DIGIT_NAMES,
    FASHION_NAMES,
    MNIST_FILE_NAMES,
    default_data_dir,
    has_dataset_files,
    load_dataset,
    missing_files,
    resolve_data_dir,
)
from core.data.idx import write_idx
from core.errors import DatasetError
from tests.fake_data import make_digit_like_images, write_dataset

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
STYLES = {  # role -> (dash name, dot name), without .gz
    "train_images": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "train_labels": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "test_images": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "test_labels": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}


def write_arrays(folder: Path, style: int = 0, suffix: str = ".gz", **arrays) -> Path:
    """The four files of a small generated dataset, with any of them replaced by `arrays`."""
    train_images, train_labels = make_digit_like_images(30, seed=5)
    test_images, test_labels = make_digit_like_images(20, seed=6)
    values = dict(train_images=train_images, train_labels=train_labels,
                  test_images=test_images, test_labels=test_labels) | arrays
    for role, names in STYLES.items():
        write_idx(folder / (names[style] + suffix), values[role])
    return folder


# --- where the dataset is looked for -------------------------------------------------------------

def test_the_folder_given_comes_first(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "from-environment"))
    assert resolve_data_dir(tmp_path / "given") == tmp_path / "given"
    assert resolve_data_dir(str(tmp_path / "given")) == tmp_path / "given"


def test_then_the_mnist_dir_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "from-environment"))
    assert resolve_data_dir(None) == tmp_path / "from-environment"
    assert resolve_data_dir("") == tmp_path / "from-environment"


def test_then_the_applications_data_folder(monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    folder = resolve_data_dir(None)
    assert folder == default_data_dir() and folder.parts[-2:] == ("mnist-mlp", "mnist")
    if sys.platform.startswith("linux"):
        # conftest points XDG_DATA_HOME into a temp dir: the user's real folder is never touched
        assert folder == Path(os.environ["XDG_DATA_HOME"]) / "mnist-mlp" / "mnist"
    monkeypatch.setenv("MNIST_DIR", "")
    assert resolve_data_dir(None) == folder


def test_a_home_relative_folder_is_expanded(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_data_dir("~/digits") == tmp_path / "digits"
    monkeypatch.setenv("MNIST_DIR", "~/from-environment")
    assert resolve_data_dir(None) == tmp_path / "from-environment"


# --- loading -----------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".gz", ""], ids=["gzipped", "raw"])
@pytest.mark.parametrize("style", [0, 1], ids=["train-images-idx3-ubyte", "train-images.idx3-ubyte"])
def test_both_naming_styles_raw_or_gzipped_load_the_same_arrays(tmp_path, style, suffix):
    folder = write_arrays(tmp_path / "digits", style, suffix)
    reference = load_dataset(write_arrays(tmp_path / "reference"))
    dataset = load_dataset(folder)
    assert has_dataset_files(folder) and missing_files(folder) == []
    assert dataset.train_images.shape == (30, 784) and dataset.test_images.shape == (20, 784)
    assert dataset.train_images.dtype == np.uint8 and dataset.train_labels.dtype == np.uint8
    for role in STYLES:
        np.testing.assert_array_equal(getattr(dataset, role), getattr(reference, role))
    expected_images, expected_labels = make_digit_like_images(30, seed=5)
    np.testing.assert_array_equal(dataset.train_images, expected_images.reshape(30, 784))
    np.testing.assert_array_equal(dataset.train_labels, expected_labels)
    assert dataset.folder == folder


def test_a_folder_mixing_styles_and_compression_loads(tmp_path):
    images, labels = make_digit_like_images(10, seed=1)
    write_idx(tmp_path / "train-images.idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", images)
    write_idx(tmp_path / "t10k-labels.idx1-ubyte.gz", labels)
    assert len(load_dataset(tmp_path).test_labels) == 10


def test_a_generated_dataset_is_named_after_its_folder_with_digit_classes(tiny_dataset_dir):
    dataset = load_dataset(tiny_dataset_dir)
    assert dataset.name == tiny_dataset_dir.name
    assert dataset.class_names == DIGIT_NAMES == tuple("0123456789")
    assert dataset.train_images.shape == (640, 784) and dataset.test_images.shape == (200, 784)


def test_a_folder_named_fashion_gets_the_fashion_class_names(tmp_path):
    dataset = load_dataset(write_arrays(tmp_path / "my-Fashion-copy"))
    assert dataset.name == "Fashion-MNIST" and dataset.class_names == FASHION_NAMES


def test_the_real_mnist_is_recognized(mnist_dir):
    dataset = load_dataset(mnist_dir)
    assert dataset.name == "MNIST" and dataset.class_names == DIGIT_NAMES
    assert dataset.train_images.shape == (60000, 784) and dataset.test_labels.shape == (10000,)
    assert np.bincount(dataset.test_labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_fashion_mnist_is_recognized_by_its_labels_whatever_its_folder(tmp_path):
    if not has_dataset_files(FASHION_DIR):
        pytest.skip(f"Fashion-MNIST not installed in {FASHION_DIR} (apt-get install dataset-fashion-mnist)")
    dataset = load_dataset(FASHION_DIR)
    assert dataset.name == "Fashion-MNIST"
    assert dataset.class_names[0] == "T-shirt/top" and dataset.class_names[9] == "Ankle boot"
    assert len(dataset.class_names) == 10
    assert dataset.train_images.shape == (60000, 784) and dataset.test_images.shape == (10000, 784)
    # the fingerprint is the test labels', not the folder's name
    copy = write_arrays(tmp_path / "renamed", suffix="", test_labels=dataset.test_labels,
                        test_images=dataset.test_images.reshape(-1, 28, 28))
    assert load_dataset(copy).class_names == FASHION_NAMES


# --- what a broken folder says -----------------------------------------------------------------

def test_a_missing_folder_says_what_it_should_hold_and_how_to_get_it(tmp_path):
    with pytest.raises(DatasetError) as info:
        load_dataset(tmp_path / "nowhere")
    message = str(info.value)
    assert str(tmp_path / "nowhere") in message and "no such folder" in message
    assert all(name in message for name in MNIST_FILE_NAMES.values())
    assert "download" in message and "--data-dir" in message
    assert not has_dataset_files(tmp_path / "nowhere")


def test_missing_files_are_listed_by_name(tmp_path):
    write_dataset(tmp_path)
    (tmp_path / MNIST_FILE_NAMES["train_labels"]).unlink()
    (tmp_path / MNIST_FILE_NAMES["test_images"]).unlink()
    assert missing_files(tmp_path) == ["train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]
    assert not has_dataset_files(tmp_path)
    with pytest.raises(DatasetError) as info:
        load_dataset(tmp_path)
    message = str(info.value)
    assert str(tmp_path) in message
    assert "train-labels-idx1-ubyte.gz" in message and "t10k-images-idx3-ubyte.gz" in message
    assert "train-images-idx3-ubyte" not in message.split("(")[0], "a file that is there is listed as missing"


def test_an_empty_folder_lists_all_four_files(tmp_path):
    with pytest.raises(DatasetError) as info:
        load_dataset(tmp_path)
    assert all(name in str(info.value) for name in MNIST_FILE_NAMES.values())


def test_a_folder_with_the_name_of_a_file_is_no_file(tmp_path):
    write_dataset(tmp_path)
    (tmp_path / MNIST_FILE_NAMES["test_labels"]).unlink()
    (tmp_path / "t10k-labels-idx1-ubyte").mkdir()
    assert missing_files(tmp_path) == ["t10k-labels-idx1-ubyte.gz"]


IMAGES_30, LABELS_30 = make_digit_like_images(30, seed=5)


@pytest.mark.parametrize("arrays, words", [
    (dict(train_images=np.zeros((30, 28, 27), np.uint8)), ["train set", "28x28", "(30, 28, 27)"]),
    (dict(test_images=np.zeros((20, 784), np.uint8)), ["test set", "28x28", "(20, 784)"]),
    (dict(train_images=IMAGES_30.astype(np.float32)), ["train set", "28x28", "float32"]),
    (dict(train_labels=LABELS_30.reshape(15, 2)), ["train set", "labels", "(15, 2)"]),
    (dict(test_labels=np.zeros(20, np.int16)), ["test set", "labels", "int16"]),
    (dict(train_labels=LABELS_30[:29]), ["train set", "30 images but 29 labels"]),
    (dict(test_images=IMAGES_30[:21]), ["test set", "21 images but 20 labels"]),
    (dict(test_labels=np.full(20, 10, np.uint8)), ["test set", "label 10 is out of range (0-9)"]),
    (dict(train_labels=np.where(LABELS_30 == 3, 255, LABELS_30).astype(np.uint8)), ["label 255 is out of range"]),
    (dict(test_images=np.zeros((0, 28, 28), np.uint8), test_labels=np.zeros(0, np.uint8)), ["test set", "no images"]),
], ids=["images-28x27", "images-flat", "images-float", "labels-2d", "labels-int16", "train-count", "test-count",
        "label-10", "label-255", "no-images"])
def test_inconsistent_files_raise_a_dataset_error_naming_the_folder_and_the_problem(tmp_path, arrays, words):
    folder = write_arrays(tmp_path / "broken", **arrays)
    with pytest.raises(DatasetError) as info:
        load_dataset(folder)
    message = str(info.value)
    assert message.startswith(str(folder)), message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize("damage", ["truncate", "bad-gzip", "not-idx"])
def test_a_corrupt_file_raises_a_dataset_error_naming_that_file(tmp_path, damage):
    write_dataset(tmp_path)
    path = tmp_path / MNIST_FILE_NAMES["train_images"]
    content = gzip.decompress(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(gzip.compress(content[:len(content) // 3]))
    elif damage == "bad-gzip":
        path.write_bytes(path.read_bytes()[:1000])
    else:
        path.write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(DatasetError) as info:
        load_dataset(tmp_path)
    message = str(info.value)
    assert str(path) in message
    assert {"truncate": "truncated", "bad-gzip": "gzip", "not-idx": "not an IDX file"}[damage] in message
