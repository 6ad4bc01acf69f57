"""The drawn-digit check on more digits: MNIST test digits redrawn on the app's pad, read by a model.

    python bench/bench_drawn.py [--model PATH ...] [--count 10000] [--seed 1] [--data-dir DIR] [--flips]

The digits are drawn once; for each model (default: the bundled one) it prints the accuracy on
the drawings beside the raw test accuracy of the same digits, overall and by the ink's height on
the 280-px pad (see tests/drawn_digits.py for how the digits are drawn). The same seed draws the
same digits at the same sizes and places. By default every test digit is drawn once (about 4
minutes): a sample of 2,000 digits gives a figure up to about half a point off the whole set's,
by which digits it holds (-0.05 to 0.60 points lost, seeds 1-10, against 0.47 and 0.45 for the
whole test set, seeds 1 and 2).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from assets import pretrained_model_path  # noqa: E402
from core.data.dataset import load_dataset, resolve_data_dir  # noqa: E402
from core.files.model_file import load_checkpoint  # noqa: E402
from tests.drawn_digits import draw_test_digits, format_table, make_panel  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="model .npz file (repeat to compare; default bundled)")
    parser.add_argument("--count", type=int, default=10_000, help="digits to draw (default 10000: every test digit)")
    parser.add_argument("--seed", type=int, default=1, help="which digits, sizes and places (default 1)")
    parser.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DIR or the app's)")
    parser.add_argument("--flips", action="store_true",
                        help="also list the digits whose test image reads right and whose drawing does not")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    dataset = load_dataset(resolve_data_dir(args.data_dir))
    paths = args.model or [str(pretrained_model_path())]
    models = [load_checkpoint(path).model for path in paths]
    panel = make_panel(models[0])
    started = time.perf_counter()
    drawn = draw_test_digits(panel, models[0], dataset.test_images, dataset.test_labels, args.count, args.seed)
    panel.close()
    print(f"{len(drawn.indices)} test digits drawn on the pad in {time.perf_counter() - started:.1f} s")
    for path, model in zip(paths, models):
        result = drawn.read_by(model, dataset.test_images, dataset.test_labels)
        print(f"{path}:")
        print(format_table(result))
        if args.flips:
            flips = result.flips(dataset.test_labels)
            print(f"{len(flips)} digits read right as test images and wrong drawn (test index: label -> read as, "
                  f"ink height):")
            print(", ".join(f"{index}: {label}->{read} ({height:.0f} px)" for index, label, read, height in flips))
    app.processEvents()


if __name__ == "__main__":
    main()
