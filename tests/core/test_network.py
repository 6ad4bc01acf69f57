import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.compiled import kernels
from core.data.sparse_images import SparseImages
from core.engine.network import MLP, ParameterBuffer, TrainingStep, softmax

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed: only the NumPy path exists")


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


@pytest.mark.parametrize("fused", [False, True], ids=["numpy", "compiled"])
def test_gradient_matches_central_differences(fused):
    model, x, labels = small_problem()
    grads = ParameterBuffer(model.layer_sizes)
    step = TrainingStep(model.layer_sizes, len(x), fused=fused)
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


@pytest.mark.parametrize("fused", [False, True], ids=["numpy", "compiled"])
def test_step_keeps_float32_everywhere(fused):
    model, x, labels = small_problem()
    grads = ParameterBuffer(model.layer_sizes)
    step = TrainingStep(model.layer_sizes, len(x), fused=fused)
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


def mnist_like_batch(batch=64, seed=0):
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (batch, 784)).astype(np.uint8)
    pixels[rng.random(pixels.shape) < 0.8] = 0
    pixels[7] = 0  # a blank image: no input at all
    return pixels, rng.integers(0, 10, batch)


@needs_numba
@pytest.mark.parametrize("sizes", [(784, 256, 128, 64, 10), (784, 8, 10), (784, 300, 10), (784, 17, 33, 10)])
def test_compiled_step_matches_the_numpy_step(sizes):
    """Same loss and gradients to float32 rounding, from a dense batch and from sparse rows."""
    model = MLP.initialized(sizes, seed=3)
    pixels, labels = mnist_like_batch()
    x = np.divide(pixels, np.float32(255))
    results = {}
    for name, fused, batch in [("numpy", False, x), ("compiled", True, x),
                               ("compiled sparse", True, SparseImages.from_images(pixels).take(np.arange(64)))]:
        step = TrainingStep(sizes, 64, fused=fused)
        assert step.fused == fused
        grads = ParameterBuffer(sizes)
        results[name] = step.run(model, batch, labels, grads), grads.flat.copy()
    loss, gradient = results["numpy"]
    for name in ("compiled", "compiled sparse"):
        assert results[name][0] == pytest.approx(loss, rel=1e-6)
        np.testing.assert_allclose(results[name][1], gradient, rtol=1e-4, atol=1e-7)
    np.testing.assert_array_equal(results["compiled"][1], results["compiled sparse"][1])
    input_rows = ParameterBuffer(sizes, results["compiled"][1]).weights[0]
    assert not input_rows[pixels.any(axis=0) == 0].any()  # pixels zero in the whole batch: no gradient


def test_numpy_step_accepts_sparse_rows():
    sizes = (784, 16, 10)
    model = MLP.initialized(sizes)
    pixels, labels = mnist_like_batch(batch=8)
    step = TrainingStep(sizes, 8, fused=False)
    dense_grads, sparse_grads = ParameterBuffer(sizes), ParameterBuffer(sizes)
    dense_loss = step.run(model, np.divide(pixels, np.float32(255)), labels, dense_grads)
    sparse_loss = step.run(model, SparseImages.from_images(pixels).take(np.arange(8)), labels, sparse_grads)
    assert sparse_loss == dense_loss
    np.testing.assert_array_equal(sparse_grads.flat, dense_grads.flat)


@needs_numba
@pytest.mark.parametrize("batch", [1, 7, 64, 130])
@pytest.mark.parametrize("threads", [1, 2])
def test_compiled_step_splits_any_batch_across_threads(batch, threads):
    """Each thread's rows and the sum of their gradients: the NumPy step's result, whatever the
    split (a batch smaller than the threads leaves some with no rows)."""
    sizes = (784, 32, 16, 10)
    model = MLP.initialized(sizes, seed=5)
    pixels, labels = mnist_like_batch(batch=max(batch, 8), seed=batch)
    pixels, labels = pixels[:batch], labels[:batch]
    expected = ParameterBuffer(sizes)
    expected_loss = TrainingStep(sizes, batch, fused=False).run(model, np.divide(pixels, np.float32(255)), labels,
                                                                 expected)
    step = TrainingStep(sizes, batch)
    grads = ParameterBuffer(sizes)
    grads.flat[...] = np.nan  # every gradient must be written
    saved = kernels.kernel_threads()
    kernels.set_kernel_threads(threads)
    try:
        loss = step.run(model, SparseImages.from_images(pixels).take(np.arange(batch)), labels, grads)
    finally:
        kernels.set_kernel_threads(saved)
    assert loss == pytest.approx(expected_loss, rel=1e-6)
    np.testing.assert_allclose(grads.flat, expected.flat, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_train_applies_the_optimizers_own_update(name):
    """step.train (the update inside the compiled step) = step.run, then optimizer.step."""
    from core.engine.config import TrainConfig
    from core.engine.optim import make_optimizer

    config = TrainConfig.for_optimizer(name)
    sizes = (784, 32, 16, 10)
    pixels, labels = mnist_like_batch(batch=16, seed=2)
    batch = SparseImages.from_images(pixels).take(np.arange(16))
    models = [MLP.initialized(sizes, seed=4) for _ in range(2)]
    optimizers = [make_optimizer(config, models[0].flat.size) for _ in range(2)]
    step = TrainingStep(sizes, 16)
    for _ in range(3):
        grads = ParameterBuffer(sizes)
        together = step.train(models[0], batch, labels, grads, optimizers[0], config.lr)
        apart = step.run(models[1], batch, labels, grads)
        optimizers[1].step(models[1].flat, grads.flat, config.lr)
        assert together == apart
    np.testing.assert_array_equal(models[0].flat, models[1].flat)
    for key, value in optimizers[0].state().items():
        np.testing.assert_array_equal(value, optimizers[1].state()[key])


@pytest.mark.parametrize("fused", [False, True], ids=["numpy", "compiled"])
@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_train_batches_is_train_on_each_batch_in_turn(name, fused):
    """One call for five batches (the compiled step's loop, Adam's per-step bias correction) gives
    bit for bit what five calls of `train` give."""
    from core.engine.config import TrainConfig
    from core.engine.optim import make_optimizer

    config = TrainConfig.for_optimizer(name)
    sizes = (784, 32, 16, 10)
    pixels, labels = mnist_like_batch(batch=80, seed=6)
    images = SparseImages.from_images(pixels)
    rows = np.random.default_rng(1).permutation(80)[:5 * 16]
    models = [MLP.initialized(sizes, seed=4) for _ in range(2)]
    optimizers = [make_optimizer(config, models[0].flat.size, fused=fused) for _ in range(2)]
    step = TrainingStep(sizes, 16, fused=fused)
    grads = ParameterBuffer(sizes)
    together = step.train_batches(models[0], images, rows, labels[rows], grads, optimizers[0], config.lr)
    apart = [step.train(models[1], images.take(rows[k * 16:(k + 1) * 16]), labels[rows[k * 16:(k + 1) * 16]],
                        grads, optimizers[1], config.lr) for k in range(5)]
    assert together.tolist() == apart
    np.testing.assert_array_equal(models[0].flat, models[1].flat)
    for key, value in optimizers[0].state().items():
        np.testing.assert_array_equal(value, optimizers[1].state()[key])
    assert not np.array_equal(models[0].flat, MLP.initialized(sizes, seed=4).flat)


def test_train_batches_reads_dense_uint8_images_too():
    """The NumPy path's source is the uint8 images themselves: the same losses as from sparse rows."""
    from core.engine.config import TrainConfig
    from core.engine.optim import make_optimizer

    config = TrainConfig.for_optimizer("sgd")
    sizes = (784, 16, 10)
    pixels, labels = mnist_like_batch(batch=32, seed=8)
    losses = []
    for images in (pixels, SparseImages.from_images(pixels)):
        model = MLP.initialized(sizes, seed=2)
        step = TrainingStep(sizes, 8, fused=False)
        losses.append(step.train_batches(model, images, np.arange(32), labels, ParameterBuffer(sizes),
                                         make_optimizer(config, model.flat.size, fused=False), config.lr))
    assert len(losses[0]) == 4
    np.testing.assert_array_equal(losses[0], losses[1])
