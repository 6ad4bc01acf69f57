"""What a live weight snapshot costs the GUI thread on the drawing pad, with and without the pad's saliency overlay.

    python bench/bench_pad_snapshot.py [--repeats 60]

A DrawingPanel with the bundled model and a stroke on the pad; `CurrentModel.show_live` (what a
running run's weight snapshot does, twice a second) timed `repeats` times with the overlay, then
without it (no placement to carry the saliency back to the pad), then with it again. Prints
milliseconds a snapshot. The overlay is made at half the pad's resolution (drawing_panel.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=60)
    args = parser.parse_args()
    app = QApplication([])
    from assets import pretrained_model_path
    from core.files.model_file import load_checkpoint
    from gui.current_model import CurrentModel
    from gui.drawing_panel import DrawingPanel

    current = CurrentModel()
    panel = DrawingPanel(current)
    panel.resize(360, 600)
    panel.show()
    checkpoint = load_checkpoint(pretrained_model_path())
    current.set_checkpoint(checkpoint, "bundled")
    pad = panel.pad
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(100, 60))
    QTest.mouseMove(pad, QPoint(140, 160))
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(140, 160))
    app.processEvents()

    def per_snapshot() -> float:
        started = time.perf_counter()
        for _ in range(args.repeats):
            current.show_live(checkpoint.model, checkpoint.class_names, "bench")
            app.processEvents()
        return (time.perf_counter() - started) / args.repeats * 1e3

    per_snapshot()  # warm up
    with_overlay = per_snapshot()
    placement, panel._placement = panel._placement, None
    without = per_snapshot()
    panel._placement = placement
    again = per_snapshot()
    print(f"load average {os.getloadavg()[0]:.2f}: a live snapshot with the pad's overlay {with_overlay:.2f} / "
          f"{again:.2f} ms, without it {without:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
