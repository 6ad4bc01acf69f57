"""Make the README's screenshots of the real window, offscreen, as the app shows it (theme included).

    python docs/make_screenshots.py [--data-dir DIR] [--epochs-before-shot 3] [--race-epochs 5] [--every-tab DIR]

With its settings and run history in a temp folder: docs/training.png (an Adam run on MNIST with the
default settings, shot mid-epoch once a few epochs are on the charts, a digit on the pad);
docs/drawing.png (a digit drawn for the bundled model); docs/errors.png (the bundled model's
confusion matrix and a cell's images); docs/race.png (Compare optimizers, finished);
docs/history.png, docs/filters.png, docs/dataset.png and docs/map.png (the other tabs after the race);
docs/window-1024x640.png, docs/window-1280x800.png and docs/window-1920x1080.png (the window at the
smallest, a middling and a large screen). With --every-tab DIR, also every tab at each of those sizes,
after the race, into DIR (TAB-WIDTHxHEIGHT.png): the check that nothing is clipped, illegible or jumps.
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

from core.data.dataset import resolve_data_dir  # noqa: E402
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
    parser.add_argument("--race-epochs", type=int, default=5)
    parser.add_argument("--every-tab", type=Path, default=None, metavar="DIR",
                        help="also shoot every tab at every size into DIR")
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
        shoot_sizes(app, window)
        print(f"predicted {window.drawing.prediction.predicted_index} for the 3; "
              f"run shot at epoch {len(run.epoch_losses) + 1}")
        window.close()

        window = new_window(app, Path(temp), data_dir)
        shoot_errors(app, window)
        window.close()

        window = new_window(app, Path(temp), data_dir)
        shoot_race_and_tabs(app, window, args.race_epochs)
        if args.every_tab is not None:
            shoot_every_tab(app, window, args.every_tab)
        window.close()


def shoot_errors(app: QApplication, window) -> None:
    window.tabs.setCurrentWidget(window.errors)
    wait(app, lambda: window.errors.evaluation is not None and not window.errors.gallery.is_filling(), 60)
    window.errors.show_cell(4, 9)  # fours taken for nines: the classic
    wait(app, lambda: not window.errors.gallery.is_filling(), 10)
    window.errors.gallery.list.setCurrentRow(0)
    app.processEvents()
    assert window.grab().save(str(ROOT / "docs" / "errors.png"))


def shoot_race_and_tabs(app: QApplication, window, epochs: int) -> None:
    window.runs_list.remove_requested.emit(window.runs_list.run_ids()[0])  # the bundled model's curves
    window.training_panel.epochs_box.setValue(epochs)
    window.training_panel.race_button.click()
    wait(app, lambda: not window.session.is_racing() and not window.is_training(), timeout=900)
    app.processEvents()
    assert window.grab().save(str(ROOT / "docs" / "race.png"))
    window.tabs.setCurrentWidget(window.history)
    window.history.table.selectRow(0)
    app.processEvents()
    assert window.grab().save(str(ROOT / "docs" / "history.png"))
    window.tabs.setCurrentWidget(window.filters)
    wait(app, lambda: window.filters.shown_weights is not None, 10)
    app.processEvents()
    assert window.filters.grab().save(str(ROOT / "docs" / "filters.png"))
    window.tabs.setCurrentWidget(window.dataset_view)
    window.dataset_view.select_class(3)
    app.processEvents()
    assert window.dataset_view.grab().save(str(ROOT / "docs" / "dataset.png"))
    window.tabs.setCurrentWidget(window.hidden_map)
    wait(app, lambda: window.hidden_map.coordinates is not None, 30)
    app.processEvents()
    assert window.grab().save(str(ROOT / "docs" / "map.png"))


SIZES = ((1024, 640), (1280, 800), (1920, 1080))


def shoot_every_tab(app: QApplication, window, folder: Path) -> None:
    """Every tab at every size, for a look at what is clipped or illegible (not for the README)."""
    folder.mkdir(parents=True, exist_ok=True)
    for width, height in SIZES:
        window.resize(width, height)
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            if window.tabs.currentWidget() is window.errors:
                wait(app, lambda: window.errors.evaluation is not None and not window.errors.gallery.is_filling(), 60)
            app.processEvents()
            assert window.grab().save(str(folder / f"{window.tabs.tabText(index)}-{width}x{height}.png"))
    window.resize(*SIZE)


def shoot_sizes(app: QApplication, window) -> None:
    """The window at the smallest screen it is made for, at the default size and at full HD, a digit on the pad."""
    for width, height in SIZES:
        window.resize(width, height)
        app.processEvents()
        assert window.grab().save(str(ROOT / "docs" / f"window-{width}x{height}.png"))


if __name__ == "__main__":
    main()
