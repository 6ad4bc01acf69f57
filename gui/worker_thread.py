"""A worker object's own QThread: the one thread set-up shared by the download and the training runs.

The worker (a QObject) has a `run()` slot that does the whole job and a `done` signal it emits
last; it is moved to the thread, which starts it and quits when it is done. Stopping is the
worker's own business (a flag its loop checks: a queued slot would wait behind the busy loop),
so `shutdown()` is called after the worker was told to stop.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QThread


class WorkerThread(QObject):
    """Runs `worker.run()` in a QThread named `name`, started, waited for and shut down from the GUI thread."""

    def __init__(self, worker: QObject, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName(name)
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        # quit() from the worker thread itself: queued to the GUI thread, it would wait behind the
        # very slots that want the thread gone
        worker.done.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)

    def start(self) -> None:
        self.thread.start()

    def is_running(self) -> bool:
        return self.thread.isRunning()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Quit and wait for the thread (its worker told to stop first); True when it has ended."""
        self.thread.quit()
        return self.thread.wait(timeout_ms)
