"""`evaluate --robustness`: a table of curves, or one JSON object with them."""

import json

from cli.commands import run_cli
from core.analysis.robustness import LEVELS


def test_evaluate_robustness_prints_every_curve(tiny_dataset_dir, tmp_path, capsys):
    model = tmp_path / "model.npz"
    assert run_cli(["train", "--data-dir", str(tiny_dataset_dir), "--epochs", "2", "--json", "--save", str(model),
                    "--hidden", "32,16", "--batch-size", "32"]) == 0
    capsys.readouterr()
    assert run_cli(["evaluate", "--robustness", "--json", "--model", str(model), "--data-dir",
                    str(tiny_dataset_dir)]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["event"] == "robustness" and result["sample"] == 200
    assert [curve["name"] for curve in result["curves"]] == list(LEVELS)
    shift = result["curves"][0]
    assert shift["levels"] == list(LEVELS["shift"]) and shift["accuracies"][0] > 0.8
    assert shift["accuracies"][-1] < shift["accuracies"][0]  # 5 px off center: a plain model loses digits
    assert run_cli(["evaluate", "--robustness", "--model", str(model), "--data-dir", str(tiny_dataset_dir)]) == 0
    text = capsys.readouterr().out
    assert "accuracy on 200 test images" in text and all(name in text for name in LEVELS)
