"""The controls of a training run: dataset, optimizer, hyperparameters, Start / Pause / Stop, progress.

Every field is made from one TrainConfig setting: its kind, range, default and tooltip come from
the setting's metadata (core/engine/setting.py), so the range enforced at the field is the one
TrainConfig.validate() checks and a run never starts with a value that could only fail mid-run.
Choosing an optimizer fills in the seed's defaults for it.
"""

from __future__ import annotations

import dataclasses
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

from core.engine.config import OPTIMIZER_DEFAULTS, OPTIMIZERS, TrainConfig, optimizer_defaults
from core.engine.setting import Setting, settings_of, shown
from core.errors import ConfigError

OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "Momentum", "adam": "Adam"}
INVALID_STYLE = "QLineEdit { border: 1px solid #e57373; }"
PAUSE_SHORTCUT = "Ctrl+P"
PAUSED_SUFFIX = " · paused"
FIRST_ROWS = ("optimizer", "lr", "epochs")  # then the other settings the window offers, in TrainConfig's order
TYPED_DECADES = 4  # a float whose range spans more decades than this is typed (5e-4), not spun
LR_RUNNING_TIP = "A new learning rate for the run in progress: type it and press Return (the charts mark the change)"


class HiddenSizesValidator(QValidator):
    """Comma-separated layer sizes, each and their count within the hidden setting's limits."""

    def __init__(self, spec: Setting, parent=None) -> None:
        super().__init__(parent)
        self.spec = spec

    def validate(self, text: str, position: int):
        parts = text.split(",")
        if len(parts) > self.spec.max_count or not all(parts[:-1]):  # only the last size may be still unwritten
            return QValidator.State.Invalid, text, position
        for part in parts:
            if part and not (part.isascii() and part.isdigit() and part[0] != "0" and self.spec.allows(int(part))):
                return QValidator.State.Invalid, text, position
        if all(parts):
            return QValidator.State.Acceptable, text, position
        return QValidator.State.Intermediate, text, position  # empty, or a comma with no size after it yet


def tooltip(field: dataclasses.Field, spec: Setting) -> str:
    """The setting's help, capitalized, and its limits."""
    text = spec.help[0].upper() + spec.help[1:]
    if isinstance(field.default, tuple):
        return f"{text} (1 to {spec.max_count} layers, {spec.range_text('-')} units each)"
    if spec.minimum is not None:
        return f"{text} ({spec.range_text(' to ')})"
    return text


def decimals(spec: Setting) -> int:
    """As many decimals as the limits need: 0.9999 four, 0.001 three."""
    return max(len(shown(float(limit)).partition(".")[2]) for limit in (spec.minimum, spec.maximum))


def setting_widget(field: dataclasses.Field, spec: Setting) -> QWidget:
    """The field that edits one setting: its kind, range and default from the setting itself."""
    default = field.default
    if spec.choices:
        widget = QComboBox()
        for name in spec.choices:
            widget.addItem(OPTIMIZER_LABELS.get(name, name) if field.name == "optimizer" else name, name)
        widget.setCurrentIndex(spec.choices.index(default))
    elif isinstance(default, bool):
        widget = QCheckBox(field.name.replace("_", " ").capitalize())
        widget.setChecked(default)
    elif isinstance(default, tuple):
        widget = QLineEdit(shown(default))
        widget.setValidator(HiddenSizesValidator(spec, widget))
    elif isinstance(default, int):
        widget = QSpinBox()
        widget.setRange(int(spec.minimum), int(spec.maximum))
        widget.setValue(default)
        if spec.zero_means and spec.minimum == 0:
            widget.setSpecialValueText(spec.zero_means)
    elif spec.minimum > 0 and math.log10(spec.maximum / spec.minimum) > TYPED_DECADES:
        widget = QLineEdit(f"{default:g}")
        validator = QDoubleValidator(spec.minimum, spec.maximum, 12, widget)  # 0.0005 and 5e-4 alike, C locale
        validator.setNotation(QDoubleValidator.Notation.ScientificNotation)
        validator.setLocale(QLocale.c())
        widget.setValidator(validator)
    else:
        widget = QDoubleSpinBox()
        widget.setDecimals(decimals(spec))
        widget.setRange(spec.minimum, spec.maximum)
        widget.setSingleStep(0.01)
        widget.setValue(default)
    widget.setToolTip(tooltip(field, spec))
    return widget


def widget_value(widget: QWidget):
    """What a setting's field holds, as TrainConfig takes it."""
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QLineEdit):
        text = widget.text()
        return tuple(int(part) for part in text.split(",")) if isinstance(widget.validator(), HiddenSizesValidator) \
            else float(text)
    return widget.value()


def show_value(widget: QWidget, value) -> None:
    if isinstance(widget, QComboBox):
        widget.setCurrentIndex(widget.findData(value))
    elif isinstance(widget, QCheckBox):
        widget.setChecked(value)
    elif isinstance(widget, QLineEdit):
        widget.setText(shown(value) if isinstance(value, tuple) else f"{value:g}")
    else:
        widget.setValue(value)


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

    def __init__(self, data_dir: str = "", parent: QWidget | None = None, config_class=TrainConfig) -> None:
        super().__init__(parent)
        self.config_class = config_class  # TrainConfig, or in a test one with a setting more
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

        # settings: one row per setting the window offers, made from its field in TrainConfig
        self.form = QFormLayout()
        self.form.setVerticalSpacing(3)  # thirteen rows: the window fits a 1024x640 screen
        self.fields: dict[str, QWidget] = {}
        offered = [(field, spec) for field, spec in settings_of(config_class) if spec.label]
        offered.sort(key=lambda item: FIRST_ROWS.index(item[0].name) if item[0].name in FIRST_ROWS else len(FIRST_ROWS))
        for field, spec in offered:
            self.fields[field.name] = setting_widget(field, spec)
            self.form.addRow(spec.label, self.fields[field.name])
        self.optimizer_box = self.fields["optimizer"]
        self.lr_field = self.fields["lr"]
        self.epochs_box = self.fields["epochs"]
        self.batch_box = self.fields["batch_size"]
        self.decay_box = self.fields["lr_decay"]
        self.momentum_box = self.fields["momentum"]
        self.beta1_box = self.fields["beta1"]
        self.beta2_box = self.fields["beta2"]
        self.eps_field = self.fields["eps"]
        self.seed_box = self.fields["seed"]
        self.hidden_field = self.fields["hidden"]
        self.augment_box = self.fields["augment"]
        self.patience_box = self.fields["patience"]
        self.lr_tip = self.lr_field.toolTip()
        self.lr_field.returnPressed.connect(self._on_lr_entered)
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
        self._progress_text = ""  # what the bar says, without the paused mark (the bar's text is display only)
        self.messages_shown = 0  # counts show_progress/show_message: who showed last can tell it was them
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

        self.optimizer_box.currentIndexChanged.connect(self._on_optimizer_changed)
        for field in self._typed_fields():
            field.textChanged.connect(self._on_field_edited)
        self.browse_button.clicked.connect(self.browse_requested)
        self.download_button.clicked.connect(self.download_requested)
        self.start_button.clicked.connect(self.start_requested)
        self.pause_button.toggled.connect(self._on_pause_toggled)
        self.stop_button.clicked.connect(self.stop_requested)
        self.race_button.clicked.connect(self.race_requested)
        self._show_optimizer_fields(self.optimizer)
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

    def _typed_fields(self) -> list[QLineEdit]:
        return [widget for widget in self.fields.values() if isinstance(widget, QLineEdit)]

    def inputs_valid(self) -> bool:
        return all(field.hasAcceptableInput() for field in self._typed_fields())

    def config(self) -> TrainConfig:
        """The settings as a TrainConfig; raises ConfigError if a field holds no acceptable value."""
        if not self.inputs_valid():
            raise ConfigError("a field holds an invalid value (marked red)")
        return self.config_class(**{name: widget_value(widget) for name, widget in self.fields.items()})

    def apply_config(self, config: TrainConfig) -> None:
        """Show `config` in the fields (a loaded model's settings, say)."""
        self.optimizer_box.blockSignals(True)
        for name, widget in self.fields.items():
            show_value(widget, getattr(config, name))
        self.optimizer_box.blockSignals(False)
        self._show_optimizer_fields(config.optimizer)

    def _on_optimizer_changed(self) -> None:
        name = self.optimizer
        self._show_optimizer_fields(name)
        for key, value in OPTIMIZER_DEFAULTS[name].items():
            show_value(self.fields[key], value)
        self.settings_changed.emit()

    def _show_optimizer_fields(self, name: str) -> None:
        """A setting that only some optimizers use is shown with those (Adam's ε with Adam)."""
        for key, widget in self.fields.items():
            used_by = optimizer_defaults(key)
            if len(used_by) < len(OPTIMIZERS) and used_by:
                self.form.setRowVisible(widget, name in used_by)

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
        for widget in (*self.fields.values(), self.data_dir_field, self.browse_button):
            widget.setEnabled(not running or widget is self.lr_field)  # Return in the rate steers the run
        self.lr_field.setToolTip(LR_RUNNING_TIP if running else self.lr_tip)

    def _label_pause_button(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_button.setShortcut(PAUSE_SHORTCUT)  # setText drops a button's shortcut
        self.pause_button.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPlay if paused else QStyle.StandardPixmap.SP_MediaPause))

    def _on_pause_toggled(self, paused: bool) -> None:
        self._label_pause_button(paused)
        self.progress.setFormat(self._progress_text + (PAUSED_SUFFIX if paused else ""))
        self.pause_toggled.emit(paused)

    def show_progress(self, epoch: int, epochs: int, batch: int, batches: int, seconds_left: float) -> None:
        done = ((epoch - 1) * batches + batch) / max(epochs * batches, 1)
        self.progress.setValue(int(1000 * done))
        # reports queued before the pause still arrive after it: the bar keeps saying it is paused
        paused = PAUSED_SUFFIX if self.pause_button.isChecked() else ""
        self._progress_text = f"epoch {epoch}/{epochs} · batch {batch}/{batches}"
        self.progress.setFormat(self._progress_text + paused)
        self.progress_detail.setText(f"{format_duration(seconds_left)} left")
        self.messages_shown += 1

    def show_message(self, text: str, detail: str = " ") -> None:
        self._progress_text = text
        self.progress.setFormat(text + (PAUSED_SUFFIX if self.pause_button.isChecked() else ""))
        self.progress_detail.setText(detail)
        self.messages_shown += 1
