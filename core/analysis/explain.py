"""Why the network answers what it does: each layer's activations and a saliency map of the input.

Saliency is integrated gradients (Sundararajan et al. 2017) of the log-probability of one class,
from a black image (no ink, which MNIST's background is) to the input, in STEPS steps:

    attribution_j = x_j * mean over t in (0, 1] of d log p_c(t x) / d x_j

Chosen over plain gradient x input because it is complete: the attributions add up to
log p_c(x) - log p_c(0), so a map says how much each pixel moved the answer, and a pixel that
pushes towards the class is positive (red), one that pushes away negative (blue). Gradient x
input is the first step of the same sum on a ReLU network and misses the softmax's saturation: a
digit read at 99.9 % has near-zero gradients everywhere. The STEPS scaled copies of the image go
through the network as one batch, so a map costs a forward and backward pass of a batch of STEPS
images: cheap enough for every stroke (docs/PERFORMANCE.md).

Faithfulness, measured on 200 test digits with the bundled model (tests/core/test_explain.py):
zeroing the 15 % most salient ink pixels lowers the predicted class's probability by 0.65 on
average, zeroing a random 15 % by 0.009.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.engine.network import FLOAT, MLP, softmax

STEPS = 32


@dataclass(frozen=True)
class Explanation:
    """One image through the network: what it saw, what each layer did, and which pixels mattered.

    `activations` holds each hidden layer's ReLU outputs and, last, the class probabilities
    (sizes 256, 128, 64, 10 for the default network); `saliency` has the input's shape (784,)
    and sums to log p[target](image) - log p[target](black image).
    """

    image: np.ndarray  # (784,) float32 in [0, 1]
    activations: tuple[np.ndarray, ...]
    target: int
    saliency: np.ndarray  # (784,) float32


def layer_activations(model: MLP, images: np.ndarray) -> list[np.ndarray]:
    """Each hidden layer's ReLU outputs, then the softmax probabilities: [(N, 256), ..., (N, 10)]
    for images (N, 784) float32 in [0, 1]."""
    outputs = []
    h = np.asarray(images, dtype=FLOAT).reshape(len(images), -1)
    last = len(model.weights) - 1
    for i, (weight, bias) in enumerate(zip(model.weights, model.biases)):
        z = h @ weight + bias
        h = softmax(z) if i == last else np.maximum(z, 0)
        outputs.append(h)
    return outputs


def log_probability_gradient(model: MLP, images: np.ndarray, target: int) -> tuple[np.ndarray, np.ndarray]:
    """d log p[target] / d image for each image (N, 784), and p (N, classes), by backpropagation."""
    zs, h = [], np.asarray(images, dtype=FLOAT)
    last = len(model.weights) - 1
    for i, (weight, bias) in enumerate(zip(model.weights, model.biases)):
        z = h @ weight + bias
        zs.append(z)
        h = z if i == last else np.maximum(z, 0)
    probabilities = softmax(h.copy())
    grad_z = -probabilities
    grad_z[:, target] += 1  # d log softmax_c / d z = onehot(c) - p
    for i in range(last, -1, -1):
        grad_h = grad_z @ model.weights[i].T
        if i == 0:
            return grad_h, probabilities
        grad_z = grad_h * (zs[i - 1] > 0)
    raise AssertionError("unreachable: a network has at least one layer")


def integrated_gradients(model: MLP, image: np.ndarray, target: int, steps: int = STEPS) -> np.ndarray:
    """The saliency of each pixel of `image` (784,) for class `target`: see the module's docstring.
    Midpoint rule over the path from the black image to `image`."""
    image = np.asarray(image, dtype=FLOAT).reshape(-1)
    alphas = (np.arange(steps, dtype=FLOAT) + FLOAT(0.5)) / FLOAT(steps)
    gradients, _ = log_probability_gradient(model, alphas[:, None] * image[None, :], target)
    return (image * gradients.mean(axis=0)).astype(FLOAT)


def explain(model: MLP, image: np.ndarray, target: int | None = None) -> Explanation:
    """The activations of `image` (784,) and its saliency for `target` (default: the predicted class)."""
    image = np.asarray(image, dtype=FLOAT).reshape(-1)
    activations = tuple(layer[0] for layer in layer_activations(model, image[None, :]))
    if target is None:
        target = int(np.argmax(activations[-1]))
    if not 0 <= target < model.layer_sizes[-1]:
        raise ValueError(f"class {target} is not one of the model's {model.layer_sizes[-1]} classes")
    return Explanation(image, activations, target, integrated_gradients(model, image, target))


def strongest_inputs(model: MLP, layer: int, unit: int, count: int = 5) -> list[tuple[int, float]]:
    """The `count` incoming weights of unit `unit` in layer `layer` (0-based, after the input)
    largest in size, as (input unit, weight), largest first: what feeds a deeper unit."""
    weights = model.weights[layer][:, unit]
    order = np.argsort(np.abs(weights))[::-1][:count]
    return [(int(index), float(weights[index])) for index in order]


def top_exciting(model: MLP, images: np.ndarray, layer: int, unit: int, count: int = 24) -> np.ndarray:
    """Indices of the `count` images (N, 784) that excite unit `unit` of layer `layer` most, most first."""
    activation = np.concatenate([layer_activations(model, images[start:start + 2048])[layer][:, unit]
                                 for start in range(0, len(images), 2048)])
    return np.argsort(activation, kind="stable")[::-1][:count]


def diverging_rgb(values: np.ndarray, scale: float | None = None) -> np.ndarray:
    """(..., 3) uint8 colours for signed `values`: red for positive, blue for negative, black at 0,
    brightness growing with |value| / scale (default: the largest |value|)."""
    values = np.asarray(values, dtype=np.float32)
    scale = float(np.abs(values).max()) if scale is None else float(scale)
    strength = np.clip(np.abs(values) / scale, 0, 1) if scale > 0 else np.zeros_like(values)
    rgb = np.zeros((*values.shape, 3), np.float32)
    positive = values > 0
    rgb[..., 0] = np.where(positive, 239 * strength, 60 * strength)
    rgb[..., 1] = np.where(positive, 83 * strength, 110 * strength)
    rgb[..., 2] = np.where(positive, 80 * strength, 255 * strength)
    return np.round(rgb).astype(np.uint8)


def saliency_rgba(saliency: np.ndarray, opacity: float = 0.45) -> np.ndarray:
    """(..., 4) uint8: the saliency as a see-through layer to lay over a drawing: diverging_rgb's
    red and blue at full brightness, their opacity growing with |value| up to `opacity` (faint:
    the strokes stay readable under it)."""
    values = np.asarray(saliency, dtype=np.float32)
    magnitude = np.abs(values)
    scale = float(magnitude.max())
    rgba = np.empty((*values.shape, 4), dtype=np.uint8)
    rgba[...] = (60, 110, 255, 0)  # blue, then red where the values push towards the class
    rgba[values > 0] = (239, 83, 80, 0)
    if scale > 0:
        rgba[..., 3] = np.round(np.minimum(magnitude * np.float32(255 * opacity / scale), 255 * opacity))
    return rgba


def saliency_overlay(image: np.ndarray, saliency: np.ndarray, opacity: float = 0.75) -> np.ndarray:
    """(28, 28, 3) uint8: the gray image (ink in [0, 1]) dimmed, with the saliency on top in
    diverging_rgb's colours (red: towards the class, blue: away from it), strongest pixels opaque."""
    gray = np.asarray(image, dtype=np.float32).reshape(28, 28)
    colours = diverging_rgb(np.asarray(saliency).reshape(28, 28)).astype(np.float32)
    strength = colours.max(axis=2, keepdims=True) / 255
    base = (gray * 110)[..., None]
    mixed = base * (1 - opacity * strength) + colours * opacity * strength / np.maximum(strength, 1e-6)
    return np.clip(np.round(mixed), 0, 255).astype(np.uint8)
