"""GUI fixtures: a window built through the application's factory, with its settings in a temp ini file.

Every training thread a test starts is recorded, and the test fails if one is still running once
the window has been closed.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

import gui.training_session
from core.data.dataset import load_dataset
from core.engine.config import OPTIMIZERS, TrainConfig
from core.engine.events import ChunkEnd
from core.engine.trainer import Trainer
from gui.app import create_main_window
from gui.worker_thread import WorkerThread


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels(tiny_dataset_dir) -> None:
    """numba compiles the training kernels on their first use, for seconds on a cold cache: once, up front,
    so that no test's timing includes it."""
    dataset = load_dataset(tiny_dataset_dir)
    for optimizer in OPTIMIZERS:
        trainer = Trainer(TrainConfig.for_optimizer(optimizer, hidden=(32, 16), batch_size=32, epochs=1), dataset)
        next(event for event in trainer.run() if isinstance(event, ChunkEnd))


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def training_threads(monkeypatch) -> list:
    """The QThreads of the training runs the window starts during the test, in order."""
    threads = []

    class RecordedWorkerThread(WorkerThread):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            threads.append(self.thread)

    monkeypatch.setattr(gui.training_session, "WorkerThread", RecordedWorkerThread)
    yield threads
    left_running = [thread for thread in threads if thread.isRunning()]
    for thread in left_running:  # let the process live on to report the failure
        thread.quit()
        thread.wait(10_000)
    assert not left_running, "a training thread was still running after its window closed"


@pytest.fixture
def make_window(qtbot, settings, training_threads):
    """make_window(with_pretrained=True, data_dir=None) -> a shown, active MainWindow."""

    def make(with_pretrained: bool = True, data_dir=None):
        if data_dir is not None:
            settings.setValue("data_dir", str(data_dir))
        window = create_main_window(settings, with_pretrained=with_pretrained)
        qtbot.addWidget(window)  # closed (and so its threads stopped) at the end of the test
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()  # shortcuts only reach the active window
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
        return window

    return make


@pytest.fixture
def window(make_window, tiny_dataset_dir):
    """The window as a user opens it, with the bundled model and the small generated dataset chosen."""
    return make_window(data_dir=tiny_dataset_dir)
