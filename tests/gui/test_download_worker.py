"""Download MNIST from the window, against local servers on 127.0.0.1 (never the real network).

MainWindow.download_mnist() builds DownloadWorker(folder) with the public mirrors; the tests put
the local ones in with a partial. DownloadWorker has no way to pass checksums, so a download that
completes is tested with the real MNIST files (MNIST_DIR), whose checksums are the default ones.
"""

import functools

import pytest
from PySide6.QtWidgets import QProgressDialog

import gui.main_window
from core.dataset import MNIST_FILE_NAMES, ROLES
from gui.download_worker import DownloadWorker
from tests.gui.window_driver import LEFT, take_error
from tests.http_fixtures import PROXY_VARIABLES, closed_port_url

NAMES = [MNIST_FILE_NAMES[role] for role in ROLES]


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """urllib honours *_proxy variables; a proxy must not stand between the tests and 127.0.0.1."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def use_mirrors(monkeypatch):
    """use_mirrors(url, ...): the window's Download MNIST fetches from these instead of the public mirrors."""

    def use(*urls):
        monkeypatch.setattr(gui.main_window, "DownloadWorker", functools.partial(DownloadWorker, mirrors=urls))

    return use


def click_download(qtbot, window, folder):
    panel = window.training_panel
    panel.set_data_dir(str(folder))
    qtbot.mouseClick(panel.download_button, LEFT)
    assert not panel.download_button.isEnabled(), "one download at a time"
    assert isinstance(window.download_dialog, QProgressDialog) and window.download_dialog.isVisible()
    return window.download_thread


def test_without_network_the_error_says_to_connect_or_choose_a_folder(qtbot, make_window, tmp_path, use_mirrors):
    use_mirrors(closed_port_url())
    window = make_window()
    folder = tmp_path / "mnist"
    thread = click_download(qtbot, window, folder)
    title, text = take_error(qtbot, window)
    assert title == "Download failed"
    assert "connect" in text.lower() and "folder" in text.lower()
    assert all(name in text for name in NAMES), "the message names the files to get"
    qtbot.waitUntil(lambda: thread.isFinished(), timeout=2000)
    # the app goes on: no dialog left, the button back, nothing that looks like a dataset
    assert window.isVisible() and window.download_dialog is None
    assert window.training_panel.download_button.isEnabled()
    assert window.training_panel.start_button.isEnabled()
    assert not any(folder.glob("*-ubyte*"))
    assert window.current is not None and "bundled pretrained model" in window.drawing.model_label.text()
