"""What a training run reports, as plain frozen data that can cross threads.

A run yields RunStart first, then a ChunkEnd for each call of the compiled step (a chunk of
batches, about CHUNK_SECONDS of training), EpochEnd at each epoch's end, and RunEnd last;
LearningRateChanged and Paused when the user steers it; BackendChanged when a first run moves
from NumPy to the compiled kernels built meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RunStart:
    """The run is about to train: what every later event is counted against."""

    epochs: int  # the run's planned epochs, those done before a resume included
    batches_per_epoch: int
    batches_done: int  # batches trained before this run (resumed from a checkpoint), else 0

    @property
    def total_batches(self) -> int:
        return self.epochs * self.batches_per_epoch


@dataclass(frozen=True, eq=False)
class ChunkEnd:
    """A chunk of batches was trained: the model, history and position have moved on by all of it."""

    epoch: int  # 1-based
    batch: int  # batches done in the epoch after this chunk
    losses: np.ndarray  # (count,) float64: the chunk's batch losses, in order
    elapsed: float  # seconds of training in this run, pauses excluded
    samples_per_second: float  # over the epoch so far


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
    """The learning rate was changed during the run (RunControl.set_lr), from this batch on."""

    epoch: int  # 1-based
    batch: int  # batches done in the epoch before the change
    lr: float


@dataclass(frozen=True)
class Paused:
    """The run is about to wait, between chunks, until it is resumed or stopped: all it has
    trained is in the events before this one (and in the Trainer's model and history)."""

    epoch: int  # 1-based
    batch: int  # batches done in the epoch


@dataclass(frozen=True)
class BackendChanged:
    """From this epoch on the run trains on another backend: a first run that started with NumPy
    while its compiled kernels were built elsewhere (core/engine/compile_process.py) moved to them."""

    epoch: int  # 1-based: the first epoch on the new backend
    backend: str  # "compiled" or "numpy"


TrainingEvent = RunStart | ChunkEnd | EpochEnd | LearningRateChanged | Paused | BackendChanged | RunEnd
