"""The main window: assembles the panels and wires their signals; the work happens elsewhere.

Left: the training controls and the session's runs. Middle: the curves. Right: the drawing pad
with the current model's prediction. Training runs in a QThread (gui/training_worker.py); the
current model is the one being trained (a snapshot of its weights), the last finished run, or
the one loaded from a file.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QLabel, QMainWindow, QMessageBox, QProgressDialog, QSplitter,
                               QTabWidget, QVBoxLayout, QWidget)

from core.config import TrainConfig
from core.dataset import Dataset, default_data_dir, has_dataset_files, missing_files, resolve_data_dir
from core.download import DownloadProgress
from core.errors import ConfigError, EngineError
from core.events import EpochEnd, RunEnd
from core.model_file import load_checkpoint, save_checkpoint
from core.network import MLP
from core.run_state import Checkpoint
from gui.curves_view import CurvesView
from gui.download_worker import DownloadWorker, start_download
from gui.drawing_panel import DrawingPanel
from gui.runs_list import RunsList
from gui.training_panel import OPTIMIZER_LABELS, TrainingPanel
from gui.training_worker import BatchProgress, TrainingThread, TrainingWorker, WeightsSnapshot


def describe_run(config: TrainConfig) -> str:
    return f"{OPTIMIZER_LABELS[config.optimizer]} lr {config.lr:g}"


def describe_checkpoint(checkpoint: Checkpoint, source: str) -> str:
    accuracy = "" if checkpoint.test_acc is None else f", test accuracy {checkpoint.test_acc:.2%}"
    epochs = len(checkpoint.history.epoch_losses)
    return (f"Model: {source} ({describe_run(checkpoint.config)}, {epochs} epochs on "
            f"{checkpoint.dataset_name}{accuracy})")


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, initial_model: Path | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        self.dataset: Dataset | None = None
        self.current: Checkpoint | None = None  # the model Save writes and the pad uses when idle
        self.training: TrainingThread | None = None
        self.download_thread = None
        self.download_worker: DownloadWorker | None = None
        self.download_dialog: QProgressDialog | None = None
        self._next_run_id = 0
        self._live_run_id: int | None = None
        self._live_label = ""

        self.setWindowTitle("MNIST MLP")
        self.training_panel = TrainingPanel(self.settings.value("data_dir", "") or str(resolve_data_dir(None)))
        self.runs_list = RunsList()
        self.curves = CurvesView()
        self.drawing = DrawingPanel()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.curves, "Curves")
        self._build_layout()
        self._build_menus()
        self.speed_label = QLabel()
        self.statusBar().addPermanentWidget(self.speed_label)
        self._wire()
        self._on_data_dir_edited()
        if initial_model is not None:
            self.load_model(initial_model, source="bundled pretrained model", show_errors=False)
        self.resize(1280, 800)

    # -- construction ---------------------------------------------------------------------------
    def _build_layout(self) -> None:
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(8, 8, 4, 8)
        left_layout.addWidget(self.training_panel)
        left_layout.addWidget(QLabel("<b>Runs</b>"))
        left_layout.addWidget(self.runs_list, 1)
        left.setMinimumWidth(270)
        left.setMaximumWidth(380)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.tabs)
        splitter.addWidget(self.drawing)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([300, 620, 360])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.load_action = QAction("&Load model…", self, shortcut=QKeySequence.StandardKey.Open,
                                   triggered=self._on_load_triggered)
        self.save_action = QAction("&Save model…", self, shortcut=QKeySequence.StandardKey.Save,
                                   triggered=self._on_save_triggered)
        self.quit_action = QAction("&Quit", self, shortcut=QKeySequence("Ctrl+Q"), triggered=self.close)
        for action in (self.load_action, self.save_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(QAction("&Keyboard shortcuts", self, triggered=self._show_shortcuts))

    def _wire(self) -> None:
        panel = self.training_panel
        panel.start_requested.connect(self.start_training)
        panel.pause_toggled.connect(self._on_pause_toggled)
        panel.stop_requested.connect(self.stop_training)
        panel.browse_requested.connect(self._on_browse)
        panel.download_requested.connect(self.download_mnist)
        panel.data_dir_field.editingFinished.connect(self._on_data_dir_edited)
        self.runs_list.visibility_changed.connect(self.curves.set_run_visible)
        self.runs_list.remove_requested.connect(self._on_remove_run)

    # -- messages ---------------------------------------------------------------------------------
    def show_error(self, title: str, text: str) -> QMessageBox:
        """A window-modal message that does not block the event loop (training goes on)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def _show_shortcuts(self) -> None:
        QMessageBox.information(self, "Keyboard shortcuts", (
            "Ctrl+Return  start training\nCtrl+P  pause / resume\nCtrl+.  stop\n"
            "Ctrl+S  save model\nCtrl+O  load model\nCtrl+Q  quit\n\n"
            "On the drawing pad: Ctrl+Z undo, Esc or Delete clear, right-click undo"))

    # -- dataset ----------------------------------------------------------------------------------
    def _on_browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder", self.training_panel.data_dir())
        if folder:
            self.training_panel.set_data_dir(folder)
            self._on_data_dir_edited()

    def _on_data_dir_edited(self) -> None:
        folder = Path(self.training_panel.data_dir() or ".")
        self.settings.setValue("data_dir", str(folder))
        if self.dataset is not None and self.dataset.folder == folder:
            self.training_panel.set_dataset_status(f"{self.dataset.name}: {len(self.dataset.train_images):,} "
                                                   f"training, {len(self.dataset.test_images):,} test images")
        elif has_dataset_files(folder):
            self.training_panel.set_dataset_status("The four IDX files are here.")
        elif folder.is_dir():
            self.training_panel.set_dataset_status(f"Missing here: {', '.join(missing_files(folder))}. "
                                                   "Download MNIST or choose another folder.")
        else:
            self.training_panel.set_dataset_status("No such folder yet: Download MNIST puts the files there.")

    def download_mnist(self) -> None:
        folder = self.training_panel.data_dir() or str(default_data_dir())
        self.download_worker = DownloadWorker(folder)
        self.download_dialog = QProgressDialog("Connecting…", "Cancel", 0, 1000, self)
        self.download_dialog.setWindowTitle("Downloading MNIST")
        self.download_dialog.setMinimumDuration(0)
        self.download_dialog.setAutoClose(False)
        self.download_dialog.setAutoReset(False)
        self.download_dialog.canceled.connect(self.download_worker.cancel)
        self.download_worker.progressed.connect(self._on_download_progress)
        self.download_worker.finished.connect(self._on_download_finished)
        self.download_worker.failed.connect(self._on_download_failed)
        self.training_panel.download_button.setEnabled(False)
        self.download_dialog.open()
        self.download_thread = start_download(self.download_worker)

    @Slot(object)
    def _on_download_progress(self, progress: DownloadProgress) -> None:
        if self.download_dialog is None:
            return
        total = progress.bytes_total or 0
        fraction = progress.bytes_done / total if total else 0.0
        self.download_dialog.setValue(int(1000 * (progress.file_index + fraction) / progress.file_count))
        megabytes = progress.bytes_done / 1e6
        self.download_dialog.setLabelText(
            f"{progress.file_name} ({progress.file_index + 1} of {progress.file_count}): {megabytes:.1f} MB")

    @Slot(str)
    def _on_download_finished(self, folder: str) -> None:
        self._close_download_dialog()
        self.training_panel.set_data_dir(folder)
        self._on_data_dir_edited()
        self.statusBar().showMessage(f"MNIST downloaded into {folder}", 8000)

    @Slot(str, bool)
    def _on_download_failed(self, message: str, cancelled: bool) -> None:
        self._close_download_dialog()
        if cancelled:
            self.statusBar().showMessage("Download cancelled; the files fetched so far are kept.", 8000)
        else:
            self.show_error("Download failed", message)

    def _close_download_dialog(self) -> None:
        if self.download_dialog is not None:
            self.download_dialog.reset()
            self.download_dialog.hide()
            self.download_dialog.deleteLater()
            self.download_dialog = None
        self.training_panel.download_button.setEnabled(self.training is None)

    # -- training ---------------------------------------------------------------------------------
    def is_training(self) -> bool:
        return self.training is not None

    def start_training(self) -> None:
        if self.is_training():
            return
        try:
            config = self.training_panel.config()
        except ConfigError as error:
            self.show_error("Invalid settings", str(error))
            return
        folder = Path(self.training_panel.data_dir() or ".")
        if not has_dataset_files(folder):
            self.show_error("No dataset", f"{folder} does not hold the four IDX files "
                            f"({', '.join(missing_files(folder)) if folder.is_dir() else 'no such folder'}).\n\n"
                            "Use Download MNIST, or choose a folder that holds them.")
            return
        dataset = self.dataset if self.dataset is not None and self.dataset.folder == folder else None
        worker = TrainingWorker(config, str(folder), dataset)
        worker.dataset_loaded.connect(self._on_dataset_loaded)
        worker.batches_finished.connect(self._on_batches_finished)
        worker.epoch_finished.connect(self._on_epoch_finished)
        worker.weights_changed.connect(self._on_weights_changed)
        worker.run_finished.connect(self._on_run_finished)
        worker.run_failed.connect(self._on_run_failed)
        worker.done.connect(self._on_worker_done)
        self.training = TrainingThread(worker, self)
        self._live_run_id = None
        self._live_label = describe_run(config)
        self.training_panel.set_running(True)
        self.training_panel.show_message("loading the dataset…" if dataset is None else "starting…")
        self.save_action.setEnabled(False)
        self.training.start()

    def _on_pause_toggled(self, paused: bool) -> None:
        if self.training is None:
            return
        if paused:
            self.training.worker.pause()
            self.statusBar().showMessage("Paused", 3000)
        else:
            self.training.worker.resume()

    def stop_training(self) -> None:
        if self.training is not None:
            self.training.worker.stop()
            self.training_panel.show_message("stopping…")

    @Slot(object)
    def _on_dataset_loaded(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._on_data_dir_edited()

    def _ensure_live_run(self, batches_per_epoch: int) -> int:
        if self._live_run_id is None:
            self._live_run_id = self._new_run(self._live_label, batches_per_epoch, live=True)
        return self._live_run_id

    def _new_run(self, label: str, batches_per_epoch: int, live: bool) -> int:
        run_id = self._next_run_id
        self._next_run_id += 1
        run = self.curves.begin_run(run_id, label, batches_per_epoch, live=live)
        self.runs_list.add_run(run_id, label, run.color)
        return run_id

    @Slot(object)
    def _on_batches_finished(self, progress: BatchProgress) -> None:
        run_id = self._ensure_live_run(progress.batches_per_epoch)
        self.curves.add_batches(run_id, progress.new_losses)
        if progress.batch:
            self.training_panel.show_progress(progress.epoch, progress.epochs, progress.batch,
                                              progress.batches_per_epoch, progress.seconds_left)
            self.speed_label.setText(f"{progress.samples_per_second:,.0f} samples/s")

    @Slot(object)
    def _on_epoch_finished(self, event: EpochEnd) -> None:
        run_id = self._ensure_live_run(1)
        self.curves.add_epoch(run_id, event.loss, event.val_acc)
        self.statusBar().showMessage(f"Epoch {event.epoch}/{event.epochs}: loss {event.loss:.4f}, "
                                     f"validation accuracy {event.val_acc:.2%} ({event.seconds:.1f} s)", 10000)

    @Slot(object)
    def _on_weights_changed(self, snapshot: WeightsSnapshot) -> None:
        model = MLP(snapshot.layer_sizes, snapshot.parameters)
        self.drawing.set_model(model, snapshot.class_names, f"Model: the run in progress ({self._live_label})")

    @Slot(object, object)
    def _on_run_finished(self, end: RunEnd, checkpoint: Checkpoint) -> None:
        if self._live_run_id is not None:
            self.curves.finish_run(self._live_run_id, end.test_acc)
            self.runs_list.set_text(self._live_run_id, self.curves.runs[self._live_run_id].legend_text())
        self._set_current(checkpoint, f"this session's run ({end.status})")
        if end.status == "diverged":
            self.show_error("Training diverged", end.message)
            self.training_panel.show_message("diverged", "lower the learning rate")
        elif end.status == "stopped":
            self.training_panel.show_message(f"stopped after {end.epochs_done} epochs",
                                             f"test accuracy {end.test_acc:.2%}")
        else:
            self.training_panel.show_message(f"done: test accuracy {end.test_acc:.2%}",
                                             f"{end.epochs_done} epochs in {end.elapsed:.1f} s")
            self.training_panel.progress.setValue(1000)

    @Slot(str)
    def _on_run_failed(self, message: str) -> None:
        self.training_panel.show_message("could not start")
        self.show_error("Training could not start", message)

    @Slot()
    def _on_worker_done(self) -> None:
        if self.training is not None:
            self.training.thread.wait(2000)
            self.training.deleteLater()
            self.training = None
        self.training_panel.set_running(False)
        self.save_action.setEnabled(self.current is not None)
        self.speed_label.clear()

    def _on_remove_run(self, run_id: int) -> None:
        if run_id == self._live_run_id and self.is_training():
            self.statusBar().showMessage("The run in progress cannot be removed; stop it first.", 5000)
            return
        self.curves.remove_run(run_id)
        self.runs_list.remove_run(run_id)

    # -- models -----------------------------------------------------------------------------------
    def _set_current(self, checkpoint: Checkpoint, source: str) -> None:
        self.current = checkpoint
        description = describe_checkpoint(checkpoint, source)
        self.drawing.set_model(checkpoint.model.copy(), checkpoint.class_names, description)
        self.save_action.setEnabled(not self.is_training())
        self.setWindowTitle(f"MNIST MLP — {source}")

    def load_model(self, path: str | Path, source: str | None = None, show_errors: bool = True) -> bool:
        """Make the model in `path` current; on failure say why and keep the current one."""
        try:
            checkpoint = load_checkpoint(path)
        except EngineError as error:
            if show_errors:
                self.show_error("Cannot load the model", f"{error}\n\nThe current model is kept.")
            else:
                self.statusBar().showMessage(str(error), 10000)
            return False
        self._set_current(checkpoint, source or Path(path).name)
        history = checkpoint.history
        if history.epoch_losses:
            batches = max(1, len(history.batch_losses) // max(len(history.epoch_losses), 1))
            label = f"{source or Path(path).name}: {describe_run(checkpoint.config)}"
            run_id = self._next_run_id
            self._next_run_id += 1
            run = self.curves.show_history(run_id, label, history, batches)
            self.runs_list.add_run(run_id, run.legend_text(), run.color)
        return True

    def _on_load_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load model", self.settings.value("model_dir", ""),
                                              "Models (*.npz);;All files (*)")
        if path:
            self.settings.setValue("model_dir", str(Path(path).parent))
            self.load_model(path)

    def save_model(self, path: str | Path) -> bool:
        if self.current is None:
            return False
        try:
            saved = save_checkpoint(path, self.current)
        except OSError as error:
            self.show_error("Cannot save the model", f"{path}: {error.strerror or error}")
            return False
        self.statusBar().showMessage(f"Saved the model to {saved}", 8000)
        return True

    def _on_save_triggered(self) -> None:
        if self.current is None:
            self.show_error("Nothing to save", "Train a model or load one first.")
            return
        start = str(Path(self.settings.value("model_dir", str(Path.home()))) / "model.npz")
        path, _ = QFileDialog.getSaveFileName(self, "Save model", start, "Models (*.npz)")
        if path:
            if not path.endswith(".npz"):
                path += ".npz"
            self.settings.setValue("model_dir", str(Path(path).parent))
            self.save_model(path)

    # -- closing ----------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the training and download threads and wait for them, so none outlives the window."""
        if self.training is not None:
            self.training.shutdown()
        if self.download_worker is not None and self.download_thread is not None:
            self.download_worker.cancel()
            self.download_thread.quit()
            self.download_thread.wait(5000)
        event.accept()
