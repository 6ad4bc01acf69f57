"""Activations and saliency: right by the math, and faithful to what the model does."""

from __future__ import annotations

import numpy as np
import pytest

from core.analysis.explain import (
    diverging_rgb,
    explain,
    integrated_gradients,
    layer_activations,
    log_probability_gradient,
    saliency_overlay,
    strongest_inputs,
    top_exciting,
)
from core.data.dataset import load_dataset
from core.engine.network import MLP, softmax


@pytest.fixture(scope="module")
def small_model() -> MLP:
    model = MLP.initialized((20, 12, 8, 5), seed=7)
    rng = np.random.default_rng(0)
    for bias in model.biases:
        bias[...] = rng.uniform(-0.3, 0.3, bias.shape)
    return model


def log_probability(model: MLP, images: np.ndarray, target: int) -> np.ndarray:
    return np.log(softmax(model.logits(images.astype(np.float32)).astype(np.float64))[:, target])


def test_the_gradient_is_the_finite_difference_of_the_log_probability(small_model):
    image = np.random.default_rng(1).uniform(0, 1, 20).astype(np.float32)
    gradient, probabilities = log_probability_gradient(small_model, image[None, :], target=3)
    np.testing.assert_allclose(probabilities.sum(), 1, rtol=1e-6)
    step = 1e-2
    for pixel in range(20):
        plus, minus = image.copy(), image.copy()
        plus[pixel] += step
        minus[pixel] -= step
        difference = log_probability(small_model, plus[None], 3) - log_probability(small_model, minus[None], 3)
        numeric = difference / (2 * step)
        assert gradient[0, pixel] == pytest.approx(numeric[0], abs=2e-3)


def test_integrated_gradients_add_up_to_the_change_in_log_probability(small_model):
    """Completeness: the attributions sum to log p(x) - log p(black image)."""
    image = np.random.default_rng(2).uniform(0, 1, 20).astype(np.float32)
    for target in range(5):
        attribution = integrated_gradients(small_model, image, target, steps=512)
        expected = log_probability(small_model, image[None], target) - log_probability(
            small_model, np.zeros((1, 20), np.float32), target)
        assert attribution.sum() == pytest.approx(expected[0], abs=5e-3)
        assert attribution[image == 0].size == 0 or not attribution[image == 0].any()


def test_explain_gives_each_layer_and_a_map_of_the_input(small_model):
    image = np.random.default_rng(3).uniform(0, 1, 20).astype(np.float32)
    explanation = explain(small_model, image)
    assert [len(layer) for layer in explanation.activations] == [12, 8, 5]
    assert all((layer >= 0).all() for layer in explanation.activations)
    assert explanation.target == int(np.argmax(explanation.activations[-1]))
    assert explanation.saliency.shape == (20,)
    np.testing.assert_allclose(explanation.activations[-1], softmax(small_model.logits(image[None]))[0], rtol=1e-5)
    assert explain(small_model, image, target=4).target == 4
    with pytest.raises(ValueError, match="class 5"):
        explain(small_model, image, target=5)
    batch = layer_activations(small_model, np.stack([image, image * 0.5]))
    assert [layer.shape for layer in batch] == [(2, 12), (2, 8), (2, 5)]


def test_deleting_the_most_salient_ink_lowers_the_answer_far_more_than_deleting_random_ink(mnist_dir, bundled_model):
    """Faithfulness (issue 15): over 200 test digits, zeroing the 15 % most salient ink pixels
    must lower the predicted class's probability at least twice as much as zeroing a random 15 %."""
    model = bundled_model
    dataset = load_dataset(mnist_dir)
    rng = np.random.default_rng(15)
    images = dataset.test_images[rng.choice(len(dataset.test_images), 200, replace=False)].astype(np.float32) / 255
    salient_drops, random_drops = [], []
    for image in images:
        explanation = explain(model, image)
        target, before = explanation.target, explanation.activations[-1][explanation.target]
        ink = np.flatnonzero(image > 0)
        count = int(round(0.15 * len(ink)))
        most_salient = ink[np.argsort(explanation.saliency[ink])[::-1][:count]]
        random_pick = rng.choice(ink, count, replace=False)
        for chosen, drops in ((most_salient, salient_drops), (random_pick, random_drops)):
            damaged = image.copy()
            damaged[chosen] = 0
            drops.append(before - model.predict_proba(damaged[None])[0, target])
    salient, random = float(np.mean(salient_drops)), float(np.mean(random_drops))
    assert salient >= 2 * random and salient > 0.05, (salient, random)


def test_strongest_inputs_and_top_exciting_images(small_model):
    inputs = strongest_inputs(small_model, 1, 3, count=4)
    weights = small_model.weights[1][:, 3]
    assert [index for index, _ in inputs] == list(np.argsort(np.abs(weights))[::-1][:4])
    assert all(weight == pytest.approx(weights[index]) for index, weight in inputs)
    images = np.random.default_rng(4).uniform(0, 1, (50, 20)).astype(np.float32)
    top = top_exciting(small_model, images, 0, 5, count=6)
    activation = layer_activations(small_model, images)[0][:, 5]
    assert list(top) == list(np.argsort(activation)[::-1][:6])


def test_saliency_colours_red_for_towards_blue_for_away():
    colours = diverging_rgb(np.array([2.0, -2.0, 0.0, 1.0]))
    assert colours[0, 0] > colours[0, 2] and colours[1, 2] > colours[1, 0]
    assert colours[2].tolist() == [0, 0, 0] and colours[3, 0] < colours[0, 0]
    image = np.zeros(784, np.float32)
    image[400] = 1.0
    saliency = np.zeros(784, np.float32)
    saliency[400], saliency[10] = 1.0, -0.5
    overlay = saliency_overlay(image, saliency)
    assert overlay.shape == (28, 28, 3) and overlay.dtype == np.uint8
    assert overlay[400 // 28, 400 % 28, 0] > 200 and overlay[0, 10, 2] > overlay[0, 10, 0]
    assert overlay[5, 5].tolist() == [0, 0, 0]
