"""`train --augment`: stored in the saved run's settings, a different curve than plain, the same for the same seed."""

import numpy as np

from cli.commands import run_cli
from core.files.model_file import load_checkpoint

SMALL = ["--hidden", "32,16", "--batch-size", "32", "--epochs", "2", "--json"]


def test_train_augment_saves_the_setting_and_repeats_its_curve(tiny_dataset_dir, tmp_path, capsys):
    paths = {name: tmp_path / f"{name}.npz" for name in ("augmented", "again", "plain")}
    for name, extra in (("augmented", ["--augment"]), ("again", ["--augment"]), ("plain", [])):
        assert run_cli(["train", "--data-dir", str(tiny_dataset_dir), "--save", str(paths[name]), *SMALL, *extra]) == 0
    runs = {name: load_checkpoint(path) for name, path in paths.items()}
    assert runs["augmented"].config.augment and not runs["plain"].config.augment
    np.testing.assert_array_equal(runs["augmented"].history.batch_losses, runs["again"].history.batch_losses)
    assert runs["augmented"].history.batch_losses != runs["plain"].history.batch_losses
    assert runs["augmented"].history.test_acc > 0.5
