"""Make docs/robustness.png: the robustness curves of a plain and an augmented model, side by side.

    python docs/make_robustness_figure.py --plain PLAIN.npz [--augmented MODEL.npz] [--data-dir DIR]

The augmented model defaults to the bundled one. The figure is the Errors tab's own robustness
charts (gui/robustness_view.py), drawn offscreen with the app's theme, on MNIST's test images
(core/analysis/robustness.py: the same 3000 images at every level).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from assets import pretrained_model_path  # noqa: E402
from core.analysis.robustness import compare_robustness  # noqa: E402
from core.data.dataset import load_dataset, resolve_data_dir  # noqa: E402
from core.files.model_file import load_checkpoint  # noqa: E402
from gui.robustness_view import RobustnessView  # noqa: E402
from gui.theme import apply_theme  # noqa: E402

SIZE = (1000, 300)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plain", required=True, help="a model trained without augmentation")
    parser.add_argument("--augmented", default=None, help="a model trained with it (default: the bundled one)")
    parser.add_argument("--data-dir")
    parser.add_argument("--out", default=str(ROOT / "docs" / "robustness.png"))
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    dataset = load_dataset(resolve_data_dir(args.data_dir))
    augmented = Path(args.augmented) if args.augmented else pretrained_model_path()
    comparison = compare_robustness(load_checkpoint(args.plain).model, f"plain ({Path(args.plain).name})", augmented,
                                    dataset.test_images, dataset.test_labels)
    view = RobustnessView()
    view.set_comparison(comparison)
    view.legend.setText(view.legend.text().replace(f"{augmented.name}<", f"augmented ({augmented.name})<"))
    view.compare_box.hide()
    view.run_button.hide()
    view.status.setText("Accuracy (%) on 3000 MNIST test digits as each change grows: a plain and an augmented model")
    view.resize(*SIZE)
    view.show()
    app.processEvents()
    for curves in (comparison.first, comparison.second):
        print("  ".join(f"{curve.name}: " + " ".join(f"{level:g}={accuracy:.1%}" for level, accuracy
                                                    in zip(curve.levels, curve.accuracies)) for curve in curves))
    view.grab().save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
