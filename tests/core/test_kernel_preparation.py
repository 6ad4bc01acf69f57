"""The kernels prepared ahead of a run are the ones the run calls: it compiles nothing more."""

import numpy as np
import pytest

from core.compiled import kernels, step_kernels
from core.data.sparse_images import SparseImages
from core.engine import kernel_preparation
from core.engine.config import TrainConfig
from core.engine.kernel_preparation import KernelPreparation
from core.engine.lcg import LCG, shuffle_in_place
from core.engine.network import MLP, ParameterBuffer, TrainingStep
from core.engine.optim import make_optimizer

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed: nothing to compile")


@needs_numba
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_a_run_after_preparation_finds_its_training_step_built(optimizer):
    preparation = KernelPreparation().start()
    assert preparation.wait(timeout=None) and preparation.done
    assert preparation.error == "" and preparation.stages_done == len(kernel_preparation.STAGES)
    assert preparation.stage == "" and preparation.seconds > 0
    built = set(step_kernels.train_steps.signatures)
    # a real run's call: another network, batch size and optimizer, MNIST-like uint8 labels
    config = TrainConfig.for_optimizer(optimizer, hidden=(16, 8), batch_size=8)
    model = MLP.initialized(config.layer_sizes, seed=3)
    rng = np.random.default_rng(1)
    pixels = np.where(rng.random((16, 784)) < 0.8, 0, rng.integers(0, 256, (16, 784))).astype(np.uint8)
    labels = rng.integers(0, 10, 16).astype(np.uint8)
    step = TrainingStep(config.layer_sizes, 8)
    order = np.arange(16)
    shuffle_in_place(order, LCG(1))
    losses = step.train_batches(model, SparseImages.from_images(pixels), order, labels[order],
                                ParameterBuffer(config.layer_sizes), make_optimizer(config, model.flat.size), config.lr)
    assert np.isfinite(losses).all()
    assert set(step_kernels.train_steps.signatures) == built  # nothing compiled for the run


@needs_numba
def test_once_prepared_the_cache_holds_the_step():
    kernel_preparation.start_preparing().wait()
    assert kernel_preparation.start_preparing() is kernel_preparation.start_preparing()
    assert kernel_preparation._cached(step_kernels.train_steps)
    assert not KernelPreparation().first_run


def test_without_numba_there_is_nothing_to_prepare(monkeypatch):
    monkeypatch.setattr(kernels, "AVAILABLE", False)
    preparation = KernelPreparation()
    assert not preparation.first_run
    assert preparation.start().wait(timeout=None)
    assert preparation.stages_done == 0 and not preparation.compiled and preparation.error == ""
