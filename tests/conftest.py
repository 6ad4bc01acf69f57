"""Shared fixtures. Qt runs offscreen and every user folder points into a temp dir."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_data import write_dataset  # noqa: E402


@pytest.fixture(autouse=True)
def private_user_dirs(tmp_path_factory, monkeypatch):
    """Nothing a test does may read or write the real user's data, config or cache folders."""
    base = tmp_path_factory.mktemp("user")
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(base / name.lower()))


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels_built():
    """The compiled kernels in numba's cache before any test runs, as on a machine past its first
    run: a `train` without them would start with NumPy while another process builds them
    (core/engine/compile_process.py), and a test comparing two runs' numbers would compare two
    paths. tests/cli/test_first_run.py checks a first run, in a cache folder of its own."""
    from core.engine.kernel_preparation import start_preparing

    start_preparing().wait()


@pytest.fixture(scope="session")
def tiny_dataset_dir(tmp_path_factory) -> Path:
    """A small generated dataset in MNIST's file format (640 train, 200 test images)."""
    return write_dataset(tmp_path_factory.mktemp("tiny_mnist"))


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The real MNIST files, from MNIST_DIR; tests that need them skip when it is not set."""
    folder = os.environ.get("MNIST_DIR")
    if not folder or not Path(folder).is_dir():
        pytest.skip("real MNIST not available: set MNIST_DIR to a folder with the four IDX files")
    return Path(folder)


@pytest.fixture(scope="session")
def bundled_model():
    """The pretrained model shipped in assets/ (skipped in an install without it)."""
    from assets import pretrained_model_path
    from core.files.model_file import load_checkpoint

    path = pretrained_model_path()
    if path is None:
        pytest.skip("the bundled model is not installed")
    return load_checkpoint(path).model
