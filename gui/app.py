"""Starting the desktop application: one QApplication, the window, the bundled model."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")  # pyqtgraph would otherwise look for PyQt6 first

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtGui import QIcon  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from assets import asset_path, pretrained_model_path  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402
from gui.theme import apply_theme  # noqa: E402

ORGANIZATION = "mnist-mlp"
APPLICATION = "MNIST MLP"


def create_main_window(settings: QSettings | None = None, with_pretrained: bool = True) -> MainWindow:
    """The window as the application shows it; tests build it through here, never through main()."""
    return MainWindow(settings, pretrained_model_path() if with_pretrained else None)


def no_display_message() -> str | None:
    """On Linux without a display, Qt would abort with a core dump: say what to do instead."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return ("error: no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set). "
            "Run it in a desktop session, or use the command line: python main.py --help")


def run_app(argv: list[str] | None = None) -> int:
    message = no_display_message()
    if message is not None:
        print(message, file=sys.stderr)
        return 1
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setWindowIcon(QIcon(str(asset_path("icon.svg"))))
    apply_theme(app)
    window = create_main_window()
    window.show()
    return app.exec()
