"""The main window: assembles the panels and wires their signals; the work happens elsewhere.

Left: the training controls and the runs on the charts. Middle: tabs (curves, errors, filters,
dataset, run history). Right: the drawing pad with the current model's prediction. Training
runs through the TrainingSession (one QThread per run); slow analysis runs in Qt's thread pool.
The current model is the one being trained (a snapshot of its weights), the last finished run,
or the one loaded from a file or from the run history.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressDialog,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.analysis.evaluation import Evaluation, evaluate
from core.analysis.explain import top_exciting
from core.analysis.robustness import RobustnessComparison, compare_robustness
from core.data.dataset import (
    Dataset,
    default_data_dir,
    has_dataset_files,
    load_dataset,
    missing_files,
    resolve_data_dir,
)
from core.engine.network import MLP
from core.engine.run_state import Checkpoint, History
from core.errors import EngineError
from core.files.curves_jsonl import export_curves_jsonl
from core.files.model_file import load_checkpoint, save_checkpoint
from core.runs.run_history import RunRecord, RunStore, export_curves_csv
from core.wording import counted
from gui.background import run_in_background, wait_for_background_work
from gui.curves_view import CurvesView
from gui.dataset_view import DatasetView
from gui.download_worker import DownloadWorker, MnistDownload
from gui.drawing_panel import DrawingPanel
from gui.errors_view import ErrorsView
from gui.filters_view import FiltersView
from gui.handwriting import FineTuneReport, HandwritingTeacher
from gui.history_view import HistoryView
from gui.interchange_actions import InterchangeActions
from gui.kernel_status import KernelStatus
from gui.map_view import MapView
from gui.race_table import RaceTable
from gui.run_controller import RunController, describe_run
from gui.runs_list import RunsList
from gui.training_panel import OPTIMIZER_LABELS, TrainingPanel
from gui.training_session import TrainingSession

CSV_FILTER = "CSV files (*.csv)"
JSONL_FILTER = "JSON Lines, as train --json prints (*.jsonl)"


def describe_checkpoint(checkpoint: Checkpoint, source: str) -> str:
    accuracy = "" if checkpoint.test_acc is None else f", test accuracy {checkpoint.test_acc:.2%}"
    epochs = len(checkpoint.history.epoch_losses)
    return (f"Model: {source} ({describe_run(checkpoint.config)}, {counted(epochs, 'epoch')} on "
            f"{checkpoint.dataset_name}{accuracy})")


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, initial_model: Path | None = None,
                 store: RunStore | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        self.store = store if store is not None else RunStore()
        self.session = TrainingSession(self.store, self)
        self.current: Checkpoint | None = None  # the model Save writes and the pad uses when idle
        self.download: MnistDownload | None = None  # the latest download, with its thread and dialog
        self._loaded_runs = 0
        self._live_label = ""
        self._evaluation_pending = False
        self._analysis_model: tuple[MLP, str] | None = None  # (model, description) the Errors tab scored
        self._tasks = set()
        self._after_dataset: list = []  # what to do once the dataset loading in the background arrives
        self._tuned_from: Checkpoint | None = None  # the model a fine-tuning in progress started from
        self._evaluated_description = ""

        self.setWindowTitle("MNIST MLP")
        self.training_panel = TrainingPanel(self.settings.value("data_dir", "") or str(resolve_data_dir(None)))
        self.kernel_status = KernelStatus(self.training_panel, self)  # starts preparing the kernels now
        self.runs_list = RunsList()
        self.curves = CurvesView()
        self.race_table = RaceTable()
        self.race_table.hide()
        self.errors = ErrorsView()
        self.filters = FiltersView()
        self.hidden_map = MapView()
        self.teacher = HandwritingTeacher(parent=self)
        self.dataset_view = DatasetView()
        self.history = HistoryView(self.store, self.settings)
        self.drawing = DrawingPanel()
        self.tabs = QTabWidget()
        self._build_layout()
        self._build_menus()
        self.run_controller = RunController(self)  # the training glue: Start to the charts
        self._wire()
        self.drawing.teach.set_count(len(self.teacher))
        if self.teacher.error:
            self.statusBar().showMessage(self.teacher.error, 15000)
        self._on_data_dir_edited()
        self.history.refresh()
        if initial_model is not None:
            self.load_model(initial_model, source="bundled pretrained model", show_errors=False, show_curves=False)
        self.resize(1280, 800)

    # -- construction ---------------------------------------------------------------------------
    def _build_layout(self) -> None:
        controls = QWidget()
        left_layout = QVBoxLayout(controls)
        left_layout.setContentsMargins(8, 6, 4, 6)
        left_layout.addWidget(self.training_panel)
        left_layout.addWidget(QLabel("<b>Runs on the charts</b>"))
        left_layout.addWidget(self.runs_list, 1)
        self.runs_list.list.setMinimumHeight(54)  # three runs in view
        left = QScrollArea()  # scrolls only on a screen too short for every control
        left.setWidget(controls)
        left.setWidgetResizable(True)
        left.setFrameShape(QFrame.Shape.NoFrame)
        left.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # as wide as the controls and a scroll bar: a narrower column clipped their right edge
        left.setMinimumWidth(controls.minimumSizeHint().width() + left.verticalScrollBar().sizeHint().width())
        left.setMaximumWidth(380)
        curves_tab = QWidget()
        curves_layout = QVBoxLayout(curves_tab)
        curves_layout.setContentsMargins(4, 4, 4, 4)
        curves_layout.addWidget(self.curves, 1)
        curves_layout.addWidget(self.race_table)
        self.tabs.addTab(curves_tab, "Curves")
        self.tabs.addTab(self.errors, "Errors")
        self.tabs.addTab(self.filters, "Filters")
        self.tabs.addTab(self.hidden_map, "Map")
        self.tabs.addTab(self.dataset_view, "Dataset")
        self.tabs.addTab(self.history, "History")
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
        self.interchange = InterchangeActions(self, self.settings, lambda: self.current)
        file_menu.addActions([self.interchange.import_action, self.interchange.export_action])
        file_menu.setToolTipsVisible(True)  # the greyed-out Export says what it needs
        handwriting = file_menu.addMenu("My &handwriting")
        self.export_personal_action = QAction("&Export as IDX files…", self, triggered=self._export_personal_set)
        self.clear_personal_action = QAction("&Clear…", self, triggered=self._clear_personal_set)
        handwriting.addAction(self.export_personal_action)
        handwriting.addAction(self.clear_personal_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        view_menu = self.menuBar().addMenu("&View")
        for index in range(self.tabs.count()):
            action = QAction(self.tabs.tabText(index), self, shortcut=QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda _=False, index=index: self.tabs.setCurrentIndex(index))
            view_menu.addAction(action)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(QAction("&Keyboard shortcuts", self, triggered=self._show_shortcuts))

    def _wire(self) -> None:
        panel, session = self.training_panel, self.session
        self.run_controller.wire()
        panel.browse_requested.connect(self._on_browse)
        panel.download_requested.connect(self.download_mnist)
        panel.data_dir_field.editingFinished.connect(self._on_data_dir_edited)
        self.runs_list.visibility_changed.connect(self.curves.set_run_visible)
        session.dataset_loaded.connect(self._on_dataset_loaded)
        session.warning.connect(self._on_warning)
        self.errors.evaluate_requested.connect(self.evaluate_current_model)
        self.errors.robustness.robustness_requested.connect(self.evaluate_robustness)
        self.errors.image_chosen.connect(self._on_test_image_chosen)
        self.drawing.exciting_images_requested.connect(self._show_exciting_images)
        self.hidden_map.image_chosen.connect(self._on_test_image_chosen)
        self.drawing.teach.keep_button.clicked.connect(self._keep_drawing)
        self.drawing.teach.tune_button.clicked.connect(self._fine_tune)
        self.teacher.changed.connect(self._on_personal_set_changed)
        self.teacher.tuned.connect(self._on_fine_tuned)
        self.teacher.failed.connect(self._on_fine_tune_failed)
        self.dataset_view.image_chosen.connect(self._on_training_image_chosen)
        self.history.show_requested.connect(self.show_stored_run)
        self.history.load_requested.connect(self.load_stored_run)
        self.history.export_curves_requested.connect(self._on_export_curves)
        self.history.export_png_requested.connect(self._on_export_png)
        self.history.delete_requested.connect(self._on_delete_run)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.interchange.imported.connect(self._set_current)
        self.interchange.failed.connect(self.show_error)
        self.interchange.status_message.connect(self._on_warning)
        self.save_action.changed.connect(lambda: self.interchange.set_export_allowed(self.save_action.isEnabled()))

    # -- the session's state, read from the window ----------------------------------------------------
    @property
    def dataset(self) -> Dataset | None:
        return self.session.dataset

    def is_training(self) -> bool:
        return self.session.is_running()

    # -- messages ---------------------------------------------------------------------------------
    def show_error(self, title: str, text: str) -> QMessageBox:
        """A window-modal message that does not block the event loop (training goes on)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def _show_shortcuts(self) -> None:
        QMessageBox.information(self, "Keyboard shortcuts", (
            "Ctrl+Return  start training\nCtrl+R  compare optimizers\nCtrl+P  pause / resume\nCtrl+.  stop\n"
            "Ctrl+S  save model\nCtrl+O  load model\nCtrl+Q  quit\nCtrl+1…6  switch tabs\nF5  evaluate (Errors tab)\n"
            "PageUp / PageDown  browse the Dataset tab\n\n"
            "On the drawing pad: Ctrl+Z undo, Esc or Delete clear, right-click undo"))

    @Slot(str)
    def _on_warning(self, message: str) -> None:
        self.statusBar().showMessage(message, 15000)

    # -- dataset ----------------------------------------------------------------------------------
    def data_folder(self) -> Path:
        return Path(self.training_panel.data_dir() or ".")

    def _on_browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder", self.training_panel.data_dir())
        if folder:
            self.training_panel.set_data_dir(folder)
            self._on_data_dir_edited()

    def _on_data_dir_edited(self) -> None:
        folder = self.data_folder()
        self.settings.setValue("data_dir", str(folder))
        dataset = self.dataset
        if dataset is not None and dataset.folder == folder:
            self.training_panel.set_dataset_status(f"{dataset.name}: {len(dataset.train_images):,} "
                                                   f"training, {len(dataset.test_images):,} test images")
        elif has_dataset_files(folder):
            self.training_panel.set_dataset_status("The four IDX files are here.")
        elif folder.is_dir():
            self.training_panel.set_dataset_status(f"Missing here: {', '.join(missing_files(folder))}. "
                                                   "Download MNIST or choose another folder.")
        else:
            self.training_panel.set_dataset_status("No such folder yet: Download MNIST puts the files there.")

    def _missing_dataset_message(self, folder: Path) -> str:
        absent = ", ".join(missing_files(folder)) if folder.is_dir() else "no such folder"
        return (f"{folder} does not hold the four IDX files ({absent}).\n\n"
                "Use Download MNIST, or choose a folder that holds them.")

    def with_dataset(self, then, missing=None) -> bool:
        """Call `then()` once the dataset of the chosen folder is loaded (in the background if needed).

        Without the files: `missing(message)` when given (a view says so in place: visiting a tab
        must not pop a dialog), else a dialog (the user asked for something that needs them)."""
        folder = self.data_folder()
        if self.dataset is not None and self.dataset.folder == folder:
            then()
            return True
        if not has_dataset_files(folder):
            if missing is not None:
                missing(self._missing_dataset_message(folder).replace("\n\n", " "))
            else:
                self.show_error("No dataset", self._missing_dataset_message(folder))
            return False
        self._after_dataset.append(then)
        if len(self._after_dataset) == 1:  # else the load in progress serves this request too
            self.statusBar().showMessage(f"Loading the dataset in {folder}…")
            self._keep(run_in_background(load_dataset, folder, done=self._on_background_dataset,
                                         failed=self._on_background_dataset_failed))
        return True

    @Slot(object)
    def _on_background_dataset(self, dataset: Dataset) -> None:
        self._on_dataset_loaded(dataset)
        self.statusBar().clearMessage()
        waiting, self._after_dataset = self._after_dataset, []
        for then in waiting:
            then()

    @Slot(str)
    def _on_background_dataset_failed(self, message: str) -> None:
        self._after_dataset = []  # what waited for this dataset will not run on a later one
        self.statusBar().clearMessage()
        self.errors.clear("No dataset to evaluate on: " + message)
        self.show_error("Could not load the dataset", message)

    @Slot(str)
    def _on_evaluation_failed(self, message: str) -> None:
        self.errors.clear("Could not evaluate: " + message)
        self.show_error("Could not evaluate the model", message)

    def _keep(self, task) -> None:
        """Hold a background task until it reports, so its relay object stays alive."""
        self._tasks.add(task)
        task.relay.done.connect(self._forget_finished_tasks)
        task.relay.failed.connect(self._forget_finished_tasks)

    @Slot()
    def _forget_finished_tasks(self) -> None:
        sender = self.sender()
        self._tasks = {task for task in self._tasks if task.relay is not sender}

    @Slot(object)
    def _on_dataset_loaded(self, dataset: Dataset) -> None:
        self.session.dataset = dataset
        self.dataset_view.set_dataset(dataset)
        self.hidden_map.set_samples(dataset.test_images, dataset.test_labels, dataset.class_names)
        self._on_data_dir_edited()

    def download_mnist(self) -> None:
        folder = self.training_panel.data_dir() or str(default_data_dir())
        self.download = MnistDownload(DownloadWorker(folder), self)
        self.download.finished.connect(self._on_download_finished)
        self.download.failed.connect(self._on_download_failed)
        self.download.cancelled.connect(self._on_download_cancelled)
        self.training_panel.download_button.setEnabled(False)
        self.download.start()

    @property
    def download_dialog(self) -> QProgressDialog | None:
        return None if self.download is None else self.download.dialog

    @property
    def download_thread(self):
        return None if self.download is None else self.download.thread

    @Slot(str)
    def _on_download_finished(self, folder: str) -> None:
        self.training_panel.download_button.setEnabled(True)
        self.training_panel.set_data_dir(folder)
        self._on_data_dir_edited()
        self.statusBar().showMessage(f"MNIST downloaded into {folder}", 8000)

    @Slot(str)
    def _on_download_failed(self, message: str) -> None:
        self.training_panel.download_button.setEnabled(True)
        self.show_error("Download failed", message)

    @Slot()
    def _on_download_cancelled(self) -> None:
        self.training_panel.download_button.setEnabled(True)
        self.statusBar().showMessage("Download cancelled; the files fetched so far are kept.", 8000)

    # -- the current model ------------------------------------------------------------------------
    def _show_model(self, model: MLP, class_names: tuple[str, ...], description: str) -> None:
        """Every view that shows the current model follows it here."""
        self.drawing.set_model(model, class_names, description)
        self.filters.set_weights(model.weights[0])  # the model is a private copy: nothing mutates it
        self.hidden_map.set_model(model)
        self._analysis_model = (model, description)
        self._evaluation_pending = True  # scored when the Errors tab is next shown (not while training)
        if self.tabs.currentWidget() is self.errors and not self.is_training():
            self.evaluate_current_model()

    def _set_current(self, checkpoint: Checkpoint, source: str) -> None:
        self.current = checkpoint
        self._show_model(checkpoint.model.copy(), checkpoint.class_names, describe_checkpoint(checkpoint, source))
        self.save_action.setEnabled(not self.is_training())
        self.setWindowTitle(f"MNIST MLP — {source}")

    def load_model(self, path: str | Path, source: str | None = None, show_errors: bool = True,
                   show_curves: bool = True) -> bool:
        """Make the model in `path` current; on failure say why and keep the current one."""
        try:
            checkpoint = load_checkpoint(path)
        except EngineError as error:
            if show_errors:
                self.show_error("Cannot load the model", f"{error}\n\nThe current model is kept.")
            else:
                self.statusBar().showMessage(str(error), 10000)
            return False
        name = source or Path(path).name
        self._set_current(checkpoint, name)
        self._loaded_runs += 1
        # show_curves=False (the bundled model at start): its curves wait, unticked, in the runs
        # list, so a first look shows the user's own run and chart updates during training stay cheap
        self.run_controller.add_history_to_charts(f"file-{self._loaded_runs}",
                                                  f"{name}: {describe_run(checkpoint.config)}",
                                                  checkpoint.history, visible=show_curves)
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

    # -- errors tab -------------------------------------------------------------------------------
    def _on_tab_changed(self, _index: int) -> None:
        current = self.tabs.currentWidget()
        if current is self.errors and self._evaluation_pending and not self.is_training():
            self.evaluate_current_model()
        elif (current in (self.dataset_view, self.hidden_map) and self.dataset is None
              and has_dataset_files(self.data_folder())):
            self.hidden_map.show_waiting("Loading the test images…")
            self.with_dataset(lambda: None)  # the view fills in when the dataset arrives

    def evaluate_current_model(self) -> None:
        """Score the current model on the whole test set, off the GUI thread."""
        if self._analysis_model is None:
            self.errors.clear("No model yet: train one or load one.")
            return
        self._evaluation_pending = False
        model, description = self._analysis_model
        self.errors.set_busy(f"Evaluating {description[len('Model: '):]}…")

        def start() -> None:
            dataset = self.dataset
            self._evaluated_description = description[len("Model: "):]

            def score() -> tuple[Evaluation, np.ndarray]:  # the images travel with their scores
                return evaluate(model, dataset.test_images, dataset.test_labels, dataset.class_names), \
                    dataset.test_images

            self._keep(run_in_background(score, done=self._on_evaluated, failed=self._on_evaluation_failed))

        self.with_dataset(start, missing=lambda message: self.errors.clear(f"No dataset to evaluate on: {message}"))

    @Slot(object)
    def _on_evaluated(self, result: tuple[Evaluation, np.ndarray]) -> None:
        evaluation, images = result
        self.errors.set_evaluation(evaluation, images, self._evaluated_description)

    def evaluate_robustness(self) -> None:
        """Robustness curves of the current model beside the chosen second one, off the GUI thread."""
        view = self.errors.robustness
        if self._analysis_model is None:
            view.clear("No model yet: train one or load one.")
            return
        model, description = self._analysis_model
        second = view.second_model_path()
        view.set_busy(f"Scoring {description[len('Model: '):]} on changed test digits…")

        def start() -> None:
            dataset = self.dataset
            self._keep(run_in_background(compare_robustness, model, description[len("Model: "):], second,
                                         dataset.test_images, dataset.test_labels,
                                         done=self._on_robustness, failed=self._on_robustness_failed))

        if not self.with_dataset(start):
            view.clear("No dataset to score on: choose its folder in the training panel.")

    @Slot(object)
    def _on_robustness(self, comparison: RobustnessComparison) -> None:
        self.errors.robustness.set_comparison(comparison)

    @Slot(str)
    def _on_robustness_failed(self, message: str) -> None:
        self.errors.robustness.clear("Could not score robustness: " + message)

    def _on_test_image_chosen(self, image: np.ndarray, _probabilities: np.ndarray, index: int) -> None:
        dataset = self.dataset
        true_name = dataset.class_names[int(dataset.test_labels[index])] if dataset is not None else "?"
        self.drawing.show_example(image, f"test image #{index}, truly {true_name}")

    @Slot(int, int)
    def _show_exciting_images(self, layer: int, unit: int) -> None:
        """The Errors gallery shows the test images that excite a unit of the pad's model most."""
        model, images = self.drawing.model, self.errors.images
        if model is None or images is None:
            self.statusBar().showMessage("Evaluate the model on the test set first (Errors tab, F5)", 5000)
            return
        top = top_exciting(model, images.astype(np.float32) / 255, layer, unit)
        name = "output" if layer == len(model.weights) - 1 else f"layer {layer + 1}"
        self.errors.show_selection(top, f"The test images that excite {name}, unit {unit}, most")
        self.tabs.setCurrentWidget(self.errors)

    # -- your handwriting -----------------------------------------------------------------------------
    @Slot()
    def _keep_drawing(self) -> None:
        image = self.drawing.model_input
        if image is None:
            self.statusBar().showMessage("Draw a digit first, then say which it is.", 5000)
            return
        try:
            self.teacher.keep(image, self.drawing.teach.digit_box.currentIndex())
        except EngineError as error:
            self.show_error("Cannot keep the drawing", str(error))
        except OSError as error:
            self.show_error("Cannot keep the drawing", f"{error.filename or 'your personal set'}: "
                                                      f"{error.strerror or error}")

    @Slot()
    def _fine_tune(self) -> None:
        if self.is_training():
            self.statusBar().showMessage("Fine-tuning waits for the run in progress to end.", 5000)
            return
        if self.current is None:
            self.statusBar().showMessage("No model to fine-tune: train one or load one.", 5000)
            return
        checkpoint = self.current
        self._tuned_from = checkpoint  # a result for another model than the current one is dropped

        def start() -> None:
            if self.is_training():
                return
            self.teacher.start(checkpoint, self.dataset)
            self.drawing.teach.set_count(len(self.teacher), busy=True)
            self.statusBar().showMessage("Fine-tuning on MNIST with your drawings mixed in…")

        self.with_dataset(start)

    @Slot()
    def _export_personal_set(self) -> None:
        if not len(self.teacher):
            self.statusBar().showMessage("Your personal set is empty: keep a drawing first.", 5000)
            return
        folder = QFileDialog.getExistingDirectory(self, "Export your handwriting to a folder")
        if folder:
            try:
                self.teacher.personal.export(folder)
            except OSError as error:
                self.show_error("Cannot export", f"{folder}: {error.strerror or error}")
                return
            self.statusBar().showMessage(f"{counted(len(self.teacher), 'drawing')} written to {folder}", 5000)

    @Slot()
    def _clear_personal_set(self) -> None:
        answer = QMessageBox.question(self, "Clear your handwriting",
                                      f"Delete the {counted(len(self.teacher), 'drawing')} of your personal set?")
        if answer == QMessageBox.StandardButton.Yes:
            self.teacher.clear()

    @Slot(int)
    def _on_personal_set_changed(self, count: int) -> None:
        self.drawing.teach.set_count(count)
        self.statusBar().showMessage(f"{counted(count, 'drawing')} in your personal set.", 5000)

    @Slot(object)
    def _on_fine_tuned(self, report: FineTuneReport) -> None:
        self.drawing.teach.set_count(len(self.teacher))
        if self.current is not self._tuned_from or self.is_training():
            self.statusBar().showMessage("Fine-tuning finished, but the current model changed meanwhile: "
                                         "its result was dropped.", 15000)
            return
        self._set_current(report.checkpoint, "fine-tuned on your handwriting")
        self.statusBar().showMessage(report.summary(), 30000)

    @Slot(str)
    def _on_fine_tune_failed(self, message: str) -> None:
        self.drawing.teach.set_count(len(self.teacher))
        self.statusBar().clearMessage()
        self.show_error("Fine-tuning failed", message)

    def _on_training_image_chosen(self, image: np.ndarray, label: int) -> None:
        names = self.dataset.class_names if self.dataset is not None else tuple(str(k) for k in range(10))
        self.drawing.show_example(image, f"training image, truly {names[label]}")

    # -- history tab ------------------------------------------------------------------------------
    def _stored_checkpoint(self, run_id: str) -> Checkpoint | None:
        try:
            return self.store.load(run_id)
        except EngineError as error:
            self.show_error("Cannot read the run", str(error))
            return None

    def _record(self, run_id: str) -> RunRecord | None:
        return next((record for record in self.history.records if record.run_id == run_id), None)

    def _stored_history(self, run_id: str) -> History | None:
        """The run's curves: from its model file (with the batch losses), or from its summary when
        the model was pruned."""
        record = self._record(run_id)
        if record is not None and not record.model_kept:
            return record.history()
        checkpoint = self._stored_checkpoint(run_id)
        return None if checkpoint is None else checkpoint.history

    def show_stored_run(self, run_id: str) -> None:
        record = self._record(run_id)
        history = self._stored_history(run_id)
        if history is not None and record is not None:
            label = f"{record.started[5:16].replace('T', ' ')} {OPTIMIZER_LABELS[record.optimizer]} lr {record.lr:g}"
            self.run_controller.add_history_to_charts(run_id, label, history)
            self.tabs.setCurrentIndex(0)

    def load_stored_run(self, run_id: str) -> None:
        checkpoint = self._stored_checkpoint(run_id)
        record = self._record(run_id)
        if checkpoint is not None:
            self._set_current(checkpoint, f"run of {record.started.replace('T', ' ')}" if record else run_id)

    def _on_export_curves(self, run_id: str) -> None:
        history = self._stored_history(run_id)
        if history is None:
            return
        path, chosen = QFileDialog.getSaveFileName(self, "Export curves", str(Path.home() / f"{run_id}.csv"),
                                                   f"{CSV_FILTER};;{JSONL_FILTER}")
        if not path:
            return
        if Path(path).suffix.lower() not in (".csv", ".jsonl"):
            path += ".jsonl" if chosen == JSONL_FILTER else ".csv"
        record = self._record(run_id)
        try:
            if path.lower().endswith(".jsonl"):
                export_curves_jsonl(history, record.status if record is not None else None, path)
            else:
                export_curves_csv(history, path)
        except OSError as error:
            self.show_error("Cannot export", f"{path}: {error.strerror or error}")
            return
        self.statusBar().showMessage(f"Curves written to {path}", 8000)

    def _on_export_png(self, run_id: str) -> None:
        if run_id not in self.curves.runs:
            self.show_stored_run(run_id)
        path, _ = QFileDialog.getSaveFileName(self, "Export chart", str(Path.home() / f"{run_id}.png"),
                                              "PNG images (*.png)")
        if path:
            if not self.curves.grab().save(path, "PNG"):
                self.show_error("Cannot export", f"{path}: the image could not be written")
                return
            self.statusBar().showMessage(f"Chart written to {path}", 8000)

    def _on_delete_run(self, run_id: str) -> None:
        if self.is_training() and run_id == self.session.run_id:
            self.statusBar().showMessage("The run in progress cannot be deleted; stop it first.", 5000)
            return
        answer = QMessageBox.question(self, "Delete run", "Delete this run and its model from the data folder?")
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.store.delete(run_id)
        except (OSError, EngineError) as error:
            self.show_error("Cannot delete the run", str(error))
            return
        if run_id in self.curves.runs:
            self.run_controller.remove_run(run_id)
        self.history.refresh(frozenset({self.session.run_id}) if self.is_training() else frozenset())

    # -- closing ----------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the training and download threads and wait for them, so none outlives the window."""
        self.session.shutdown()
        self.hidden_map.cancel()
        if self.download is not None:
            self.download.shutdown()
        wait_for_background_work()
        event.accept()
