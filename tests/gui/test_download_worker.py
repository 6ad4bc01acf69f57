"""Download MNIST from the window, against local servers on 127.0.0.1 (never the real network).

MainWindow.download_mnist() builds DownloadWorker(folder) with the public mirrors; the tests put
the local ones in (and, for generated files, their checksums) through the `use_mirrors` fixture.
"""

import gzip
import hashlib
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog, QPushButton

import gui.dataset_folder
from core.data.dataset import MNIST_FILE_NAMES, ROLES
from gui.download_worker import DownloadWorker
from tests.fake_data import write_dataset
from tests.gui.window_driver import LEFT, open_errors, take_error
from tests.http_fixtures import PROXY_VARIABLES, SilentServer, closed_port_url, start_mirror, stop_mirror

NAMES = [MNIST_FILE_NAMES[role] for role in ROLES]


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """urllib honours *_proxy variables; a proxy must not stand between the tests and 127.0.0.1."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def use_mirrors(monkeypatch):
    """use_mirrors(url, ...): the window's Download MNIST fetches from these instead of the public mirrors.

    Returns an Event set from the download's own thread when it ends, so a test can keep the GUI
    thread busy (not handling events) until then.
    """

    def use(*urls, checksums=None):
        ended = threading.Event()

        def make_worker(folder):
            worker = DownloadWorker(folder, mirrors=urls, checksums=checksums)
            worker.done.connect(ended.set, Qt.ConnectionType.DirectConnection)
            return worker

        monkeypatch.setattr(gui.dataset_folder, "DownloadWorker", make_worker)
        return ended

    return use


@pytest.fixture
def mirrors():
    started = []

    def start(files, mode="plain"):
        server = start_mirror(files, mode)
        started.append(server)
        return server

    yield start
    for server in started:
        stop_mirror(server)


@pytest.fixture(scope="module")
def generated_files(tmp_path_factory):
    folder = write_dataset(tmp_path_factory.mktemp("served"), train_count=2000, test_count=100, seed=5)
    return {name: (folder / name).read_bytes() for name in NAMES}


def click_download(qtbot, window, folder):
    panel = window.training_panel
    panel.set_data_dir(str(folder))
    qtbot.mouseClick(panel.download_button, LEFT)
    assert not panel.download_button.isEnabled(), "one download at a time"
    assert isinstance(window.data.download_dialog, QProgressDialog) and window.data.download_dialog.isVisible()
    return window.data.download_thread


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
    assert window.isVisible() and window.data.download_dialog is None
    assert window.training_panel.download_button.isEnabled()
    assert window.training_panel.start_button.isEnabled()
    assert not any(folder.glob("*-ubyte*"))
    assert window.current is not None and "bundled pretrained model" in window.drawing.model_label.text()


def test_a_download_in_the_window_brings_the_real_mnist(qtbot, make_window, tmp_path, use_mirrors, mirrors,
                                                        mnist_dir):
    files = {name: (mnist_dir / name).read_bytes() for name in NAMES}
    server = mirrors(files)
    ended = use_mirrors(closed_port_url(), server.url)  # the first mirror is down: the second one serves
    window = make_window()
    folder = tmp_path / "downloaded"
    thread = click_download(qtbot, window, folder)
    assert ended.wait(30), "the download should end"  # the GUI busy meanwhile: its reports wait in line
    qtbot.waitUntil(lambda: "MNIST downloaded into" in window.statusBar().currentMessage(), timeout=5000)
    assert [entry[0] for entry in server.log] == NAMES
    assert sorted(path.name for path in folder.iterdir()) == sorted(NAMES)
    for name in NAMES:
        assert (folder / name).read_bytes() == files[name]
    assert window.training_panel.data_dir() == str(folder)
    assert window.training_panel.dataset_status.text() == "The four IDX files are here."
    assert window.data.download_dialog is None and window.training_panel.download_button.isEnabled()
    assert not open_dialogs(window)
    qtbot.waitUntil(lambda: thread.isFinished(), timeout=2000)


def test_a_download_of_generated_files_completes_and_the_folder_becomes_the_dataset(
        qtbot, make_window, tmp_path, use_mirrors, mirrors, generated_files):
    checksums = {name: hashlib.sha256(gzip.decompress(content)).hexdigest()
                 for name, content in generated_files.items()}
    server = mirrors(generated_files)
    use_mirrors(server.url, checksums=checksums)
    window = make_window()
    folder = tmp_path / "fetched"
    click_download(qtbot, window, folder)
    qtbot.waitUntil(lambda: "MNIST downloaded into" in window.statusBar().currentMessage(), timeout=10_000)
    assert sorted(path.name for path in folder.iterdir()) == sorted(NAMES)
    assert window.training_panel.dataset_status.text() == "The four IDX files are here."
    assert window.data.download_dialog is None and window.training_panel.download_button.isEnabled()


def open_dialogs(window):
    return [dialog for dialog in window.findChildren(QProgressDialog) if dialog.isVisible()]


def test_the_progress_dialog_follows_the_download_and_cancel_keeps_the_part(qtbot, make_window, tmp_path,
                                                                            use_mirrors, mirrors, generated_files):
    server = mirrors(generated_files, mode="slow")
    use_mirrors(server.url)
    window = make_window()
    folder = tmp_path / "mnist"
    thread = click_download(qtbot, window, folder)
    dialog = window.data.download_dialog
    qtbot.waitUntil(lambda: dialog.labelText().startswith(f"{NAMES[0]} (1 of 4)"), timeout=5000)
    qtbot.waitUntil(lambda: dialog.value() > 0, timeout=5000)
    (cancel,) = dialog.findChildren(QPushButton)
    assert cancel.text() == "Cancel"
    qtbot.mouseClick(cancel, LEFT)
    qtbot.waitUntil(lambda: "Download cancelled" in window.statusBar().currentMessage(), timeout=5000)
    qtbot.waitUntil(lambda: thread.isFinished(), timeout=2000)
    assert window.data.download_dialog is None and not open_dialogs(window)
    assert window.training_panel.download_button.isEnabled()
    partial = folder / (NAMES[0] + ".part")
    assert partial.is_file() and 0 < partial.stat().st_size < len(generated_files[NAMES[0]])
    assert not (folder / NAMES[0]).exists()
    assert not open_errors(window)


def test_closing_the_window_during_a_download_stops_its_thread(qtbot, make_window, tmp_path, use_mirrors, mirrors,
                                                               generated_files):
    server = mirrors(generated_files, mode="slow")
    use_mirrors(server.url)
    window = make_window()
    thread = click_download(qtbot, window, tmp_path / "mnist")
    qtbot.waitUntil(lambda: window.data.download_dialog is not None and window.data.download_dialog.value() > 0,
                    timeout=5000)
    window.close()  # its wait is bounded (MnistDownload.shutdown): the thread must have ended within it
    assert thread.isFinished()


def test_a_download_that_fails_after_some_progress_shows_just_the_error(qtbot, make_window, tmp_path, use_mirrors,
                                                                        mirrors, generated_files):
    # The generated files are no MNIST: the first one arrives, then fails MNIST's checksum.
    server = mirrors(generated_files)
    ended = use_mirrors(server.url)
    window = make_window()
    thread = click_download(qtbot, window, tmp_path / "mnist")
    assert ended.wait(10), "the download should end"
    # The GUI was busy meanwhile: the progress reports and the failure are all waiting to be handled.
    title, text = take_error(qtbot, window)
    assert title == "Download failed" and "checksum" in text
    assert window.data.download_dialog is None and not open_dialogs(window)
    assert window.training_panel.download_button.isEnabled()
    qtbot.waitUntil(lambda: thread.isFinished(), timeout=2000)


def test_closing_the_window_while_a_mirror_does_not_answer_returns_at_once(qtbot, make_window, tmp_path,
                                                                          use_mirrors):
    silent = SilentServer()  # a mirror behind a firewall that drops packets: connects, never answers
    use_mirrors(silent.url)
    window = make_window()
    thread = click_download(qtbot, window, tmp_path / "mnist")
    try:
        assert silent.accepted.wait(5), "the download should have connected"
        window.close()
        still_running = thread.isRunning()
    finally:
        silent.close()  # hang up, so the download fails now and its thread ends either way
        thread.wait(10_000)
    assert not still_running, "the download thread outlived the window"
