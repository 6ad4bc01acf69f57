"""What the History tab's buttons do: show a stored run on the charts, make its model current,
export its curves (CSV or JSON Lines) or the charts (PNG), delete it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QTabWidget

from core.engine.run_state import Checkpoint, History
from core.errors import EngineError
from core.files.curves_jsonl import export_curves_jsonl
from core.runs.run_history import RunRecord, RunStore, export_curves_csv
from gui.current_model import CurrentModel
from gui.curves_view import CurvesView
from gui.history_view import HistoryView
from gui.messages import Messages
from gui.training_panel import OPTIMIZER_LABELS
from gui.training_session import TrainingSession

CSV_FILTER = "CSV files (*.csv)"
JSONL_FILTER = "JSON Lines, as train --json prints (*.jsonl)"


class HistoryActions(QObject):
    def __init__(self, view: HistoryView, store: RunStore, session: TrainingSession, current: CurrentModel,
                 curves: CurvesView, tabs: QTabWidget, messages: Messages,
                 add_to_charts: Callable[[str, str, History], None], remove_from_charts: Callable[[str], None]) -> None:
        super().__init__(view)
        self.view, self.store, self.session, self.current = view, store, session, current
        self.curves, self.tabs, self.messages = curves, tabs, messages
        self.add_to_charts, self.remove_from_charts = add_to_charts, remove_from_charts
        view.show_requested.connect(self.show_stored_run)
        view.load_requested.connect(self.load_stored_run)
        view.export_curves_requested.connect(self._on_export_curves)
        view.export_png_requested.connect(self._on_export_png)
        view.delete_requested.connect(self._on_delete_run)

    def _stored_checkpoint(self, run_id: str) -> Checkpoint | None:
        try:
            return self.store.load(run_id)
        except EngineError as error:
            self.messages.error("Cannot read the run", str(error))
            return None

    def _record(self, run_id: str) -> RunRecord | None:
        return next((record for record in self.view.records if record.run_id == run_id), None)

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
            self.add_to_charts(run_id, label, history)
            self.tabs.setCurrentIndex(0)

    def load_stored_run(self, run_id: str) -> None:
        checkpoint = self._stored_checkpoint(run_id)
        record = self._record(run_id)
        if checkpoint is not None:
            self.current.set_checkpoint(checkpoint, f"run of {record.started.replace('T', ' ')}" if record else run_id)

    def _on_export_curves(self, run_id: str) -> None:
        history = self._stored_history(run_id)
        if history is None:
            return
        path, chosen = QFileDialog.getSaveFileName(self.view, "Export curves", str(Path.home() / f"{run_id}.csv"),
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
            self.messages.error("Cannot export", f"{path}: {error.strerror or error}")
            return
        self.messages.status(f"Curves written to {path}", 8000)

    def _on_export_png(self, run_id: str) -> None:
        if run_id not in self.curves.runs:
            self.show_stored_run(run_id)
        path, _ = QFileDialog.getSaveFileName(self.view, "Export chart", str(Path.home() / f"{run_id}.png"),
                                              "PNG images (*.png)")
        if path:
            if not self.curves.grab().save(path, "PNG"):
                self.messages.error("Cannot export", f"{path}: the image could not be written")
                return
            self.messages.status(f"Chart written to {path}", 8000)

    def _on_delete_run(self, run_id: str) -> None:
        running = self.session.is_running()
        if running and run_id == self.session.run_id:
            self.messages.status("The run in progress cannot be deleted; stop it first.", 5000)
            return
        if not self.messages.confirm("Delete run", "Delete this run and its model from the data folder?"):
            return
        try:
            self.store.delete(run_id)
        except (OSError, EngineError) as error:
            self.messages.error("Cannot delete the run", str(error))
            return
        if run_id in self.curves.runs:
            self.remove_from_charts(run_id)
        self.view.refresh(frozenset({self.session.run_id}) if running else frozenset())
