"""The optimizer race: the seed's central experiment, SGD vs Momentum vs Adam on equal terms.

Each optimizer runs with its own seed defaults (learning rate, betas) and everything else shared
(seed, so the same initial weights and shuffles; epochs; batch size; decay; layers), one after
another, and the race reports what the seed's results table does, plus time and best epoch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.engine.config import OPTIMIZERS, TrainConfig
from core.engine.run_state import Checkpoint


def race_configs(base: TrainConfig) -> list[TrainConfig]:
    """One config per optimizer: its seed defaults, the rest of `base` shared."""
    shared = {"epochs": base.epochs, "batch_size": base.batch_size, "lr_decay": base.lr_decay, "seed": base.seed,
              "hidden": base.hidden, "init": base.init, "validation": base.validation, "augment": base.augment,
              "patience": base.patience}
    return [TrainConfig.for_optimizer(name, **shared) for name in OPTIMIZERS]


@dataclass(frozen=True)
class RaceResult:
    optimizer: str
    lr: float
    status: str
    epochs_done: int
    test_acc: float | None
    seconds_per_epoch: float | None
    best_epoch: int | None  # 1-based, by validation accuracy
    best_val_acc: float | None

    @classmethod
    def of(cls, status: str, checkpoint: Checkpoint) -> RaceResult:
        history = checkpoint.history
        best_epoch, best_val_acc = history.best_epoch() or (None, None)
        seconds = float(np.mean(history.epoch_seconds)) if history.epoch_seconds else None
        return cls(checkpoint.config.optimizer, checkpoint.config.lr, status, len(history.epoch_losses),
                   history.test_acc, seconds, best_epoch, best_val_acc)
