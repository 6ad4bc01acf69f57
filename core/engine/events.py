"""What a training run reports, as plain frozen data that can cross threads."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BatchEnd:
    epoch: int  # 1-based
    batch: int  # 1-based within the epoch
    batches_per_epoch: int
    loss: float
    elapsed: float  # seconds of training, pauses excluded
    samples_per_second: float


@dataclass(frozen=True)
class EpochEnd:
    epoch: int  # 1-based
    epochs: int
    loss: float  # mean batch loss over the epoch
    val_acc: float  # fraction in [0, 1]
    lr: float  # the learning rate used during this epoch
    seconds: float
    elapsed: float


@dataclass(frozen=True)
class RunEnd:
    status: str  # "finished", "stopped" or "diverged"
    test_acc: float | None
    message: str
    elapsed: float
    epochs_done: int


@dataclass(frozen=True)
class LearningRateChanged:
    """The learning rate was changed during the run (Trainer.set_lr), from this batch on."""

    epoch: int  # 1-based
    batch: int  # batches done in the epoch before the change
    batches_per_epoch: int
    lr: float


@dataclass(frozen=True)
class Paused:
    """The run is about to wait, between chunks, until it is resumed or stopped: all it has
    trained is in the events before this one (and in the Trainer's model and history)."""

    epoch: int  # 1-based
    batch: int  # batches done in the epoch


TrainingEvent = BatchEnd | EpochEnd | LearningRateChanged | Paused | RunEnd
