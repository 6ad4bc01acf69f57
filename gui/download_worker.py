"""Downloading MNIST off the GUI thread, with a progress dialog and a cancel that keeps what was fetched.

`MnistDownload` owns one download: its worker, its QThread and its progress dialog. The dialog is
not modal on purpose: a modal QProgressDialog handles events inside `setValue`, where the
download's own "finished" report could run and delete the dialog under its feet. Cancel (the
dialog's button, or closing the window) breaks off even a transfer stuck on a silent mirror
(core.data.download.Cancellation), so the thread always ends within a moment.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from core.data.download import Cancellation, Cancelled, DownloadProgress, download_mnist
from core.errors import DownloadError
from gui.worker_thread import WorkerThread

PROGRESS_REPORTS_PER_SECOND = 20


class DownloadWorker(QObject):
    progressed = Signal(object)  # DownloadProgress, at most PROGRESS_REPORTS_PER_SECOND a second
    finished = Signal(str)  # the folder now holding MNIST
    failed = Signal(str, bool)  # message, cancelled
    done = Signal()

    def __init__(self, folder: str, mirrors: tuple[str, ...] | None = None,
                 checksums: dict[str, str] | None = None) -> None:
        super().__init__()
        self.folder = folder
        self.mirrors = mirrors
        self.checksums = checksums
        self.cancellation = Cancellation()
        self._last_report = 0.0

    def cancel(self) -> None:
        """From any thread: stops the download, even one blocked on the network."""
        self.cancellation.cancel()

    @Slot()
    def run(self) -> None:
        options = {} if self.mirrors is None else {"mirrors": self.mirrors}
        try:
            path = download_mnist(self.folder, progress=self._report, should_stop=self.cancellation,
                                  checksums=self.checksums, **options)
            self.finished.emit(str(path))
        except Cancelled as error:
            self.failed.emit(str(error), True)
        except DownloadError as error:
            self.failed.emit(str(error), False)
        except OSError as error:  # the data folder itself (full disk, no permission): say so, end the dialog
            self.failed.emit(f"{self.folder}: {error.strerror or error}", False)
        finally:
            self.done.emit()

    def _report(self, progress: DownloadProgress) -> None:
        now = time.monotonic()
        if now - self._last_report >= 1.0 / PROGRESS_REPORTS_PER_SECOND or progress.bytes_done == progress.bytes_total:
            self._last_report = now
            self.progressed.emit(progress)


class MnistDownload(QObject):
    """One download with its dialog; says `finished(folder)`, `failed(message)` or `cancelled()`."""

    finished = Signal(str)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, worker: DownloadWorker, parent: QWidget) -> None:
        super().__init__(parent)
        self.worker = worker
        self.worker_thread = WorkerThread(worker, "download", self)
        self.thread = self.worker_thread.thread
        worker.progressed.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        self.dialog = QProgressDialog("Connecting…", "Cancel", 0, 1000, parent)
        self.dialog.setWindowTitle("Downloading MNIST")
        self.dialog.setWindowModality(Qt.WindowModality.NonModal)
        self.dialog.setMinimumDuration(0)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self.cancel)

    def start(self) -> None:
        self.dialog.show()
        self.worker_thread.start()

    @Slot()
    def cancel(self) -> None:
        self.worker.cancel()  # called directly: a queued call would wait behind the busy download

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Cancel and wait for the thread (closing the window); True when it has ended."""
        self.worker.cancel()
        return self.worker_thread.shutdown(timeout_ms)

    @Slot(object)
    def _on_progress(self, progress: DownloadProgress) -> None:
        if self.dialog is None:
            return
        total = progress.bytes_total or 0
        fraction = progress.bytes_done / total if total else 0.0
        self.dialog.setValue(int(1000 * (progress.file_index + fraction) / progress.file_count))
        self.dialog.setLabelText(f"{progress.file_name} ({progress.file_index + 1} of "
                                 f"{progress.file_count}): {progress.bytes_done / 1e6:.1f} MB")

    @Slot(str)
    def _on_finished(self, folder: str) -> None:
        self._close_dialog()
        self.finished.emit(folder)

    @Slot(str, bool)
    def _on_failed(self, message: str, cancelled: bool) -> None:
        self._close_dialog()
        if cancelled:
            self.cancelled.emit()
        else:
            self.failed.emit(message)

    def _close_dialog(self) -> None:
        if self.dialog is not None:
            self.dialog.canceled.disconnect(self.cancel)  # hiding a progress dialog emits canceled
            self.dialog.hide()
            self.dialog.deleteLater()
            self.dialog = None
