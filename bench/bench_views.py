"""How long the window's heavy views stall the GUI event loop, on real MNIST.

    python bench/bench_views.py [--data-dir DIR]

For each action (evaluating the 10,000 test images, filling the mistakes gallery, the biggest
confusion cell, the first-layer tiles, dataset pages, the run history) it prints the longest gap
between ticks of a 10 ms GUI timer while the action runs, and the action's own duration. The
target is no stall over 100 ms.
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
os.environ.setdefault("XDG_DATA_HOME", tempfile.mkdtemp(prefix="bench-views-"))  # keep real runs out of it

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from core.data.dataset import resolve_data_dir  # noqa: E402
from core.files.model_file import load_checkpoint  # noqa: E402
from core.runs.run_history import RunStore  # noqa: E402

TICK_MS = 10


class StallMeter:
    """Records the gaps between ticks of a 10 ms timer: an event loop that stalls shows long gaps."""

    def __init__(self) -> None:
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[int] = []

    def _tick(self) -> None:
        self.gaps.append(self.clock.restart())

    def measure(self, app: QApplication, action, done, timeout: float = 30.0) -> tuple[float, float]:
        """Run `action()`, spin the event loop until `done()`; return (longest gap ms, seconds taken)."""
        self.gaps = []
        self.clock.start()
        self.timer.start()
        started = time.perf_counter()
        QTimer.singleShot(0, action)
        app.processEvents()
        while not done() and time.perf_counter() - started < timeout:
            app.processEvents()
            time.sleep(0.001)
        seconds = time.perf_counter() - started
        for _ in range(5):  # let a few ticks land after the action
            app.processEvents()
            time.sleep(TICK_MS / 1000)
        self.timer.stop()
        return (max(self.gaps) if self.gaps else float("nan")), seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    app = QApplication([])
    from gui.app import create_main_window

    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue("data_dir", str(resolve_data_dir(args.data_dir)))
    window = create_main_window(settings)
    window.show()
    for _ in range(20):
        app.processEvents()
    meter = StallMeter()
    pretrained = window.current
    for index in range(20):  # a history worth listing
        RunStore().save(f"20260101-0000{index:02d}-000-adam", "2026-01-01T00:00:00", "finished", pretrained)

    results = []

    def run(name: str, action, done) -> None:
        gap, seconds = meter.measure(app, action, done)
        results.append((name, gap, seconds))
        print(f"| {name} | {gap:.0f} | {seconds:.2f} |", flush=True)

    print("| action | longest event-loop gap (ms) | action took (s) |")
    print("|---|---:|---:|")
    run("load the dataset (background)", lambda: window.data.with_dataset(lambda: None),
        lambda: window.dataset is not None)
    gallery_filled = lambda: not window.errors.gallery.is_filling()  # noqa: E731
    window.tabs.setCurrentWidget(window.errors)  # starts an evaluation of its own: let it end first
    meter.measure(app, lambda: None, lambda: window.errors.evaluation is not None and gallery_filled())
    window.errors.evaluation = None  # so the measured evaluation's arrival can be seen
    run("evaluate 10,000 test images (background) + mistakes gallery",
        window.analysis.evaluate, lambda: window.errors.evaluation is not None and gallery_filled())
    biggest = int(np.argmax(np.diag(window.errors.evaluation.confusion)))
    run(f"gallery of the biggest cell ({biggest} recognized)",
        lambda: window.errors.show_cell(biggest, biggest), gallery_filled)
    run("gallery of all mistakes", window.errors.show_mistakes, gallery_filled)
    window.tabs.setCurrentWidget(window.filters)
    weights = load_checkpoint(ROOT / "assets" / "pretrained.npz").model.weights[0]
    run("first-layer tiles (256 units)", lambda: window.filters.set_weights(weights.copy()),
        lambda: window.filters.shown_weights is not None)
    window.tabs.setCurrentWidget(window.dataset_view)
    run("dataset: choose a class", lambda: window.dataset_view.select_class(1), lambda: True)
    run("dataset: next page", window.dataset_view.next_page, lambda: True)
    window.tabs.setCurrentWidget(window.history)
    run("run history: list 20 runs", window.history.refresh, lambda: True)
    window.close()
    worst = max(gap for _, gap, _ in results)
    print(f"\nworst stall: {worst:.0f} ms (target: under 100 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
