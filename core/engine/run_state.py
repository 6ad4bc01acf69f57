"""A run's learned state apart from its settings: curves, position, and the whole checkpoint."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.engine.config import TrainConfig
from core.engine.network import MLP


@dataclass
class History:
    """The curves of a run, appended as it trains. Accuracies are fractions in [0, 1]."""

    batch_losses: list[float] = field(default_factory=list)
    epoch_losses: list[float] = field(default_factory=list)
    val_accs: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    test_acc: float | None = None

    def best_epoch(self) -> tuple[int, float] | None:
        """(1-based epoch, validation accuracy) of the best epoch so far, or None before the first."""
        if not self.val_accs:
            return None
        best = int(np.argmax(self.val_accs))
        return best + 1, float(self.val_accs[best])


@dataclass
class Position:
    """Where a run stands, so that a checkpoint resumes on the same curve."""

    epochs_done: int = 0
    next_batch: int = 0  # batches already done in the current epoch
    lr: float = 0.0
    shuffle_state: int = 0
    order: np.ndarray | None = None  # the training permutation of the current epoch
    shuffled_epoch: int = 0  # the epoch `order` was shuffled for (0: not yet)

    def check_fits(self, train_count: int, batch_size: int) -> None:
        """Raise ValueError unless this position can index `train_count` training rows in batches of
        `batch_size`: the compiled step reads rows by the indices of `order` without checking them."""
        batches = train_count // batch_size
        if not 0 <= self.next_batch <= batches:
            raise ValueError(f"its next batch {self.next_batch} is outside the {batches} batches of an epoch")
        if not 0 <= self.shuffle_state < 2**31:
            raise ValueError(f"its shuffle state {self.shuffle_state} is outside the generator's range")
        if self.epochs_done < 0 or self.shuffled_epoch < 0:
            raise ValueError("its epoch counters are negative")
        if self.order is None:
            return
        order = self.order
        if not isinstance(order, np.ndarray) or order.dtype != np.int64 or order.shape != (train_count,):
            raise ValueError(f"its order is not {train_count} int64 row indices")
        if not np.array_equal(np.sort(order), np.arange(train_count)):
            raise ValueError(f"its order is not a permutation of the {train_count} training rows")


@dataclass
class Checkpoint:
    """A model with everything needed to show its curves and to resume its training."""

    model: MLP
    config: TrainConfig
    dataset_name: str = "MNIST"
    class_names: tuple[str, ...] = tuple(str(digit) for digit in range(10))
    history: History = field(default_factory=History)
    optimizer_state: dict[str, np.ndarray] = field(default_factory=dict)
    position: Position = field(default_factory=Position)

    @property
    def test_acc(self) -> float | None:
        return self.history.test_acc
