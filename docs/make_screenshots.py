"""Make the README's screenshots: docs/training.png (a run in progress) and docs/drawing.png.

    python docs/make_screenshots.py [--data-dir DIR] [--epochs-before-shot 3]

Runs the real window offscreen, as the app shows it (theme included), with its settings in a temp
folder: an Adam run on MNIST with the default settings, shot mid-epoch once a few epochs are on
the charts, with a digit on the pad; then a digit drawn on a fresh window with the bundled model.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QPoint, QSettings, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from core.dataset import resolve_data_dir  # noqa: E402
from gui.app import create_main_window  # noqa: E402
from gui.theme import apply_theme  # noqa: E402

SIZE = (1280, 800)
# strokes in canvas units (0..1): a 3 drawn in two arcs, a 7 for the run in progress
THREE = [[(0.32, 0.25), (0.45, 0.18), (0.6, 0.2), (0.66, 0.3), (0.6, 0.42), (0.48, 0.47)],
         [(0.48, 0.47), (0.62, 0.52), (0.68, 0.64), (0.6, 0.76), (0.45, 0.8), (0.3, 0.74)]]
SEVEN = [[(0.3, 0.25), (0.7, 0.25)], [(0.7, 0.25), (0.55, 0.5), (0.45, 0.8)]]


def wait(app: QApplication, condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def draw(pad, strokes) -> None:
    side = min(pad.width(), pad.height())
    left, top = (pad.width() - side) / 2, (pad.height() - side) / 2

    def at(x, y):
        return QPoint(round(left + x * side), round(top + y * side))

    for stroke in strokes:
        points = []
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            points += [(x0 + (x1 - x0) * i / 8, y0 + (y1 - y0) * i / 8) for i in range(8)]
        points.append(stroke[-1])
        QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(*points[0]))
        for point in points[1:]:
            QTest.mouseMove(pad, at(*point))
        QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(*points[-1]))


def new_window(app: QApplication, folder: Path, data_dir: Path):
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("data_dir", str(data_dir))
    window = create_main_window(settings)
    window.resize(*SIZE)
    window.show()
    app.processEvents()
    return window


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--epochs-before-shot", type=int, default=3)
    args = parser.parse_args()
    data_dir = resolve_data_dir(args.data_dir)
    with tempfile.TemporaryDirectory() as temp:
        for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            os.environ[name] = str(Path(temp) / name.lower())  # keep the user's run history out of it
        app = QApplication(sys.argv)
        apply_theme(app)

        window = new_window(app, Path(temp), data_dir)
        draw(window.drawing.pad, SEVEN)
        window.training_panel.start_button.click()
        wait(app, lambda: window.curves.runs.get(window.session.run_id) is not None
             and len(window.curves.runs[window.session.run_id].epoch_losses) >= args.epochs_before_shot,
             timeout=600)
        run = window.curves.runs[window.session.run_id]
        wait(app, lambda: len(run.batch_losses) % max(run.batches_per_epoch, 1) > run.batches_per_epoch // 3,
             timeout=120)
        app.processEvents()
        assert window.grab().save(str(ROOT / "docs" / "training.png"))
        window.close()

        window = new_window(app, Path(temp), data_dir)
        draw(window.drawing.pad, THREE)
        app.processEvents()
        assert window.drawing.grab().save(str(ROOT / "docs" / "drawing.png"))
        print(f"predicted {window.drawing.prediction.predicted_index} for the 3; "
              f"run shot at epoch {len(run.epoch_losses) + 1}")
        window.close()


if __name__ == "__main__":
    main()
