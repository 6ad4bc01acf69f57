"""The main window: assembles the panels and wires their signals; the work happens elsewhere.

Left: the training controls and the runs on the charts. Middle: tabs (curves, errors, filters,
map, dataset, run history). Right: the drawing pad with the current model's prediction. Training
runs through the TrainingSession (one QThread per run), steered and shown by the RunController
(gui/run_controller.py); slow analysis runs in Qt's thread pool.
The current model (gui/current_model.py) is the one being trained (a snapshot of its weights), the
last finished run, or the one loaded from a file or from the run history; the views follow it.
Each concern has its module: the dataset folder (gui/dataset_folder.py), model files
(gui/model_files.py), the Errors tab's requests (gui/errors_analysis.py), the History tab's
(gui/history_actions.py), your handwriting (gui/handwriting.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.data.dataset import DIGIT_NAMES, Dataset, resolve_data_dir
from core.engine.run_state import Checkpoint
from core.runs.run_history import RunStore
from gui.background import wait_for_background_work
from gui.current_model import CurrentModel
from gui.curves_view import CurvesView
from gui.dataset_folder import DatasetFolder
from gui.dataset_view import DatasetView
from gui.drawing_panel import DrawingPanel
from gui.errors_analysis import ErrorsAnalysis
from gui.errors_view import ErrorsView
from gui.filters_view import FiltersView
from gui.handwriting import HandwritingActions, HandwritingTeacher
from gui.history_actions import HistoryActions
from gui.history_view import HistoryView
from gui.kernel_status import KernelStatus
from gui.map_view import MapView
from gui.messages import Messages
from gui.model_files import ModelFiles
from gui.race_table import RaceTable
from gui.run_controller import RunController
from gui.runs_list import RunsList
from gui.training_panel import TrainingPanel
from gui.training_session import TrainingSession

SHORTCUTS = ("Ctrl+Return  start training\nCtrl+R  compare optimizers\nCtrl+P  pause / resume\nCtrl+.  stop\n"
             "Ctrl+S  save model\nCtrl+O  load model\nCtrl+Q  quit\nCtrl+1…6  switch tabs\nF5  evaluate (Errors tab)\n"
             "PageUp / PageDown  browse the Dataset tab\n\nOn the drawing pad: Ctrl+Z undo, Esc or Delete clear, "
             "right-click undo")


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, initial_model: Path | None = None,
                 store: RunStore | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        self.store = store if store is not None else RunStore()
        self.session = TrainingSession(self.store, self)
        self.current_model = CurrentModel(self)  # the one model every view shows
        self.messages = Messages(self)

        self.setWindowTitle("MNIST MLP")
        self.training_panel = TrainingPanel(self.settings.value("data_dir", "") or str(resolve_data_dir(None)))
        self.kernel_status = KernelStatus(self.training_panel, self)  # starts preparing the kernels now
        self.session.compiled_state = self.kernel_status.compiled_state  # a first run trains with NumPy meanwhile
        self.runs_list = RunsList()
        self.curves = CurvesView()
        self.race_table = RaceTable()
        self.race_table.hide()
        self.errors = ErrorsView()
        self.filters = FiltersView(self.current_model)
        self.hidden_map = MapView(self.current_model)
        self.dataset_view = DatasetView()
        self.history = HistoryView(self.store, self.settings)
        self.drawing = DrawingPanel(self.current_model)
        self.tabs = QTabWidget()
        self.run_controller = RunController(self)  # the training glue: Start to the charts
        self.data = DatasetFolder(self.training_panel, self.session, self.settings, self.messages, self)
        self.files = ModelFiles(self.current_model, self.settings, self.messages,
                                self.run_controller.add_history_to_charts, self)
        self.save_action, self.interchange = self.files.save_action, self.files.interchange
        self.analysis = ErrorsAnalysis(self.errors, self.current_model, self.data, self.tabs, self.is_training,
                                       self.messages)
        self.history_actions = HistoryActions(self.history, self.store, self.session, self.current_model, self.curves,
                                              self.tabs, self.messages, self.run_controller.add_history_to_charts,
                                              self.run_controller.remove_run)
        self.teacher = HandwritingTeacher(parent=self)
        self.handwriting = HandwritingActions(self.teacher, self.drawing, self.current_model, self.data,
                                              self.is_training, self.messages, self)
        self._build_layout()
        self._build_menus()
        self._wire()
        self.data.show_status()
        self.history.refresh()
        if initial_model is not None:
            self.files.load_model(initial_model, source="bundled pretrained model", show_errors=False,
                                  show_curves=False)
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
        self.quit_action = QAction("&Quit", self, shortcut=QKeySequence("Ctrl+Q"), triggered=self.close)
        file_menu.addActions([self.files.load_action, self.files.save_action])
        file_menu.addSeparator()
        file_menu.addActions([self.interchange.import_action, self.interchange.export_action])
        file_menu.setToolTipsVisible(True)  # the greyed-out Export says what it needs
        handwriting = file_menu.addMenu("My &handwriting")
        handwriting.addActions([self.handwriting.export_action, self.handwriting.clear_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        view_menu = self.menuBar().addMenu("&View")
        for index in range(self.tabs.count()):
            action = QAction(self.tabs.tabText(index), self, shortcut=QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda _=False, index=index: self.tabs.setCurrentIndex(index))
            view_menu.addAction(action)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(QAction("&Keyboard shortcuts", self, triggered=lambda: QMessageBox.information(
            self, "Keyboard shortcuts", SHORTCUTS)))

    def _wire(self) -> None:
        self.run_controller.wire()
        self.runs_list.visibility_changed.connect(self.curves.set_run_visible)
        self.session.warning.connect(self._on_warning)
        self.data.loaded.connect(self._on_dataset_loaded)
        self.current_model.changed.connect(self._on_model_changed)
        self.errors.image_chosen.connect(self._on_test_image_chosen)
        self.hidden_map.image_chosen.connect(self._on_test_image_chosen)
        self.dataset_view.image_chosen.connect(self._on_training_image_chosen)
        self.drawing.exciting_images_requested.connect(self.analysis.show_exciting_images)
        self.tabs.currentChanged.connect(self._on_tab_changed)

    # -- the state the training glue reads ---------------------------------------------------------
    @property
    def dataset(self) -> Dataset | None:
        return self.data.dataset

    @property
    def current(self) -> Checkpoint | None:
        """The last whole model: what Save writes (during a run, not the run's live weights)."""
        return self.current_model.checkpoint

    def is_training(self) -> bool:
        return self.session.is_running()

    def data_folder(self) -> Path:
        return self.data.folder()

    def _missing_dataset_message(self, folder: Path) -> str:
        return self.data.missing_message(folder)

    def show_error(self, title: str, text: str) -> QMessageBox:
        return self.messages.error(title, text)

    @Slot(str)
    def _on_warning(self, message: str) -> None:
        self.statusBar().showMessage(message, 15000)

    # -- the current model and the views around it ---------------------------------------------------
    def _on_model_changed(self) -> None:
        if not self.current_model.live:  # a whole model: Save may write it (once no run goes on)
            self.save_action.setEnabled(not self.is_training())
            self.setWindowTitle(f"MNIST MLP — {self.current_model.source}")

    @Slot(object)
    def _on_dataset_loaded(self, dataset: Dataset) -> None:
        self.dataset_view.set_dataset(dataset)
        self.hidden_map.set_samples(dataset.test_images, dataset.test_labels, dataset.class_names)

    def _on_tab_changed(self, _index: int) -> None:
        current = self.tabs.currentWidget()
        if current is self.errors:
            self.analysis.evaluate_if_due()
        elif current in (self.dataset_view, self.hidden_map) and self.data.preload():
            self.hidden_map.show_waiting("Loading the test images…")

    def _on_test_image_chosen(self, image: np.ndarray, _probabilities: np.ndarray, index: int) -> None:
        dataset = self.dataset
        true_name = dataset.class_names[int(dataset.test_labels[index])] if dataset is not None else "?"
        self.drawing.show_example(image, f"test image #{index}, truly {true_name}")

    def _on_training_image_chosen(self, image: np.ndarray, label: int) -> None:
        names = self.dataset.class_names if self.dataset is not None else DIGIT_NAMES
        self.drawing.show_example(image, f"training image, truly {names[label]}")

    # -- closing ----------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the training and download threads and wait for them, so none outlives the window.

        The window goes first: the wait can last (a run's thread still loading its dataset on a
        loaded machine, up to a minute: TrainingSession.shutdown), and a window left on screen
        that no longer answers looks hung."""
        self.hide()
        self.session.shutdown()
        self.hidden_map.cancel()
        self.data.shutdown()
        wait_for_background_work()
        event.accept()
