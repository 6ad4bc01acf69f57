"""The controls of a training run: dataset, optimizer, hyperparameters, Start / Pause / Stop, progress.

Every field maps to one TrainConfig setting, and its range is enforced at the field (spin box
ranges, validators), so a run never starts with a value that could only fail mid-run. Choosing
an optimizer fills in the seed's defaults for it.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QLocale, Signal
from PySide6.QtGui import QDoubleValidator, QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from core.engine.config import MAX_HIDDEN_UNITS, OPTIMIZER_DEFAULTS, OPTIMIZERS, TrainConfig
from core.errors import ConfigError

OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "Momentum", "adam": "Adam"}
INVALID_STYLE = "QLineEdit { border: 1px solid #e57373; }"
PAUSE_SHORTCUT = "Ctrl+P"
PAUSED_SUFFIX = " · paused"
MAX_HIDDEN_LAYERS = 6


class HiddenSizesValidator(QValidator):
    """Comma-separated layer sizes, each within TrainConfig's range, 1 to MAX_HIDDEN_LAYERS of them."""

    def validate(self, text: str, position: int):
        parts = text.split(",")
        if len(parts) > MAX_HIDDEN_LAYERS or not all(parts[:-1]):  # only the last size may be still unwritten
            return QValidator.State.Invalid, text, position
        for part in parts:
            if part and not (part.isascii() and part.isdigit() and part[0] != "0" and int(part) <= MAX_HIDDEN_UNITS):
                return QValidator.State.Invalid, text, position
        if all(parts):
            return QValidator.State.Acceptable, text, position
        return QValidator.State.Intermediate, text, position  # empty, or a comma with no size after it yet


LR_TIP = "Learning rate of the first epoch (e.g. 0.0005 or 5e-4)"
LR_RUNNING_TIP = "A new learning rate for the run in progress: type it and press Return (the charts mark the change)"


def float_field(value: float, bottom: float, top: float, tooltip: str) -> QLineEdit:
    """A text field for a positive float that accepts 0.0005 and 5e-4 alike, in C locale."""
    field = QLineEdit(f"{value:g}")
    validator = QDoubleValidator(bottom, top, 12, field)
    validator.setNotation(QDoubleValidator.Notation.ScientificNotation)
    validator.setLocale(QLocale.c())
    field.setValidator(validator)
    field.setToolTip(tooltip)
    return field


def probability_box(value: float, tooltip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(4)
    box.setRange(0.0, 0.9999)
    box.setSingleStep(0.01)
    box.setValue(value)
    box.setToolTip(tooltip)
    return box


def format_duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class TrainingPanel(QWidget):
    start_requested = Signal()
    pause_toggled = Signal(bool)  # True: pause
    stop_requested = Signal()
    race_requested = Signal()
    browse_requested = Signal()
    download_requested = Signal()
    settings_changed = Signal()
    lr_change_requested = Signal(float)  # during a run: train at this rate from now on

    def __init__(self, data_dir: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        defaults = TrainConfig()
        self._running = False

        # dataset
        self.data_dir_field = QLineEdit(data_dir)
        self.data_dir_field.setToolTip("A folder holding the four IDX files (MNIST, Fashion-MNIST, ...)")
        self.browse_button = QPushButton("…")
        self.browse_button.setToolTip("Choose the dataset folder")
        self.browse_button.setFixedWidth(32)
        self.download_button = QPushButton("Download")
        self.download_button.setToolTip("Download MNIST: fetch it from the public mirrors into the application's "
                                        "data folder")
        self.dataset_status = QLabel()
        self.dataset_status.setObjectName("datasetStatus")
        self.dataset_status.setWordWrap(True)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.data_dir_field)
        folder_row.addWidget(self.browse_button)
        folder_row.addWidget(self.download_button)
        data_box = QGroupBox("Dataset")
        data_layout = QVBoxLayout(data_box)
        data_layout.setSpacing(4)
        data_layout.addLayout(folder_row)
        data_layout.addWidget(self.dataset_status)

        # settings
        self.optimizer_box = QComboBox()
        for name in OPTIMIZERS:
            self.optimizer_box.addItem(OPTIMIZER_LABELS[name], name)
        self.optimizer_box.setToolTip("Choosing an optimizer fills in the seed project's settings for it")
        self.lr_field = float_field(defaults.lr, 1e-7, 10.0, LR_TIP)
        self.lr_field.returnPressed.connect(self._on_lr_entered)
        self.epochs_box = QSpinBox()
        self.epochs_box.setRange(1, 1000)
        self.epochs_box.setValue(defaults.epochs)
        self.epochs_box.setToolTip("Passes over the training set")
        self.batch_box = QSpinBox()
        self.batch_box.setRange(1, 4096)
        self.batch_box.setValue(defaults.batch_size)
        self.batch_box.setToolTip("Images per gradient step; the last partial batch of an epoch is dropped")
        self.decay_box = QDoubleSpinBox()
        self.decay_box.setDecimals(3)
        self.decay_box.setRange(0.5, 1.0)
        self.decay_box.setSingleStep(0.01)
        self.decay_box.setValue(defaults.lr_decay)
        self.decay_box.setToolTip("The learning rate is multiplied by this after each epoch (1: no decay)")
        self.momentum_box = probability_box(defaults.momentum, "Momentum's beta: v <- beta v + g")
        self.beta1_box = probability_box(defaults.beta1, "Adam's decay of the mean gradient")
        self.beta2_box = probability_box(defaults.beta2, "Adam's decay of the mean squared gradient")
        self.eps_field = float_field(defaults.eps, 1e-12, 1.0, "Adam's epsilon, added to the root of v")
        self.seed_box = QSpinBox()
        self.seed_box.setRange(0, 2**31 - 1)
        self.seed_box.setValue(defaults.seed)
        self.seed_box.setToolTip("Seed of the LCG that draws the initial weights and shuffles each epoch")
        self.hidden_field = QLineEdit(",".join(str(size) for size in defaults.hidden))
        self.hidden_field.setValidator(HiddenSizesValidator(self.hidden_field))
        self.hidden_field.setToolTip(f"Hidden-layer sizes, comma-separated (1 to {MAX_HIDDEN_LAYERS} layers, "
                                     f"1-{MAX_HIDDEN_UNITS} units each)")

        self.augment_box = QCheckBox("Augment")
        self.augment_box.setChecked(defaults.augment)
        self.augment_box.setToolTip("Distort the training images afresh each epoch (shifts, rotations, scaling, "
                                    "shear, elastic distortion, stroke thickness): digits drawn on the pad then "
                                    "read better")

        self.form = QFormLayout()
        self.form.setVerticalSpacing(3)  # eleven rows: the window fits a 1024x640 screen
        self.form.addRow("Optimizer", self.optimizer_box)
        self.form.addRow("Learning rate", self.lr_field)
        self.form.addRow("Epochs", self.epochs_box)
        self.form.addRow("Batch size", self.batch_box)
        self.form.addRow("LR decay", self.decay_box)
        self.form.addRow("Momentum β", self.momentum_box)
        self.form.addRow("Adam β1", self.beta1_box)
        self.form.addRow("Adam β2", self.beta2_box)
        self.form.addRow("Adam ε", self.eps_field)
        self.form.addRow("Seed", self.seed_box)
        self.form.addRow("Hidden layers", self.hidden_field)
        self.form.addRow("Images", self.augment_box)
        self.patience_box = QSpinBox()
        self.patience_box.setRange(0, 1000)
        self.patience_box.setValue(defaults.patience)
        self.patience_box.setSpecialValueText("off")
        self.patience_box.setToolTip("Stop after this many epochs without a better validation accuracy, "
                                     "keeping the best epoch's weights (off: train every epoch)")
        self.form.addRow("Patience", self.patience_box)
        settings_box = QGroupBox("Training")
        settings_box.setLayout(self.form)

        # run controls
        style = self.style()
        self.start_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Start")
        self.start_button.setToolTip("Train a new model with these settings (Ctrl+Return)")
        self.start_button.setShortcut("Ctrl+Return")
        self.pause_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaPause), "Pause")
        self.pause_button.setToolTip("Pause or resume the run (Ctrl+P)")
        self.pause_button.setCheckable(True)
        self.pause_button.setShortcut(PAUSE_SHORTCUT)
        self.stop_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "Stop")
        self.stop_button.setToolTip("Stop the run; the model trained so far is kept (Ctrl+.)")
        self.stop_button.setShortcut("Ctrl+.")
        self.race_button = QPushButton("Compare optimizers")
        self.race_button.setToolTip("Train SGD, Momentum and Adam one after another with these epochs, seed and "
                                    "layers, each with its own defaults, and compare them (Ctrl+R)")
        self.race_button.setShortcut("Ctrl+R")
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button):
            button.setMinimumWidth(64)  # below the style's 80 px: the window fits a 1024-px screen
            buttons.addWidget(button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("ready")
        self.progress_detail = QLabel(" ")
        self.progress_detail.setObjectName("progressDetail")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(data_box)
        layout.addWidget(settings_box)
        layout.addLayout(buttons)
        layout.addWidget(self.race_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_detail)

        self.optimizer_box.setCurrentIndex(OPTIMIZERS.index(defaults.optimizer))
        self.optimizer_box.currentIndexChanged.connect(self._on_optimizer_changed)
        for field in (self.lr_field, self.eps_field, self.hidden_field):
            field.textChanged.connect(self._on_field_edited)
        self.browse_button.clicked.connect(self.browse_requested)
        self.download_button.clicked.connect(self.download_requested)
        self.start_button.clicked.connect(self.start_requested)
        self.pause_button.toggled.connect(self._on_pause_toggled)
        self.stop_button.clicked.connect(self.stop_requested)
        self.race_button.clicked.connect(self.race_requested)
        self._show_optimizer_fields(defaults.optimizer)
        self.set_running(False)

    # -- settings ---------------------------------------------------------------------------------
    @property
    def optimizer(self) -> str:
        return self.optimizer_box.currentData()

    def data_dir(self) -> str:
        return self.data_dir_field.text().strip()

    def set_data_dir(self, folder: str) -> None:
        self.data_dir_field.setText(folder)

    def set_dataset_status(self, text: str) -> None:
        self.dataset_status.setText(text)

    def inputs_valid(self) -> bool:
        return all(field.hasAcceptableInput() for field in (self.lr_field, self.eps_field, self.hidden_field))

    def config(self) -> TrainConfig:
        """The settings as a TrainConfig; raises ConfigError if a field holds no acceptable value."""
        if not self.inputs_valid():
            raise ConfigError("a field holds an invalid value (marked red)")
        return TrainConfig(
            optimizer=self.optimizer, lr=float(self.lr_field.text()), batch_size=self.batch_box.value(),
            epochs=self.epochs_box.value(), lr_decay=self.decay_box.value(), momentum=self.momentum_box.value(),
            beta1=self.beta1_box.value(), beta2=self.beta2_box.value(), eps=float(self.eps_field.text()),
            seed=self.seed_box.value(), hidden=tuple(int(part) for part in self.hidden_field.text().split(",")),
            augment=self.augment_box.isChecked(), patience=self.patience_box.value())

    def apply_config(self, config: TrainConfig) -> None:
        """Show `config` in the fields (a loaded model's settings, say)."""
        self.optimizer_box.blockSignals(True)
        self.optimizer_box.setCurrentIndex(OPTIMIZERS.index(config.optimizer))
        self.optimizer_box.blockSignals(False)
        self._show_optimizer_fields(config.optimizer)
        self.lr_field.setText(f"{config.lr:g}")
        self.epochs_box.setValue(config.epochs)
        self.batch_box.setValue(config.batch_size)
        self.decay_box.setValue(config.lr_decay)
        self.momentum_box.setValue(config.momentum)
        self.beta1_box.setValue(config.beta1)
        self.beta2_box.setValue(config.beta2)
        self.eps_field.setText(f"{config.eps:g}")
        self.seed_box.setValue(config.seed)
        self.hidden_field.setText(",".join(str(size) for size in config.hidden))
        self.augment_box.setChecked(config.augment)
        self.patience_box.setValue(config.patience)

    def _on_optimizer_changed(self) -> None:
        name = self.optimizer
        self._show_optimizer_fields(name)
        seed_defaults = TrainConfig.for_optimizer(name)
        for key in OPTIMIZER_DEFAULTS[name]:
            value = getattr(seed_defaults, key)
            if key in ("lr", "eps"):
                (self.lr_field if key == "lr" else self.eps_field).setText(f"{value:g}")
            else:
                {"momentum": self.momentum_box, "beta1": self.beta1_box, "beta2": self.beta2_box}[key].setValue(value)
        self.settings_changed.emit()

    def _show_optimizer_fields(self, name: str) -> None:
        for widget, used in ((self.momentum_box, name == "momentum"), (self.beta1_box, name == "adam"),
                             (self.beta2_box, name == "adam"), (self.eps_field, name == "adam")):
            self.form.setRowVisible(widget, used)

    def _on_field_edited(self) -> None:
        field = self.sender()
        field.setStyleSheet("" if field.hasAcceptableInput() else INVALID_STYLE)
        self.start_button.setEnabled(not self._running and self.inputs_valid())
        self.race_button.setEnabled(not self._running and self.inputs_valid())
        self.settings_changed.emit()

    # -- run state --------------------------------------------------------------------------------
    def _on_lr_entered(self) -> None:
        if self._running and self.lr_field.hasAcceptableInput():
            self.lr_change_requested.emit(float(self.lr_field.text()))

    def set_running(self, running: bool) -> None:
        self._running = running
        self.start_button.setEnabled(not running and self.inputs_valid())
        self.race_button.setEnabled(not running and self.inputs_valid())
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        if not running:
            self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)
            self._label_pause_button(paused=False)
            self.pause_button.blockSignals(False)
        for widget in (self.optimizer_box, self.epochs_box, self.batch_box, self.decay_box,
                       self.momentum_box, self.beta1_box, self.beta2_box, self.eps_field, self.seed_box,
                       self.hidden_field, self.augment_box, self.patience_box, self.data_dir_field,
                       self.browse_button):
            widget.setEnabled(not running)
        # the learning rate stays editable: Return in it steers the running run
        self.lr_field.setToolTip(LR_RUNNING_TIP if running else LR_TIP)

    def _label_pause_button(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_button.setShortcut(PAUSE_SHORTCUT)  # setText drops a button's shortcut
        self.pause_button.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPlay if paused else QStyle.StandardPixmap.SP_MediaPause))

    def _on_pause_toggled(self, paused: bool) -> None:
        self._label_pause_button(paused)
        self.progress.setFormat(self.progress.format().split(PAUSED_SUFFIX)[0] + (PAUSED_SUFFIX if paused else ""))
        self.pause_toggled.emit(paused)

    def show_progress(self, epoch: int, epochs: int, batch: int, batches: int, seconds_left: float) -> None:
        done = ((epoch - 1) * batches + batch) / max(epochs * batches, 1)
        self.progress.setValue(int(1000 * done))
        # reports queued before the pause still arrive after it: the bar keeps saying it is paused
        paused = PAUSED_SUFFIX if self.pause_button.isChecked() else ""
        self.progress.setFormat(f"epoch {epoch}/{epochs} · batch {batch}/{batches}{paused}")
        self.progress_detail.setText(f"{format_duration(seconds_left)} left")

    def show_message(self, text: str, detail: str = " ") -> None:
        self.progress.setFormat(text)
        self.progress_detail.setText(detail)
