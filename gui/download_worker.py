"""Downloading MNIST off the GUI thread, with progress and a cancel that keeps what was fetched."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QThread, Signal, Slot

from core.download import Cancelled, DownloadProgress, download_mnist
from core.errors import DownloadError


class DownloadWorker(QObject):
    progressed = Signal(object)  # DownloadProgress
    finished = Signal(str)  # the folder now holding MNIST
    failed = Signal(str, bool)  # message, cancelled
    done = Signal()

    def __init__(self, folder: str, mirrors: tuple[str, ...] | None = None) -> None:
        super().__init__()
        self.folder = folder
        self.mirrors = mirrors
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @Slot()
    def run(self) -> None:
        options = {} if self.mirrors is None else {"mirrors": self.mirrors}
        try:
            path = download_mnist(self.folder, progress=self._report, should_stop=self._cancel.is_set, **options)
            self.finished.emit(str(path))
        except Cancelled as error:
            self.failed.emit(str(error), True)
        except DownloadError as error:
            self.failed.emit(str(error), False)
        finally:
            self.done.emit()

    def _report(self, progress: DownloadProgress) -> None:
        self.progressed.emit(progress)


def start_download(worker: DownloadWorker) -> QThread:
    """Run `worker` in a new QThread that ends when the download does."""
    thread = QThread()
    thread.setObjectName("download")
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.done.connect(thread.quit)
    thread.start()
    return thread
