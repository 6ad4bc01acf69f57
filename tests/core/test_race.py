"""The optimizer race: each optimizer with its own seed defaults, everything else shared."""

import pytest

from core.engine.config import TrainConfig
from core.engine.network import MLP
from core.engine.race import RaceResult, race_configs
from core.engine.run_state import Checkpoint, History


def test_each_optimizer_gets_its_seed_defaults_and_the_shared_settings():
    base = TrainConfig.for_optimizer("sgd", lr=0.3, epochs=4, batch_size=32, seed=7, hidden=(20, 10), lr_decay=0.9)
    configs = race_configs(base)
    assert [c.optimizer for c in configs] == ["sgd", "momentum", "adam"]
    assert [c.lr for c in configs] == [0.005, 0.001, 0.0005]  # the seed's, not the base's 0.3
    assert configs[1].momentum == 0.95 and configs[2].eps == 1e-7
    for config in configs:
        assert (config.epochs, config.batch_size, config.seed, config.hidden, config.lr_decay) == (
            4, 32, 7, (20, 10), 0.9)


def test_a_result_reports_test_accuracy_time_per_epoch_and_best_epoch():
    config = TrainConfig.for_optimizer("momentum", hidden=(4,), epochs=3)
    history = History(epoch_losses=[1.0, 0.6, 0.5], val_accs=[0.7, 0.92, 0.91], epoch_seconds=[1.0, 2.0, 3.0],
                      test_acc=0.9)
    result = RaceResult.of("finished", Checkpoint(MLP.initialized(config.layer_sizes), config, history=history))
    assert result.optimizer == "momentum" and result.lr == 0.001
    assert result.best_epoch == 2 and result.best_val_acc == 0.92
    assert result.seconds_per_epoch == pytest.approx(2.0) and result.test_acc == 0.9 and result.epochs_done == 3


def test_a_run_stopped_before_its_first_epoch_has_no_best_epoch():
    config = TrainConfig(hidden=(4,))
    result = RaceResult.of("stopped", Checkpoint(MLP.initialized(config.layer_sizes), config))
    assert result.best_epoch is None and result.seconds_per_epoch is None and result.epochs_done == 0
