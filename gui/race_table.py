"""The optimizer race's results table: the seed's results table, filled in as each run ends."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from core.engine.config import OPTIMIZERS
from core.engine.race import RaceResult
from core.wording import counted
from gui.training_panel import OPTIMIZER_LABELS

COLUMNS = ("Optimizer", "LR", "Test", "s/epoch", "Best epoch", "Status")  # short: whole at 1024x640
HEADER_TIPS = ("", "Learning rate", "Accuracy on the 10,000 test images after the last epoch",
               "Seconds per epoch", "The epoch with the best validation accuracy, and that accuracy", "")


def result_cells(result: RaceResult) -> list[str]:
    best = "–" if result.best_epoch is None else f"{result.best_epoch} ({result.best_val_acc:.2%})"
    status = result.status
    if result.status != "finished":
        status = f"{result.status} after {counted(result.epochs_done, 'epoch')}"
    return [OPTIMIZER_LABELS.get(result.optimizer, result.optimizer), f"{result.lr:g}",
            "–" if result.test_acc is None else f"{result.test_acc:.2%}",
            "–" if result.seconds_per_epoch is None else f"{result.seconds_per_epoch:.2f}", best,
            status]


class RaceTable(QTableWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(len(OPTIMIZERS), len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        for column, tip in enumerate(HEADER_TIPS):
            self.horizontalHeaderItem(column).setToolTip(tip)
        # each column as wide as its contents, the status taking the rest: stretched evenly, "Test accuracy"
        # and "Momentum" were clipped at 1024x640
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.setToolTip("Compare optimizers: the same seed, data and epochs; each optimizer with its own defaults")
        self.setMaximumHeight(self.verticalHeader().defaultSectionSize() * (len(OPTIMIZERS) + 1) + 6)
        self.show_results([])

    def show_results(self, results: list[RaceResult], running: str | None = None) -> None:
        """One row per optimizer in race order; rows not yet run say so."""
        by_name = {result.optimizer: result for result in results}
        for row, name in enumerate(OPTIMIZERS):
            result = by_name.get(name)
            if result is not None:
                cells = result_cells(result)
            else:
                cells = [OPTIMIZER_LABELS[name], "", "", "", "", "running…" if name == running else "waiting"]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.setItem(row, col, item)
