import numpy as np
import pytest

from core.compiled.aligned import CACHE_LINE, aligned_copy, aligned_empty, aligned_zeros
from core.engine.config import TrainConfig
from core.engine.network import MLP, ParameterBuffer, TrainingStep
from core.engine.optim import make_optimizer


@pytest.mark.parametrize("shape", [1, 17, (3, 5), 242_762])
def test_aligned_arrays_start_on_a_cache_line(shape):
    for array in (aligned_empty(shape), aligned_zeros(shape, np.float64), aligned_copy(np.arange(np.prod(shape)))):
        assert array.ctypes.data % CACHE_LINE == 0
        assert array.flags.c_contiguous and array.flags.owndata is False
    assert aligned_zeros(shape).shape == np.zeros(shape).shape and not aligned_zeros(shape).any()
    values = np.arange(np.prod(shape), dtype=np.int32)
    np.testing.assert_array_equal(aligned_copy(values), values)


def test_the_training_buffers_start_on_a_cache_line():
    """The compiled kernels' 64-byte loads along W1's 1 KB rows each stay within one line."""
    sizes = (784, 256, 128, 64, 10)
    model, step = MLP.initialized(sizes), TrainingStep(sizes, 64)
    adam = make_optimizer(TrainConfig(optimizer="adam"), model.flat.size)
    momentum = make_optimizer(TrainConfig(optimizer="momentum"), model.flat.size)
    buffers = [model.flat, model.copy().flat, ParameterBuffer(sizes).flat, step.activations, step.gradients,
               step.partials, step.pads, adam.m, adam.v, momentum.velocity]
    buffers = [array for array in buffers if array.size]  # the NumPy path has no kernel threads' partials or pads
    assert len(buffers) >= 8 and [array.ctypes.data % CACHE_LINE for array in buffers] == [0] * len(buffers)
