"""What a person does with the window, for the GUI tests: type settings, press Start, draw, read dialogs.

Everything goes through the widgets (qtbot's key clicks and mouse events), so a test fails when a
person could not do the same.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLineEdit, QMessageBox, QWidget

from gui.draw_pad import DrawPad
from gui.main_window import MainWindow
from gui.run_curves import RunCurves

LEFT = Qt.MouseButton.LeftButton
CTRL = Qt.KeyboardModifier.ControlModifier
# Generous, as waits that end when the condition holds cost nothing more when it holds early: a run's
# first batch can take seconds when numba compiles the kernels (a cold cache, an edited core/).
RUN_TIMEOUT_MS = 60_000


def on_screen(qtbot, widget: QWidget, width: int | None = None, height: int | None = None) -> QWidget:
    """The widget on screen (closed at the end of the test), at width x height when given."""
    qtbot.addWidget(widget)
    if width is not None:
        widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def type_text(qtbot, field: QLineEdit, text: str) -> None:
    """Select what the field holds and type `text` over it, key by key (the validator sees each key)."""
    field.setFocus()
    field.selectAll()
    qtbot.keyClick(field, Qt.Key.Key_Backspace)
    qtbot.keyClicks(field, text)


def choose_optimizer(qtbot, window_or_panel, name: str) -> None:
    panel = getattr(window_or_panel, "training_panel", window_or_panel)
    box = panel.optimizer_box
    box.setFocus()
    index = box.findData(name)
    assert index >= 0, name
    # Up/Down on a closed combo box steps through its items, as a keyboard user would.
    while box.currentIndex() != index:
        qtbot.keyClick(box, Qt.Key.Key_Down if box.currentIndex() < index else Qt.Key.Key_Up)


def set_up_run(qtbot, window: MainWindow, data_dir=None, optimizer: str = "adam", lr: str | None = None,
               epochs: int = 3, batch_size: int = 32, hidden: str = "32,16") -> None:
    """Fill in the training panel for a small run."""
    panel = window.training_panel
    if data_dir is not None:
        type_text(qtbot, panel.data_dir_field, str(data_dir))
        qtbot.keyClick(panel.data_dir_field, Qt.Key.Key_Return)
    choose_optimizer(qtbot, panel, optimizer)
    if lr is not None:
        type_text(qtbot, panel.lr_field, lr)
    panel.epochs_box.setValue(epochs)
    panel.batch_box.setValue(batch_size)
    type_text(qtbot, panel.hidden_field, hidden)
    assert panel.inputs_valid(), "the run's settings should be acceptable"


def start(qtbot, window: MainWindow) -> None:
    button = window.training_panel.start_button
    assert button.isEnabled(), "Start should be enabled"
    qtbot.mouseClick(button, LEFT)


def wait_until_idle(qtbot, window: MainWindow, timeout: int = RUN_TIMEOUT_MS) -> None:
    """Wait until the run has ended and the window has taken it back (Start enabled again)."""
    qtbot.waitUntil(lambda: not window.is_training(), timeout=timeout)


def live_run(window: MainWindow) -> RunCurves:
    """The curves of the session's latest run (the one going on, or the last one)."""
    run_id = window.session.run_id
    assert run_id in window.curves.runs, "the latest run is not on the charts"
    assert window.runs_list.run_ids()[0] == run_id, "the runs list shows the newest run first"
    return window.curves.runs[run_id]


def wait_for_batches(qtbot, window: MainWindow, more_than: int = 0) -> None:
    """Wait until the charts hold more than `more_than` batch losses of the latest run."""
    qtbot.waitUntil(lambda: batch_count(window) > more_than, timeout=RUN_TIMEOUT_MS)


def batch_count(window: MainWindow) -> int:
    """How many batch losses of the latest run the charts hold."""
    run = window.curves.runs.get(window.session.run_id)
    return 0 if run is None else len(run.batch_losses)


def press_shortcut(qtbot, window: MainWindow, key: Qt.Key, button=None) -> None:
    """Ctrl+key on the window. A button's shortcut clicks it animated (~100 ms later): wait for it."""
    if button is None:
        qtbot.keyClick(window, key, CTRL)
    else:
        with qtbot.waitSignal(button.clicked, timeout=2000):
            qtbot.keyClick(window, key, CTRL)


def open_errors(window: QWidget) -> list[QMessageBox]:
    return [box for box in window.findChildren(QMessageBox) if box.isVisible()]


def take_error(qtbot, window: QWidget, timeout: int = 5000) -> tuple[str, str]:
    """Wait for the one error dialog, read its title and text, and press its OK button."""
    qtbot.waitUntil(lambda: len(open_errors(window)) == 1, timeout=timeout)
    (box,) = open_errors(window)
    title, text = box.windowTitle(), box.text()
    assert box.icon() == QMessageBox.Icon.Warning
    assert box.windowModality() == Qt.WindowModality.WindowModal, "the dialog should not block other windows"
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Ok), LEFT)
    qtbot.waitUntil(lambda: not open_errors(window), timeout=timeout)
    return title, text


def canvas_point(pad: DrawPad, x: float, y: float) -> QPoint:
    """The widget position of (x, y) given in canvas units (0..1), the pad's square drawing area."""
    side = min(pad.width(), pad.height())
    left, top = (pad.width() - side) / 2, (pad.height() - side) / 2
    return QPoint(round(left + x * side), round(top + y * side))


def draw_stroke(qtbot, pad: DrawPad, points: list[tuple[float, float]]) -> None:
    """Press the left button at the first point, drag through the others, release at the last."""
    positions = [canvas_point(pad, x, y) for x, y in points]
    qtbot.mousePress(pad, LEFT, pos=positions[0])
    for position in positions[1:]:
        qtbot.mouseMove(pad, position)
    qtbot.mouseRelease(pad, LEFT, pos=positions[-1])


def line(start: tuple[float, float], end: tuple[float, float], steps: int = 12) -> list[tuple[float, float]]:
    return [(start[0] + (end[0] - start[0]) * i / steps, start[1] + (end[1] - start[1]) * i / steps)
            for i in range(steps + 1)]


ONE = line((0.5, 0.2), (0.5, 0.8))  # a vertical bar: the bundled model reads it as a 1
SEVEN_TOP = line((0.3, 0.25), (0.7, 0.25))
SEVEN_LEG = line((0.7, 0.25), (0.45, 0.8))
