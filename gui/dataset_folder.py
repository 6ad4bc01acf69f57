"""The dataset folder chosen in the training panel: what it holds (said under the field), loading
its dataset in the background for whoever needs it, and downloading MNIST into it.

`with_dataset(then)` is how a view asks for the test images: `then()` runs at once when the
folder's dataset is loaded, else once the load (one for all who wait) arrives. The loaded dataset
is the session's (a run loads it too, and the next run reuses it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from core.data.dataset import Dataset, default_data_dir, has_dataset_files, load_dataset, missing_files
from gui.background import BackgroundTasks
from gui.download_worker import DownloadWorker, MnistDownload
from gui.messages import Messages
from gui.training_panel import TrainingPanel
from gui.training_session import TrainingSession


class DatasetFolder(QObject):
    loaded = Signal(object)  # Dataset: by a run or in the background
    load_failed = Signal(str)  # a background load failed: the message

    def __init__(self, panel: TrainingPanel, session: TrainingSession, settings: QSettings, messages: Messages,
                 parent: QWidget) -> None:
        super().__init__(parent)
        self.panel, self.session, self.settings, self.messages = panel, session, settings, messages
        self.download: MnistDownload | None = None  # the latest download, with its thread and dialog
        # what waits for the load in progress: (then, missing), as with_dataset was asked
        self._after_dataset: list[tuple[Callable[[], None], Callable[[str], None] | None]] = []
        self._tasks = BackgroundTasks(self)
        self._dataset: Dataset | None = None  # the one loaded, by a run or in the background
        session.dataset_source = lambda: self._dataset
        panel.browse_requested.connect(self._on_browse)
        panel.download_requested.connect(self.download_mnist)
        panel.data_dir_field.editingFinished.connect(self.show_status)
        session.dataset_loaded.connect(self.adopt)

    @property
    def dataset(self) -> Dataset | None:
        return self._dataset

    def folder(self) -> Path:
        return Path(self.panel.data_dir() or ".")

    # -- what the folder holds ---------------------------------------------------------------------
    def show_status(self) -> None:
        """Remember the folder and say under the field what it holds."""
        folder = self.folder()
        self.settings.setValue("data_dir", str(folder))
        dataset = self.dataset
        if dataset is not None and dataset.folder == folder:
            self.panel.set_dataset_status(f"{dataset.name}: {len(dataset.train_images):,} "
                                          f"training, {len(dataset.test_images):,} test images")
        elif has_dataset_files(folder):
            self.panel.set_dataset_status("The four IDX files are here.")
        elif folder.is_dir():
            self.panel.set_dataset_status(f"Missing here: {', '.join(missing_files(folder))}. "
                                          "Download MNIST or choose another folder.")
        else:
            self.panel.set_dataset_status("No such folder yet: Download MNIST puts the files there.")

    def missing_message(self, folder: Path | None = None) -> str:
        folder = self.folder() if folder is None else folder
        absent = ", ".join(missing_files(folder)) if folder.is_dir() else "no such folder"
        return (f"{folder} does not hold the four IDX files ({absent}).\n\n"
                "Use Download MNIST, or choose a folder that holds them.")

    def _on_browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.parent(), "Dataset folder", self.panel.data_dir())
        if folder:
            self.panel.set_data_dir(folder)
            self.show_status()

    # -- loading ----------------------------------------------------------------------------------
    def with_dataset(self, then: Callable[[], None], missing: Callable[[str], None] | None = None) -> bool:
        """Call `then()` once the dataset of the chosen folder is loaded (in the background if needed).

        Without the files: `missing(message)` when given (a view says so in place: visiting a tab
        must not pop a dialog), else a dialog (the user asked for something that needs them)."""
        folder = self.folder()
        if self.dataset is not None and self.dataset.folder == folder:
            then()
            return True
        if not has_dataset_files(folder):
            if missing is not None:
                missing(self.missing_message(folder).replace("\n\n", " "))
            else:
                self.messages.error("No dataset", self.missing_message(folder))
            return False
        self._after_dataset.append((then, missing))
        if len(self._after_dataset) == 1:  # else the load in progress serves this request too
            self.messages.status(f"Loading the dataset in {folder}…")
            self._tasks.start(load_dataset, folder, done=self._on_background_dataset,
                              failed=self._on_background_dataset_failed)
        return True

    def preload(self) -> bool:
        """Start loading the folder's dataset when its files are there and it is not loaded: True if it started."""
        if self.dataset is not None or not has_dataset_files(self.folder()):
            return False
        # the views fill in when `loaded` arrives; nobody asked, so no dialog if the folder changes meanwhile
        return self.with_dataset(lambda: None, missing=lambda _message: None)

    @Slot(object)
    def _on_background_dataset(self, dataset: Dataset) -> None:
        self.adopt(dataset)
        self.messages.clear_status()
        waiting, self._after_dataset = self._after_dataset, []
        for then, missing in waiting:  # asked again: the folder may have changed during the load
            self.with_dataset(then, missing)

    @Slot(str)
    def _on_background_dataset_failed(self, message: str) -> None:
        self._after_dataset = []  # what waited for this dataset will not run on a later one
        self.messages.clear_status()
        self.load_failed.emit(message)
        self.messages.error("Could not load the dataset", message)

    @Slot(object)
    def adopt(self, dataset: Dataset) -> None:
        """A dataset loaded elsewhere (by a run) is the folder's from now on."""
        self._dataset = dataset
        self.loaded.emit(dataset)
        self.show_status()

    # -- download ---------------------------------------------------------------------------------
    def download_mnist(self) -> None:
        folder = self.panel.data_dir() or str(default_data_dir())
        self.download = MnistDownload(DownloadWorker(folder), self.parent())
        self.download.finished.connect(self._on_download_finished)
        self.download.failed.connect(self._on_download_failed)
        self.download.cancelled.connect(self._on_download_cancelled)
        self.panel.download_button.setEnabled(False)
        self.download.start()

    @property
    def download_dialog(self) -> QProgressDialog | None:
        return None if self.download is None else self.download.dialog

    @property
    def download_thread(self):
        return None if self.download is None else self.download.thread

    @Slot(str)
    def _on_download_finished(self, folder: str) -> None:
        self.panel.download_button.setEnabled(True)
        self.panel.set_data_dir(folder)
        self.show_status()
        self.messages.status(f"MNIST downloaded into {folder}", 8000)

    @Slot(str)
    def _on_download_failed(self, message: str) -> None:
        self.panel.download_button.setEnabled(True)
        self.messages.error("Download failed", message)

    @Slot()
    def _on_download_cancelled(self) -> None:
        self.panel.download_button.setEnabled(True)
        self.messages.status("Download cancelled; the files fetched so far are kept.", 8000)

    def shutdown(self) -> None:
        """On closing: stop a download and wait for its thread."""
        if self.download is not None:
            self.download.shutdown()
