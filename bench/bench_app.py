"""Training inside the window versus headless, and how responsive the window stays meanwhile.

    python bench/bench_app.py [--data-dir DIR] [--epochs 2] [--repeats 5]

Runs the same Adam epochs headless (`main.py train`, the Trainer alone in a child process) and
inside the real MainWindow (offscreen Qt, the QThread worker, live curves and the drawing pad
classifying a digit as the weights change), in turn, and prints samples per second of both,
their ratio, and the latency of a 10 ms GUI timer during the in-app run (p50 / p99 / max); then
the median ratio. Compare ratios, not seconds: this machine's speed drifts 2x within minutes, and
a single pair's ratio with it (50-135 % seen in one invocation).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from core.config import TrainConfig  # noqa: E402
from core.dataset import load_dataset, resolve_data_dir  # noqa: E402
from core.trainer import Trainer  # noqa: E402

TIMER_MS = 10


def headless_samples_per_second(config: TrainConfig, dataset) -> float:
    """Samples per second of `main.py train` (the Trainer alone, in a child's main thread)."""
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", "--json", "--epochs", str(config.epochs),
                             "--data-dir", str(dataset.folder)], check=True, capture_output=True, text=True)
    events = [json.loads(line) for line in result.stdout.splitlines()]
    seconds = [event["seconds"] for event in events if event["event"] == "epoch"]
    return dataset_batches(dataset, config) * config.batch_size * len(seconds) / sum(seconds)


def warm_up(dataset) -> None:
    """Kernels compiled and pages touched, in a thread other than this main one: once the main
    thread has run a parallel kernel, the window's worker trained 25 % slower (core/kernels.py)."""
    thread = threading.Thread(target=lambda: list(Trainer(TrainConfig(hidden=(8,), epochs=1), dataset).run()))
    thread.start()
    thread.join()


def in_app_run(app: QApplication, config: TrainConfig, dataset, settings_path: Path) -> tuple[float, np.ndarray]:
    """Samples per second of a run started from the window, and the timer gaps (ms) during it."""
    from gui.app import create_main_window

    window = create_main_window(QSettings(str(settings_path), QSettings.Format.IniFormat))
    window.show()
    window.session.dataset = dataset  # as after a first run: the worker does not reload it
    window.training_panel.set_data_dir(str(dataset.folder))
    window.training_panel.apply_config(config)
    draw_a_digit(window)
    QTest.qWait(300)  # laid out and painted once, as a window is before anyone clicks Start
    gaps: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setInterval(TIMER_MS)

    def tick() -> None:
        gaps.append(clock.restart())

    timer.timeout.connect(tick)
    loop = QEventLoop()
    window.start_training()
    window.session.idle.connect(loop.quit)
    clock.start()
    timer.start()
    loop.exec()
    timer.stop()
    window.close()
    seconds = window.current.history.epoch_seconds  # the finished run's own per-epoch timings
    samples = dataset_batches(dataset, config) * config.batch_size * len(seconds)
    return samples / sum(seconds), np.asarray(gaps[5:], dtype=float)


def dataset_batches(dataset, config: TrainConfig) -> int:
    return len(dataset.train_images) // config.batch_size


def draw_a_digit(window) -> None:
    """A stroke on the pad, so every weight snapshot also runs a classification, as in real use."""
    from PySide6.QtCore import QPoint, Qt

    pad = window.drawing.pad
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(100, 60))
    QTest.mouseMove(pad, QPoint(140, 160))
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(140, 160))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    app = QApplication([])
    dataset = load_dataset(resolve_data_dir(args.data_dir))
    config = TrainConfig(epochs=args.epochs)
    warm_up(dataset)
    settings_path = Path(os.environ.get("TMPDIR", "/tmp")) / "mnist-mlp-bench.ini"
    print("| repeat | headless samples/s | in-app samples/s | in-app / headless | "
          "timer p50 ms | timer p99 ms | timer max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    ratios, p99s = [], []
    for repeat in range(1, args.repeats + 1):
        headless = headless_samples_per_second(config, dataset)
        in_app, gaps = in_app_run(app, config, dataset, settings_path)
        ratios.append(in_app / headless)
        p99s.append(np.percentile(gaps, 99))
        print(f"| {repeat} | {headless:,.0f} | {in_app:,.0f} | {in_app / headless:.1%} | "
              f"{np.percentile(gaps, 50):.1f} | {p99s[-1]:.1f} | {gaps.max():.1f} |", flush=True)
    print(f"\nmedian in-app / headless: {np.median(ratios):.1%}; median timer p99: {np.median(p99s):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
