"""The runs kept in the user's data folder, across sessions: show, load, export, pin or delete them.

Files in the folder that are not readable runs are named below the table with the reason, one
line each (never a dialog: the window starts whatever the folder holds). The folder's size and
its budget are shown and the budget is set here, kept in the window's settings; past it, the
oldest unpinned runs' models are pruned at each refresh (core/runs/run_history.py).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.runs.run_history import DEFAULT_BUDGET, RunRecord, RunStore, Unreadable

COLUMNS = ("Started", "Dataset", "Optimizer", "LR", "Epochs", "Test", "Best val. (ep.)", "Status", "Model")
BUDGET_SETTING = "history_budget_bytes"
GB = 1000**3
MAX_UNREADABLE_LINES = 6
STATUS_COLUMN, MODEL_COLUMN = COLUMNS.index("Status"), COLUMNS.index("Model")
MODEL_COLORS = {"pinned": "#4fc3f7", "pruned": "#8a8d93"}
STATUS_COLORS = {"finished": "#81c784", "stopped": "#ffb74d", "diverged": "#e57373", "interrupted": "#e57373",
                 "running": "#4fc3f7"}


def record_cells(record: RunRecord) -> list[str]:
    best = "–" if record.best_val_acc is None else f"{record.best_val_acc:.2%} ({record.best_epoch})"
    return [record.started[5:16].replace("T", " "), record.dataset_name, record.optimizer, f"{record.lr:g}",
            f"{record.epochs_done}/{record.epochs_planned}",
            "–" if record.test_acc is None else f"{record.test_acc:.2%}", best, record.status,
            "pinned" if record.pinned else "kept" if record.model_kept else "pruned"]


def unreadable_text(unreadable: list[Unreadable]) -> str:
    """One line a file; the names and reasons are shown as plain text (a file name is not markup)."""
    lines = [f"Not listed: {item.name[:80]}: {item.reason}" for item in unreadable[:MAX_UNREADABLE_LINES]]
    if len(unreadable) > MAX_UNREADABLE_LINES:
        lines.append(f"…and {len(unreadable) - MAX_UNREADABLE_LINES} more files that are not runs")
    return "\n".join(lines)


def human_bytes(count: int) -> str:
    for unit, size in (("GB", GB), ("MB", 1000**2), ("kB", 1000)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} B"


def budget_from_settings(settings: QSettings | None) -> int:
    """The budget kept in the settings file, which is a file like any other: a bad value is the default."""
    if settings is None:
        return DEFAULT_BUDGET
    try:
        value = int(float(str(settings.value(BUDGET_SETTING, DEFAULT_BUDGET))))
    except (TypeError, ValueError, OverflowError):
        return DEFAULT_BUDGET
    return value if 0 < value <= 1000 * 1000 * GB else DEFAULT_BUDGET


class HistoryView(QWidget):
    show_requested = Signal(str)  # run id: draw its curves on the charts
    load_requested = Signal(str)  # run id: make its model the current one
    export_curves_requested = Signal(str)  # run id: save its per-epoch curves (CSV or JSON Lines)
    export_png_requested = Signal(str)
    delete_requested = Signal(str)

    def __init__(self, store: RunStore, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.settings = settings
        self.store.budget = budget_from_settings(settings)
        self.records: list[RunRecord] = []
        self.unreadable: list[Unreadable] = []
        self._live_run_ids: frozenset[str] = frozenset()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAlternatingRowColors(True)
        self.table.setToolTip("Runs kept in the data folder. Double-click one to show it on the charts")
        self.place = QLabel(f"Kept in {store.folder}")
        self.place.setObjectName("readout")
        self.place.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.place.setWordWrap(True)  # a long folder path wraps instead of widening the window
        self.size_label = QLabel()
        self.size_label.setObjectName("readout")
        self.budget = QDoubleSpinBox()
        self.budget.setRange(0.1, 1000.0)
        self.budget.setDecimals(1)
        self.budget.setSingleStep(0.5)
        self.budget.setSuffix(" GB")
        self.budget.setValue(self.store.budget / GB)
        self.budget.setToolTip("Past this size, the oldest runs' models are removed (their curves stay); "
                               "pinned runs are never removed")
        self.unreadable_label = QLabel()
        self.unreadable_label.setTextFormat(Qt.TextFormat.PlainText)
        self.unreadable_label.setWordWrap(True)
        self.unreadable_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.unreadable_label.setStyleSheet("color: #ffb74d")
        self.unreadable_label.hide()
        self.buttons = {}
        row = QGridLayout()  # two rows of three: one row of six was 610 px, past a 1024-px window's middle
        for index, (key, text, tip) in enumerate((
                               ("show", "Show on charts", "Draw the run's curves beside this session's runs"),
                               ("load", "Load model", "Make the run's model the current one (drawing pad, Save)"),
                               ("curves", "Export curves…", "Save the run's per-epoch curves as CSV, or as "
                                                             "JSON Lines with the fields of train --json"),
                               ("png", "Export chart…", "Save the charts, with this run on them, as a PNG image"),
                               ("pin", "Pin", "Keep the run's model whatever the folder's budget (or unpin it)"),
                               ("delete", "Delete", "Delete the run and its model from the data folder (Delete)"))):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.setEnabled(False)
            row.addWidget(button, index // 3, index % 3)
            self.buttons[key] = button
        row.setColumnStretch(3, 1)
        place_row = QHBoxLayout()
        place_row.addWidget(self.place, 1)
        place_row.addWidget(self.size_label)
        place_row.addWidget(QLabel("Budget"))
        place_row.addWidget(self.budget)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.unreadable_label)
        layout.addLayout(row)
        layout.addLayout(place_row)
        signals = {"show": self.show_requested, "load": self.load_requested, "curves": self.export_curves_requested,
                   "png": self.export_png_requested, "delete": self.delete_requested}
        for key, signal in signals.items():
            self.buttons[key].clicked.connect(lambda _=False, signal=signal: self._emit_for_selected(signal))
        self.buttons["pin"].clicked.connect(self._on_pin_clicked)
        self.budget.editingFinished.connect(self._on_budget_edited)
        self.table.itemSelectionChanged.connect(self._on_selection_changed)
        self.table.itemDoubleClicked.connect(lambda _item: self._emit_for_selected(self.show_requested))
        shortcut = QShortcut(QKeySequence(Qt.Key.Key_Delete), self.table,
                             lambda: self._emit_for_selected(self.delete_requested))
        shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)

    def refresh(self, live_run_ids: frozenset[str] = frozenset()) -> None:
        """Read the folder again: prune past the budget (never a live run), list runs and misfits."""
        selected = self.selected_run_id()
        self._live_run_ids = live_run_ids
        self.store.prune(keep=live_run_ids)
        listing = self.store.scan(live_run_ids)
        self.records, self.unreadable = listing.records, listing.unreadable
        self.unreadable_label.setText(unreadable_text(self.unreadable))
        self.unreadable_label.setVisible(bool(self.unreadable))
        self._show_size()
        with self._columns_sized_once():
            self.table.setRowCount(len(self.records))
            for row, record in enumerate(self.records):
                self._fill_row(row, record)
                if record.run_id == selected:
                    self.table.selectRow(row)
        self._on_selection_changed()

    @contextmanager
    def _columns_sized_once(self):
        """Columns fitted to their contents once, after the rows are filled: fitted at each cell, a
        visible table of a hundred runs froze the window for seconds at the end of a training run."""
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        try:
            yield
        finally:
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def show_record(self, record: RunRecord) -> None:
        """One run's row, added or brought up to date, without reading the folder again: a
        refresh reads every run's summary (500 files in a folder here), and a training run
        saves every few seconds, each time taking the GUI thread's time from the training."""
        run_ids = [known.run_id for known in self.records]
        if record.run_id in run_ids:
            row = run_ids.index(record.run_id)
            self.records[row] = record
        else:  # newest first, as records() lists them
            row = next((i for i, run_id in enumerate(run_ids) if run_id < record.run_id), len(run_ids))
            self.records.insert(row, record)
            self.table.insertRow(row)
        with self._columns_sized_once():
            self._fill_row(row, record)

    def _show_size(self) -> None:
        self.size_label.setText(f"Folder {human_bytes(self.store.folder_bytes())} of {human_bytes(self.store.budget)}")

    def _on_budget_edited(self) -> None:
        budget = round(self.budget.value() * GB)
        if budget == self.store.budget:
            return
        self.store.budget = budget
        if self.settings is not None:
            self.settings.setValue(BUDGET_SETTING, budget)
        running = frozenset(record.run_id for record in self.records if record.status == "running")
        self.refresh(self._live_run_ids | running)

    def _on_pin_clicked(self) -> None:
        row = self._selected_row()
        if row is None:
            return
        record = self.records[row]
        try:
            self.store.set_pinned(record.run_id, not record.pinned)
        except OSError as error:
            self.unreadable_label.setText(f"Cannot pin: {error.strerror or error}")
            self.unreadable_label.show()
            return
        self.records[row] = replace(record, pinned=not record.pinned)
        with self._columns_sized_once():
            self._fill_row(row, self.records[row])
        self._on_selection_changed()

    def _fill_row(self, row: int, record: RunRecord) -> None:
        for col, text in enumerate(record_cells(record)):
            item = QTableWidgetItem(text)
            if col == STATUS_COLUMN:
                item.setForeground(QBrush(QColor(STATUS_COLORS.get(record.status, "#dcdde0"))))
            elif col == MODEL_COLUMN:
                item.setForeground(QBrush(QColor(MODEL_COLORS.get(text, "#dcdde0"))))
            if col in (3, 4, 5, 6):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, col, item)

    def _selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.records):
            return None
        return rows[0].row()

    def selected_run_id(self) -> str | None:
        row = self._selected_row()
        return None if row is None else self.records[row].run_id

    def _emit_for_selected(self, signal) -> None:
        run_id = self.selected_run_id()
        if run_id is not None:
            signal.emit(run_id)

    def _on_selection_changed(self) -> None:
        row = self._selected_row()
        for button in self.buttons.values():
            button.setEnabled(row is not None)
        if row is not None:
            record = self.records[row]
            self.buttons["load"].setEnabled(record.model_kept)
            self.buttons["pin"].setText("Unpin" if record.pinned else "Pin")

