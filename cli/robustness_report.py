"""`evaluate --robustness`: a model's accuracy as the test digits are shifted, turned, scaled,
thickened or noised (core/analysis/robustness.py), as a table or one JSON object."""

from __future__ import annotations

import json

from core.analysis.robustness import RobustnessCurve


def print_robustness(curves: list[RobustnessCurve], dataset_name: str, sample: int, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"event": "robustness", "dataset": dataset_name, "sample": sample,
                          "curves": [curve.to_dict() for curve in curves]}), flush=True)
        return
    print(f"{dataset_name}: accuracy on {sample} test images as each change grows")
    for curve in curves:
        cells = "  ".join(f"{level:g}{curve.unit} {accuracy:6.1%}" for level, accuracy in zip(curve.levels,
                                                                                              curve.accuracies))
        print(f"{curve.name:>9}  {cells}")
