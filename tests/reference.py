"""A plain per-batch NumPy implementation of the same network: the yardstick.

Written the way the seed's own reference_model.py is: separate arrays per layer, a one-hot
matrix, new arrays every batch, the textbook Adam. It exists to pin the fast engine's results
(tests) and to time it against (bench/). Not used for training.
"""

from __future__ import annotations

import numpy as np

from core.engine.config import TrainConfig
from core.engine.network import MLP


class ReferenceNetwork:
    def __init__(self, model: MLP, config: TrainConfig) -> None:
        self.config = config
        self.weights = [w.copy() for w in model.weights]
        self.biases = [b.copy() for b in model.biases]
        parameters = self.weights + self.biases
        self.slow = [np.zeros_like(p) for p in parameters]  # velocity, or Adam's m
        self.fast = [np.zeros_like(p) for p in parameters]  # Adam's v
        self.t = 0

    def forward(self, x: np.ndarray) -> tuple[list, list, np.ndarray]:
        activations, pre_activations = [x], []
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = activations[-1] @ w + b
            pre_activations.append(z)
            if i < len(self.weights) - 1:
                activations.append(np.maximum(z, 0))
        z = pre_activations[-1]
        exp = np.exp(z - z.max(axis=1, keepdims=True))
        return activations, pre_activations, exp / exp.sum(axis=1, keepdims=True)

    def step(self, images: np.ndarray, labels: np.ndarray, lr: float) -> float:
        """One SGD/Momentum/Adam step on a batch of uint8 images; returns the batch loss."""
        x = images.astype(np.float32) / np.float32(255)
        batch = len(x)
        activations, pre_activations, p = self.forward(x)
        onehot = np.zeros_like(p)
        onehot[np.arange(batch), labels] = 1
        loss = float(-np.mean(np.log(np.maximum(p[np.arange(batch), labels], np.finfo(np.float32).tiny))))
        grad_z = (p - onehot) / np.float32(batch)
        grad_w, grad_b = [None] * len(self.weights), [None] * len(self.weights)
        for i in range(len(self.weights) - 1, -1, -1):
            grad_w[i] = activations[i].T @ grad_z
            grad_b[i] = grad_z.sum(axis=0)
            if i > 0:
                grad_z = (grad_z @ self.weights[i].T) * (pre_activations[i - 1] > 0)
        self.update(grad_w + grad_b, lr)
        return loss

    def update(self, grads: list, lr: float) -> None:
        config = self.config
        parameters = self.weights + self.biases
        self.t += 1
        for k, (p, g) in enumerate(zip(parameters, grads)):
            if config.optimizer == "sgd":
                p -= np.float32(lr) * g
            elif config.optimizer == "momentum":
                self.slow[k] = np.float32(config.momentum) * self.slow[k] + g
                p -= np.float32(lr) * self.slow[k]
            else:
                b1, b2 = config.beta1, config.beta2
                self.slow[k] = np.float32(b1) * self.slow[k] + np.float32(1 - b1) * g
                self.fast[k] = np.float32(b2) * self.fast[k] + np.float32(1 - b2) * g * g
                m_hat = self.slow[k] / np.float32(1 - b1**self.t)
                v_hat = self.fast[k] / np.float32(1 - b2**self.t)
                p -= np.float32(lr) * m_hat / (np.sqrt(v_hat) + np.float32(config.eps))

    def flat_parameters(self) -> np.ndarray:
        """The parameters in MLP's flat layout (W1, b1, W2, b2, ...)."""
        parts = []
        for w, b in zip(self.weights, self.biases):
            parts += [w.ravel(), b]
        return np.concatenate(parts)
