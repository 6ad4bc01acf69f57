"""The runs kept in the user's data folder, across sessions: show, load, export or delete them."""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.run_history import RunRecord, RunStore

COLUMNS = ("Started", "Dataset", "Optimizer", "LR", "Epochs", "Test", "Best val. (ep.)", "Status")
STATUS_COLORS = {"finished": "#81c784", "stopped": "#ffb74d", "diverged": "#e57373", "interrupted": "#e57373",
                 "running": "#4fc3f7"}


def record_cells(record: RunRecord) -> list[str]:
    best = "–" if record.best_val_acc is None else f"{record.best_val_acc:.2%} ({record.best_epoch})"
    return [record.started[5:16].replace("T", " "), record.dataset_name, record.optimizer, f"{record.lr:g}",
            f"{record.epochs_done}/{record.epochs_planned}",
            "–" if record.test_acc is None else f"{record.test_acc:.2%}", best, record.status]


class HistoryView(QWidget):
    show_requested = Signal(str)  # run id: draw its curves on the charts
    load_requested = Signal(str)  # run id: make its model the current one
    export_curves_requested = Signal(str)  # run id: save its per-epoch curves (CSV or JSON Lines)
    export_png_requested = Signal(str)
    delete_requested = Signal(str)

    def __init__(self, store: RunStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.records: list[RunRecord] = []
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
        self.buttons = {}
        row = QHBoxLayout()
        for key, text, tip in (("show", "Show on charts", "Draw the run's curves beside this session's runs"),
                               ("load", "Load model", "Make the run's model the current one (drawing pad, Save)"),
                               ("curves", "Export curves…", "Save the run's per-epoch curves as CSV, or as "
                                                             "JSON Lines with the fields of train --json"),
                               ("png", "Export chart…", "Save the charts, with this run on them, as a PNG image"),
                               ("delete", "Delete", "Delete the run and its model from the data folder (Delete)")):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.setEnabled(False)
            row.addWidget(button)
            self.buttons[key] = button
        row.addStretch()
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.place)
        signals = {"show": self.show_requested, "load": self.load_requested, "curves": self.export_curves_requested,
                   "png": self.export_png_requested, "delete": self.delete_requested}
        for key, signal in signals.items():
            self.buttons[key].clicked.connect(lambda _=False, signal=signal: self._emit_for_selected(signal))
        self.table.itemSelectionChanged.connect(self._on_selection_changed)
        self.table.itemDoubleClicked.connect(lambda _item: self._emit_for_selected(self.show_requested))
        shortcut = QShortcut(QKeySequence(Qt.Key.Key_Delete), self.table,
                             lambda: self._emit_for_selected(self.delete_requested))
        shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)

    def refresh(self, live_run_ids: frozenset[str] = frozenset()) -> None:
        selected = self.selected_run_id()
        self.records = self.store.records(live_run_ids)
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
        visible table of 171 runs took 3.5 s to refill at the end of a training run (16 ms now)."""
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

    def _fill_row(self, row: int, record: RunRecord) -> None:
        for col, text in enumerate(record_cells(record)):
            item = QTableWidgetItem(text)
            if col == len(COLUMNS) - 1:
                item.setForeground(QBrush(QColor(STATUS_COLORS.get(record.status, "#dcdde0"))))
            if col in (3, 4, 5, 6):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, col, item)

    def selected_run_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.records):
            return None
        return self.records[rows[0].row()].run_id

    def _emit_for_selected(self, signal) -> None:
        run_id = self.selected_run_id()
        if run_id is not None:
            signal.emit(run_id)

    def _on_selection_changed(self) -> None:
        chosen = self.selected_run_id() is not None
        for button in self.buttons.values():
            button.setEnabled(chosen)

