"""A dark Fusion palette: the charts and the drawing pad are dark, the controls match them."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

WINDOW = "#2b2d31"
BASE = "#1e1f22"
TEXT = "#dcdde0"
ACCENT = "#4fc3f7"


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = QPalette()
    for role, color in ((QPalette.ColorRole.Window, WINDOW), (QPalette.ColorRole.WindowText, TEXT),
                        (QPalette.ColorRole.Base, BASE), (QPalette.ColorRole.AlternateBase, WINDOW),
                        (QPalette.ColorRole.Text, TEXT), (QPalette.ColorRole.Button, "#383a40"),
                        (QPalette.ColorRole.ButtonText, TEXT), (QPalette.ColorRole.ToolTipBase, BASE),
                        (QPalette.ColorRole.ToolTipText, TEXT), (QPalette.ColorRole.Highlight, "#2f6f8f"),
                        (QPalette.ColorRole.HighlightedText, "#ffffff"), (QPalette.ColorRole.Link, ACCENT),
                        (QPalette.ColorRole.PlaceholderText, "#80848e")):
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6d7079"))
    app.setPalette(palette)
    app.setStyleSheet(
        "QGroupBox { font-weight: bold; } QLabel#readout { color: #a0a4ad; }"
        # an unticked box in a list is otherwise invisible on the dark base
        " QListWidget::indicator { width: 12px; height: 12px; border: 1px solid #80848e; border-radius: 2px; }"
        f" QListWidget::indicator:checked {{ background: {ACCENT}; border-color: {ACCENT}; }}")
