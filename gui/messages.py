"""Where the window's controllers speak to the user: a window-modal dialog for what went wrong, a
line in the status bar for what was done. One object, so that every controller says things the same way."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow, QMessageBox


class Messages:
    def __init__(self, window: QMainWindow) -> None:
        self.window = window

    def error(self, title: str, text: str) -> QMessageBox:
        """A window-modal message that does not block the event loop (training goes on)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self.window)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def status(self, text: str, milliseconds: int = 0) -> None:
        """A line in the status bar, for `milliseconds` (0: until the next one)."""
        self.window.statusBar().showMessage(text, milliseconds)

    def clear_status(self) -> None:
        self.window.statusBar().clearMessage()

    def confirm(self, title: str, question: str) -> bool:
        """Ask yes or no (modal: the answer decides what happens next)."""
        return QMessageBox.question(self.window, title, question) == QMessageBox.StandardButton.Yes
