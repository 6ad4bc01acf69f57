"""The fast training step is pinned to the plain per-batch reference, for each optimizer."""

import numpy as np
import pytest

from core.engine.config import TrainConfig
from core.engine.network import MLP, ParameterBuffer, TrainingStep
from core.engine.optim import make_optimizer
from tests.reference import ReferenceNetwork


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_fast_step_matches_reference_over_several_steps(optimizer):
    config = TrainConfig.for_optimizer(optimizer, lr=0.01 if optimizer != "adam" else 0.001)
    sizes = config.layer_sizes
    model = MLP.initialized(sizes, seed=1337)
    reference = ReferenceNetwork(model, config)
    fast_optimizer = make_optimizer(config, model.flat.size)
    step = TrainingStep(sizes, 64)
    grads = ParameterBuffer(sizes)
    rng = np.random.default_rng(5)
    for _ in range(8):
        pixels = rng.integers(0, 256, (64, 784)).astype(np.uint8)
        pixels[rng.random(pixels.shape) < 0.8] = 0  # MNIST-like sparsity
        labels = rng.integers(0, 10, 64)
        x = np.divide(pixels, np.float32(255), dtype=np.float32)
        fast_loss = step.train(model, x, labels, grads, fast_optimizer, config.lr)  # as the Trainer does
        reference_loss = reference.step(pixels, labels, config.lr)
        assert fast_loss == pytest.approx(reference_loss, rel=1e-5)
    np.testing.assert_allclose(model.flat, reference.flat_parameters(), rtol=1e-4, atol=2e-6)
    assert not np.array_equal(model.flat, MLP.initialized(sizes, seed=1337).flat)  # it did train
