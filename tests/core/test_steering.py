"""Steering a live run: a new learning rate from any thread, and early stopping with the best weights kept."""

from __future__ import annotations

import numpy as np
import pytest

import core.engine.trainer
from core.data.dataset import load_dataset
from core.engine.config import TrainConfig
from core.engine.events import ChunkEnd, EpochEnd, LearningRateChanged, RunEnd
from core.engine.trainer import Trainer
from core.errors import ConfigError


def small_config(**changes) -> TrainConfig:
    return TrainConfig.for_optimizer("adam", hidden=(32, 16), batch_size=32, **changes)


def test_a_new_learning_rate_takes_effect_from_the_next_chunk_and_decays_from_there(tiny_dataset_dir):
    trainer = Trainer(small_config(epochs=2, lr_decay=0.5), load_dataset(tiny_dataset_dir))
    trainer.max_chunk = 1  # a chunk a batch: the change lands at the next batch
    events = []
    for event in trainer.run():
        events.append(event)
        if isinstance(event, ChunkEnd) and event.epoch == 1 and event.batch == 3:
            trainer.set_lr(0.01)
    changed = [event for event in events if isinstance(event, LearningRateChanged)]
    assert changed == [LearningRateChanged(1, 3, 0.01)]
    assert trainer.history.lrs == [0.01, 0.005]
    assert isinstance(events[-1], RunEnd) and events[-1].status == "finished"
    with pytest.raises(ConfigError):
        trainer.set_lr(float("nan"))


def test_patience_stops_the_run_and_keeps_the_best_epochs_weights(tiny_dataset_dir, monkeypatch):
    scripted = iter([0.5, 0.7, 0.6, 0.65, 0.9, 0.9, 0.9])  # validation epochs 1-4, then the test
    monkeypatch.setattr(core.engine.trainer, "accuracy", lambda model, images, labels: next(scripted))
    trainer = Trainer(small_config(epochs=6, patience=2), load_dataset(tiny_dataset_dir))
    weights_at = {}
    for event in trainer.run():
        if isinstance(event, EpochEnd):
            weights_at[event.epoch] = trainer.model.flat.copy()
        if isinstance(event, RunEnd):
            end = event
    assert end.status == "stopped" and end.epochs_done == 4
    assert "no better validation accuracy for 2 epochs" in end.message and "epoch 2 (70.00%)" in end.message
    np.testing.assert_array_equal(trainer.model.flat, weights_at[2])
    assert not np.array_equal(weights_at[2], weights_at[4])


def test_patience_is_a_setting_saved_with_the_run():
    assert TrainConfig.from_dict(small_config(patience=3).to_dict()).patience == 3
    with pytest.raises(ConfigError):
        small_config(patience=-1)
    assert TrainConfig().patience == 0
