"""Training inside the window versus headless, in turns, and how responsive the window stays meanwhile.

    python bench/bench_app.py [--data-dir DIR] [--epochs 50] [--turn 1.0]

Starts the same Adam run twice: headless (the Trainer in a child process's main thread, as
`main.py train` runs it) and inside the real MainWindow (offscreen Qt, the QThread worker, live
curves, and the drawing pad classifying a digit as the weights change). Pausing one and resuming
the other, they take turns of --turn seconds until both have finished. Each turn's samples per
second come from the Trainer's own clock (pauses excluded); each in-app turn is compared with
the mean of the headless turns just before and after it. Prints every turn, the median of those
ratios, and the latency of a 10 ms GUI timer during the in-app turns (p50 / p99 / max).

Why turns: this shared machine's speed drifts from one few seconds to the next, so whole runs timed
one after the other gave ratios far apart from the same code (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from core.data.dataset import load_dataset, resolve_data_dir  # noqa: E402
from core.engine.config import TrainConfig  # noqa: E402
from core.engine.events import ChunkEnd  # noqa: E402
from core.engine.trainer import Trainer  # noqa: E402

TIMER_MS = 10


# -- the headless side: a child process, driven through its stdin --------------------------------

def headless_child(data_dir: str, epochs: int) -> int:
    """Trains in this (child) process's main thread, starting paused. Each "resume" line resumes
    it; each "pause" line pauses it and, once it has stopped, answers "<batches> <seconds>" (its
    batches so far and its training seconds); after the run it answers "done <batches> <seconds>"."""
    trainer = Trainer(TrainConfig(epochs=epochs), load_dataset(data_dir))
    trainer.pause()
    latest = [0, 0.0]

    def obey() -> None:
        for line in sys.stdin:
            if line.strip() == "resume":
                trainer.resume()
            elif line.strip() == "pause":
                trainer.pause()
                trainer.wait_until_halted()
                ended = "done " if trainer.position.epochs_done == epochs else ""
                print(f"{ended}{latest[0]} {latest[1]}", flush=True)

    threading.Thread(target=obey, daemon=True).start()
    for event in trainer.run():
        if isinstance(event, ChunkEnd):  # the history is at the chunk's end, as is its time
            latest[:] = [len(trainer.history.batch_losses), event.elapsed]
    time.sleep(3600)  # the reader answers until the parent has what it needs and ends this process
    return 0


class HeadlessRun:
    def __init__(self, data_dir: str, epochs: int) -> None:
        self.process = subprocess.Popen([sys.executable, __file__, "--headless-child", "--data-dir", data_dir,
                                         "--epochs", str(epochs)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        self.done = False

    def take_turn(self, seconds: float) -> tuple[int, float]:
        """Resume, train for `seconds`, pause; (batches, training seconds) so far."""
        self.process.stdin.write("resume\n")
        self.process.stdin.flush()
        time.sleep(seconds)
        self.process.stdin.write("pause\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().split()
        self.done = answer[0] == "done"
        return int(answer[-2]), float(answer[-1])

    def close(self) -> None:
        self.process.kill()


# -- the in-app side: the real window, in this process ------------------------------------------

class InAppRun:
    """A run started from the window, paused at once; its trainer's batches and training seconds
    come from the ChunkEnd events it yields to the window's worker."""

    def __init__(self, app, config: TrainConfig, dataset, settings_path: Path, tab: str = "Curves") -> None:
        from PySide6.QtCore import QElapsedTimer, QSettings, QTimer

        from gui.app import create_main_window

        self.app = app
        self.latest = (0, 0.0)
        self.trainer: Trainer | None = None
        self._record_batches()
        self.window = create_main_window(QSettings(str(settings_path), QSettings.Format.IniFormat))
        self.window.show()
        self.window.data.adopt(dataset)  # as after a first run: the worker does not reload it
        self.window.training_panel.set_data_dir(str(dataset.folder))
        self.window.training_panel.apply_config(config)
        draw_a_digit(self.window)
        self._spin(0.3)  # laid out and painted once, as a window is before anyone clicks Start
        self.window.run_controller.start_training()
        tabs = self.window.tabs
        tabs.setCurrentIndex([tabs.tabText(index) for index in range(tabs.count())].index(tab))
        self.window.session.pause()
        self._spin(60.0, until=lambda: self.trainer is not None and self.trainer.wait_until_halted(0))
        self.gaps: list[float] = []
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(TIMER_MS)
        self._timer.timeout.connect(lambda: self.gaps.append(self._clock.restart()))

    def _record_batches(self) -> None:
        run = Trainer.run
        recorder = self

        def recorded_run(trainer: Trainer):
            recorder.trainer = trainer
            for event in run(trainer):
                if isinstance(event, ChunkEnd):  # as in headless_child
                    recorder.latest = (len(trainer.history.batch_losses), event.elapsed)
                yield event

        Trainer.run = recorded_run

    @property
    def done(self) -> bool:
        return not self.window.is_training()

    def take_turn(self, seconds: float) -> tuple[int, float]:
        """Resume, train for `seconds` with the timer ticking, pause; (batches, training seconds) so far."""
        first_gap = len(self.gaps)
        self.window.session.resume()
        self._clock.start()
        self._timer.start()
        self._spin(seconds)
        self.window.session.pause()
        self._spin(10.0, until=lambda: self.trainer.wait_until_halted(0))  # up to a chunk: the GUI goes on
        self._timer.stop()
        del self.gaps[first_gap]  # from the turn's start: not a gap between two ticks
        self._spin(0.1)  # the window catches up with the turn's last updates before the other side's turn
        return self.latest

    def _spin(self, seconds: float, until=None) -> None:
        """The window's event loop for `seconds`, or until `until()` (checked every millisecond)."""
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        if until is not None:
            check = QTimer()
            check.setInterval(1)
            check.timeout.connect(lambda: until() and loop.quit())
            check.start()
        loop.exec()

    def close(self) -> None:
        self.window.session.resume()
        self.window.close()


def draw_a_digit(window) -> None:
    """A stroke on the pad, so every weight snapshot also runs a classification, as in real use."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    pad = window.drawing.pad
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(100, 60))
    QTest.mouseMove(pad, QPoint(140, 160))
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(140, 160))


def warm_up(dataset) -> None:
    """Kernels compiled and pages touched, in a thread other than this main one: once the main
    thread has run a parallel kernel, the window's worker trained slower (core/compiled/kernels.py)."""
    thread = threading.Thread(target=lambda: list(Trainer(TrainConfig(hidden=(8,), epochs=1), dataset).run()))
    thread.start()
    thread.join()


def rate(before: tuple[int, float], after: tuple[int, float], batch_size: int) -> float:
    return (after[0] - before[0]) * batch_size / max(after[1] - before[1], 1e-9)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--turn", type=float, default=1.0, help="seconds of each turn")
    parser.add_argument("--tab", default="Curves", help="the tab shown during the run (Curves, Map, Filters...)")
    parser.add_argument("--headless-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    data_dir = str(resolve_data_dir(args.data_dir))
    if args.headless_child:
        return headless_child(data_dir, args.epochs)

    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    dataset = load_dataset(data_dir)
    config = TrainConfig(epochs=args.epochs)
    warm_up(dataset)
    headless = HeadlessRun(data_dir, args.epochs)
    in_app = InAppRun(app, config, dataset, Path(os.environ.get("TMPDIR", "/tmp")) / "mnist-mlp-bench.ini", args.tab)
    headless_rates, in_app_rates = [], []
    headless_at, in_app_at = (0, 0.0), (0, 0.0)
    try:
        while not (headless.done and in_app.done):
            if not headless.done:
                headless_at, before = headless.take_turn(args.turn), headless_at
                headless_rates.append(rate(before, headless_at, config.batch_size))
            if not in_app.done:
                in_app_at, before = in_app.take_turn(args.turn), in_app_at
                in_app_rates.append(rate(before, in_app_at, config.batch_size))
    finally:
        headless.close()
        in_app.close()
    print("| turn | headless samples/s | in-app samples/s | in-app / mean of the headless turns around it |")
    print("|---|---:|---:|---:|")
    ratios = []
    for turn, in_app_rate in enumerate(in_app_rates):
        around = headless_rates[turn:turn + 2]
        if len(around) == 2:  # the last turns, when one run finished first, have no neighbours
            ratios.append(in_app_rate / np.mean(around))
        ratio = f"{ratios[-1]:.1%}" if len(around) == 2 else ""
        headless_rate = f"{headless_rates[turn]:,.0f}" if turn < len(headless_rates) else ""
        print(f"| {turn + 1} | {headless_rate} | {in_app_rate:,.0f} | {ratio} |")
    gaps = np.asarray(in_app.gaps, dtype=float)
    print(f"\nmedian in-app / headless: {np.median(ratios):.1%} (quartiles {np.percentile(ratios, 25):.1%}-"
          f"{np.percentile(ratios, 75):.1%}, {len(ratios)} turns); in-app samples/s over all turns: "
          f"{in_app_at[0] * config.batch_size / in_app_at[1]:,.0f}, headless: "
          f"{headless_at[0] * config.batch_size / headless_at[1]:,.0f}")
    print(f"timer during the in-app turns: p50 {np.percentile(gaps, 50):.1f} ms, p99 {np.percentile(gaps, 99):.1f} ms, "
          f"max {gaps.max():.0f} ms ({len(gaps)} ticks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
