"""File -> Import model and File -> Export to ONNX: the window's side of core/files/model_import.py and
core/files/onnx_export.py. The actions ask for a file and report back through signals; the window decides
what an imported model becomes (the current one) and how messages are shown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QWidget

from core.engine.run_state import Checkpoint
from core.errors import EngineError
from core.files.model_import import import_model
from core.files.onnx_export import ONNX_HINT, export_onnx, onnx_available

EXPORT_TIP = "Write the current model as an ONNX graph, to run it with onnxruntime elsewhere"
IMPORT_TIP = "Open an ONNX file or a PyTorch-style state dict (.npz) of an MLP as the current model"


class InterchangeActions(QObject):
    imported = Signal(object, str)  # the Checkpoint, and where it came from
    failed = Signal(str, str)  # a title and a message
    status_message = Signal(str)  # what was done, for the status bar

    def __init__(self, parent: QWidget, settings: QSettings, current_model: Callable[[], Checkpoint | None]) -> None:
        super().__init__(parent)
        self._parent = parent
        self.settings = settings
        self.current_model = current_model
        self.onnx_available = onnx_available()
        self.import_action = QAction("&Import model (ONNX, state dict)…", parent, triggered=self._on_import)
        self.import_action.setToolTip(IMPORT_TIP)
        self.export_action = QAction("&Export to ONNX…", parent, triggered=self._on_export)
        self.export_action.setToolTip(EXPORT_TIP if self.onnx_available else f"Needs the onnx package: {ONNX_HINT}")
        self.export_action.setEnabled(self.onnx_available)

    def set_export_allowed(self, allowed: bool) -> None:
        """Follow Save: export what Save would write, and only when onnx is there to write it."""
        self.export_action.setEnabled(allowed and self.onnx_available)

    def _folder(self) -> str:
        return self.settings.value("model_dir", str(Path.home()))

    def import_file(self, path: str | Path) -> bool:
        try:
            imported = import_model(path)
        except EngineError as error:
            self.failed.emit("Cannot import the model", f"{error}\n\nThe current model is kept.")
            return False
        self.imported.emit(imported.checkpoint, f"{Path(path).name}, imported")
        self.status_message.emit(f"Imported {imported.describe()} from {path}: Save keeps it as a model file")
        return True

    def export_file(self, path: str | Path) -> bool:
        checkpoint = self.current_model()
        if checkpoint is None:
            self.failed.emit("Nothing to export", "Train a model or load one first.")
            return False
        try:
            written = export_onnx(checkpoint, path)
        except EngineError as error:
            self.failed.emit("Cannot export the model", str(error))
            return False
        except OSError as error:
            self.failed.emit("Cannot export the model", f"{path}: {error.strerror or error}")
            return False
        self.status_message.emit(f"Exported the model to {written} (ONNX: input pixels, outputs probabilities, logits)")
        return True

    def _on_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._parent, "Import model", self._folder(),
                                              "ONNX or state dict (*.onnx *.npz);;All files (*)")
        if path:
            self.settings.setValue("model_dir", str(Path(path).parent))
            self.import_file(path)

    def _on_export(self) -> None:
        if self.current_model() is None:
            self.failed.emit("Nothing to export", "Train a model or load one first.")
            return
        path, _ = QFileDialog.getSaveFileName(self._parent, "Export to ONNX", str(Path(self._folder()) / "model.onnx"),
                                              "ONNX models (*.onnx)")
        if path:
            if not path.endswith(".onnx"):
                path += ".onnx"
            self.settings.setValue("model_dir", str(Path(path).parent))
            self.export_file(path)
