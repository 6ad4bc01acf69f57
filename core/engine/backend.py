"""Which path trains a run, the compiled kernels or NumPy: decided where the run is built.

Both paths compute the same step (core/engine/network.py holds them side by side, the NumPy one
being the readable definition the tests pin the compiled one to). The decision used to be taken
twice, by the training step and by the optimizer, and when the two disagreed the run silently
took the slow path; now a `Backend` makes the step, the optimizer, the images the step reads
and the shuffle, all from one choice. The one change: a first run that starts with NumPy while
its kernels are built by another process moves to them between epochs (Trainer.upgrade,
core/engine/compile_process.py), and then takes all of these from the compiled backend at once.

`Backend.choose()` takes the compiled path when numba is there (MNIST_MLP_KERNELS=numpy turns it
off at import: core/compiled/kernels.py); `Backend.choose("numpy")` takes the NumPy path in any
process, so tests and benchmarks reach it without touching the kernels module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.compiled import kernels
from core.data.sparse_images import SparseImages
from core.engine.config import TrainConfig
from core.engine.lcg import LCG, shuffle_in_place
from core.engine.network import TrainingStep
from core.engine.optim import Optimizer, make_optimizer
from core.errors import ConfigError

NAMES = ("compiled", "numpy")


@dataclass(frozen=True)
class Backend:
    name: str  # "compiled" or "numpy"

    @classmethod
    def choose(cls, requested: Backend | str | None = None, layer_sizes: Sequence[int] | None = None) -> Backend:
        """The backend for a run: `requested` ("compiled", "numpy" or a Backend), or by default the
        compiled one when numba is there. A network without a hidden layer trains with NumPy (the
        compiled step's input layer must be a hidden one)."""
        if isinstance(requested, Backend):
            requested = requested.name
        if requested is not None and requested not in NAMES:
            raise ConfigError(f"backend must be one of {', '.join(NAMES)}, not {requested!r}")
        if requested == "compiled" and not kernels.AVAILABLE:
            raise ConfigError("the compiled backend needs numba (pip install numba), "
                              "and MNIST_MLP_KERNELS must not be numpy")
        compiled = requested != "numpy" and kernels.AVAILABLE
        if layer_sizes is not None and len(layer_sizes) <= 2:
            compiled = False
        return cls("compiled" if compiled else "numpy")

    @property
    def compiled(self) -> bool:
        return self.name == "compiled"

    def step(self, layer_sizes: Sequence[int], batch_size: int) -> TrainingStep:
        return TrainingStep(layer_sizes, batch_size, fused=self.compiled)

    def optimizer(self, config: TrainConfig, size: int) -> Optimizer:
        return make_optimizer(config, size, fused=self.compiled)

    def training_images(self, images: np.ndarray) -> np.ndarray | SparseImages:
        """What the step reads batches from: for the compiled step, a SparseImages built once
        (measured on Fashion-MNIST, half its pixels ink: 0.96 s an epoch, against 1.08 s converting
        each batch and 1.40 s with a dense BLAS input layer); else the uint8 images themselves."""
        return SparseImages.from_images(images) if self.compiled else images

    def shuffle(self, order: np.ndarray, generator: LCG) -> None:
        shuffle_in_place(order, generator, compiled=self.compiled)
