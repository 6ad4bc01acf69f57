"""File > Load model, Save model, Import and Export: model files in and out of the current model.

A file that cannot be read says why and the current model stays. A loaded model's curves join the
charts (through `add_to_charts`, the window's, which names the run in the runs list).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QWidget

from core.engine.run_state import History
from core.errors import EngineError
from core.files.model_file import load_checkpoint, save_checkpoint
from gui.current_model import CurrentModel, describe_run
from gui.interchange_actions import InterchangeActions
from gui.messages import Messages


class ModelFiles(QObject):
    def __init__(self, current: CurrentModel, settings: QSettings, messages: Messages,
                 add_to_charts: Callable[[str, str, History, bool], None], parent: QWidget) -> None:
        super().__init__(parent)
        self.current, self.settings, self.messages, self.add_to_charts = current, settings, messages, add_to_charts
        self._loaded_files = 0  # numbers the loaded models' curves on the charts
        self.load_action = QAction("&Load model…", parent, shortcut=QKeySequence.StandardKey.Open,
                                   triggered=self._on_load_triggered)
        self.save_action = QAction("&Save model…", parent, shortcut=QKeySequence.StandardKey.Save,
                                   triggered=self._on_save_triggered)
        self.interchange = InterchangeActions(parent, settings, lambda: self.current.checkpoint)
        self.interchange.imported.connect(current.set_checkpoint)
        self.interchange.failed.connect(messages.error)
        self.interchange.status_message.connect(lambda text: messages.status(text, 15000))
        self.save_action.changed.connect(lambda: self.interchange.set_export_allowed(self.save_action.isEnabled()))

    def load_model(self, path: str | Path, source: str | None = None, show_errors: bool = True,
                   show_curves: bool = True) -> bool:
        """Make the model in `path` current; on failure say why and keep the current one."""
        try:
            checkpoint = load_checkpoint(path)
        except EngineError as error:
            if show_errors:
                self.messages.error("Cannot load the model", f"{error}\n\nThe current model is kept.")
            else:
                self.messages.status(str(error), 10000)
            return False
        name = source or Path(path).name
        self.current.set_checkpoint(checkpoint, name)
        self._loaded_files += 1
        # show_curves=False (the bundled model at start): its curves wait, unticked, in the runs
        # list, so a first look shows the user's own run and chart updates during training stay cheap
        self.add_to_charts(f"file-{self._loaded_files}", f"{name}: {describe_run(checkpoint.config)}",
                           checkpoint.history, show_curves)
        return True

    def save_model(self, path: str | Path) -> bool:
        """Write the current checkpoint (the last whole model, not a run's live weights)."""
        if self.current.checkpoint is None:
            return False
        try:
            saved = save_checkpoint(path, self.current.checkpoint)
        except OSError as error:
            self.messages.error("Cannot save the model", f"{path}: {error.strerror or error}")
            return False
        self.messages.status(f"Saved the model to {saved}", 8000)
        return True

    def _on_load_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.parent(), "Load model", self.settings.value("model_dir", ""),
                                              "Models (*.npz);;All files (*)")
        if path:
            self.settings.setValue("model_dir", str(Path(path).parent))
            self.load_model(path)

    def _on_save_triggered(self) -> None:
        if self.current.checkpoint is None:
            self.messages.error("Nothing to save", "Train a model or load one first.")
            return
        start = str(Path(self.settings.value("model_dir", str(Path.home()))) / "model.npz")
        path, _ = QFileDialog.getSaveFileName(self.parent(), "Save model", start, "Models (*.npz)")
        if path:
            if not path.endswith(".npz"):
                path += ".npz"
            self.settings.setValue("model_dir", str(Path(path).parent))
            self.save_model(path)
