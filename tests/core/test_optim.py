"""Each optimizer's step against values computed by hand on a tiny tensor."""

import math

import numpy as np
import pytest

from core.compiled import kernels
from core.engine.config import TrainConfig
from core.engine.optim import SGD, Adam, Momentum, make_optimizer

W = [1.0, -2.0, 0.5]
G = [0.1, 0.2, -0.4]


def arrays():
    return np.array(W, np.float32), np.array(G, np.float32)


def test_sgd_step():
    w, g = arrays()
    SGD(3).step(w, g, 0.5)
    np.testing.assert_allclose(w, [0.95, -2.1, 0.7], rtol=1e-6)


def test_momentum_two_steps():
    w, g = arrays()
    optimizer = Momentum(3, beta=0.9)
    optimizer.step(w, g, 0.1)  # v = g; w = w - 0.1 g
    np.testing.assert_allclose(w, [0.99, -2.02, 0.54], rtol=1e-6)
    optimizer.step(w, g, 0.1)  # v = 0.9 g + g = 1.9 g
    np.testing.assert_allclose(optimizer.velocity, [0.19, 0.38, -0.76], rtol=1e-6)
    np.testing.assert_allclose(w, [0.99 - 0.019, -2.02 - 0.038, 0.54 + 0.076], rtol=1e-6)


def adam_by_hand(steps, lr=0.01, b1=0.9, b2=0.999, eps=1e-7):
    w, m, v = list(W), [0.0] * 3, [0.0] * 3
    for t in range(1, steps + 1):
        for k in range(3):
            m[k] = b1 * m[k] + (1 - b1) * G[k]
            v[k] = b2 * v[k] + (1 - b2) * G[k] ** 2
            m_hat, v_hat = m[k] / (1 - b1**t), v[k] / (1 - b2**t)
            w[k] -= lr * m_hat / (math.sqrt(v_hat) + eps)
    return w


def test_adam_first_step_moves_each_weight_by_lr():
    w, g = arrays()
    Adam(3, 0.9, 0.999, 1e-7).step(w, g, 0.01)
    # after one step m_hat / sqrt(v_hat) = sign(g)
    np.testing.assert_allclose(w, [0.99, -2.01, 0.51], rtol=1e-5)


def test_adam_three_steps_match_the_textbook_formula():
    w, g = arrays()
    optimizer = Adam(3, 0.9, 0.999, 1e-7)
    for _ in range(3):
        optimizer.step(w, g, 0.01)
    np.testing.assert_allclose(w, adam_by_hand(3), rtol=1e-5)
    assert optimizer.t == 3


def test_optimizer_state_round_trips():
    w, g = arrays()
    first = Adam(3, 0.9, 0.999, 1e-7)
    first.step(w, g, 0.01)
    second = Adam(3, 0.9, 0.999, 1e-7)
    second.load_state({k: np.array(v, copy=True) for k, v in first.state().items()})
    w1, w2 = w.copy(), w.copy()
    first.step(w1, g, 0.01)
    second.step(w2, g, 0.01)
    np.testing.assert_array_equal(w1, w2)


@pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed: only the NumPy path exists")
@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_fused_kernels_equal_the_numpy_path_bit_for_bit(name):
    config = TrainConfig.for_optimizer(name)
    rng = np.random.default_rng(0)
    start = rng.normal(0, 0.1, 5000).astype(np.float32)
    paths = {}
    for fused in (False, True):
        params = start.copy()
        optimizer = make_optimizer(config, params.size, fused=fused)
        assert optimizer.fused == fused
        for step in range(5):
            grads = np.random.default_rng(step).normal(0, 1e-2, params.size).astype(np.float32)
            optimizer.step(params, grads, config.lr)
        paths[fused] = params
    np.testing.assert_array_equal(paths[True], paths[False])
    assert not np.array_equal(paths[True], start)
