import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.network import MLP, ParameterBuffer, TrainingStep, softmax


def small_problem(seed=0, sizes=(12, 7, 6, 5, 4), batch=5):
    rng = np.random.default_rng(seed)
    model = MLP.initialized(sizes, seed=seed + 1)
    model.flat[...] = rng.normal(0, 0.5, model.flat.size).astype(np.float32)
    x = rng.random((batch, sizes[0])).astype(np.float32)
    labels = rng.integers(0, sizes[-1], batch)
    return model, x, labels


def loss64(model, flat64, x, labels):
    """The loss in float64 with parameters `flat64`, by the textbook formulas."""
    buffer = ParameterBuffer(model.layer_sizes, np.zeros(model.flat.size, np.float32))
    weights, biases = [], []
    offset = 0
    for w, b in zip(buffer.weights, buffer.biases):
        weights.append(flat64[offset:offset + w.size].reshape(w.shape))
        offset += w.size
        biases.append(flat64[offset:offset + b.size])
        offset += b.size
    h = x.astype(np.float64)
    for i, (w, b) in enumerate(zip(weights, biases)):
        z = h @ w + b
        h = np.maximum(z, 0) if i < len(weights) - 1 else z
    log_p = h - h.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(x)), labels].mean()


def test_gradient_matches_central_differences():
    model, x, labels = small_problem()
    grads = ParameterBuffer(model.layer_sizes)
    step = TrainingStep(model.layer_sizes, len(x))
    loss = step.run(model, x, labels, grads)
    flat64 = model.flat.astype(np.float64)
    assert np.isclose(loss, loss64(model, flat64, x, labels), rtol=1e-5)
    numeric = np.empty_like(flat64)
    h = 1e-6
    for k in range(flat64.size):
        plus, minus = flat64.copy(), flat64.copy()
        plus[k] += h
        minus[k] -= h
        numeric[k] = (loss64(model, plus, x, labels) - loss64(model, minus, x, labels)) / (2 * h)
    np.testing.assert_allclose(grads.flat, numeric, rtol=1e-3, atol=2e-5)


def test_step_keeps_float32_everywhere():
    model, x, labels = small_problem()
    grads = ParameterBuffer(model.layer_sizes)
    step = TrainingStep(model.layer_sizes, len(x))
    step.run(model, x, labels, grads)
    assert grads.flat.dtype == np.float32
    assert all(buffer.dtype == np.float32 for buffer in step.z + step.h + step.grad)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=10, max_size=10), st.floats(-100, 100))
def test_softmax_sums_to_one_and_ignores_shifts(logits, shift):
    z = np.array([logits], dtype=np.float32)
    p = softmax(z.copy())
    assert np.isclose(p.sum(), 1, atol=1e-5)
    np.testing.assert_allclose(softmax(z + np.float32(shift)), p, atol=1e-5)


def test_predict_proba_accepts_both_image_shapes_and_uint8():
    model = MLP.initialized((784, 32, 10))
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (4, 28, 28)).astype(np.uint8)
    flat = model.predict_proba(pixels.reshape(4, 784))
    assert flat.shape == (4, 10) and flat.dtype == np.float32
    np.testing.assert_allclose(model.predict_proba(pixels), flat)
    np.testing.assert_allclose(model.predict_proba(pixels.astype(np.float32) / 255), flat, rtol=1e-5)
    np.testing.assert_allclose(flat.sum(axis=1), 1, atol=1e-5)
