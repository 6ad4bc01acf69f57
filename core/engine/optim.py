"""The seed's three optimizers, each updating one flat float32 parameter buffer in place.

SGD:      w <- w - lr g
Momentum: v <- beta v + g;  w <- w - lr v
Adam:     m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
          w <- w - lr m_hat / (sqrt(v_hat) + eps), with m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t)

Adam's bias correction is folded into one scalar step size:
lr m_hat / (sqrt(v_hat) + eps) = [lr sqrt(1 - b2^t) / (1 - b1^t)] m / (sqrt(v) + eps sqrt(1 - b2^t)),
the same value with two fewer passes over the buffer.
"""

from __future__ import annotations

import math

import numpy as np

from core.compiled import kernels, step_kernels
from core.compiled.aligned import aligned_zeros
from core.engine.config import TrainConfig

FLOAT = np.float32


class Optimizer:
    """Learned state ends in the arrays of `state()`; settings come from the config."""

    name = ""

    def __init__(self, size: int, fused: bool | None = None) -> None:
        self.size = size
        self.fused = kernels.AVAILABLE if fused is None else fused and kernels.AVAILABLE
        self.scratch = np.empty(0 if self.fused else size, dtype=FLOAT)  # also the state SGD has not

    def step(self, params: np.ndarray, grads: np.ndarray, lr: float) -> None:
        """params -= the update for `grads` (one step: Adam counts it)."""
        if self.fused:
            kind, first, second, settings = self.compiled_update(lr)
            step_kernels.optimizer_update(kind, params, grads, first, second, settings[0], kernels.kernel_threads())
        else:
            self._numpy_step(params, grads, lr)

    def compiled_update(self, lr: float, steps: int = 1) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """Count `steps` steps and return what `step_kernels.update_range` takes after params and
        grads: (kind, first state, second state, float32 settings), settings[k] for the k-th step,
        shape (steps, n). The compiled training step applies it while the gradients are still in
        cache (core/compiled/step_kernels.py)."""
        raise NotImplementedError

    def _numpy_step(self, params: np.ndarray, grads: np.ndarray, lr: float) -> None:
        raise NotImplementedError

    def state(self) -> dict[str, np.ndarray]:
        return {}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        for key, value in state.items():
            target = getattr(self, key)
            if isinstance(target, np.ndarray):
                if value.shape != target.shape:
                    raise ValueError(f"optimizer state {key} has shape {value.shape}, expected {target.shape}")
                target[...] = value
            else:
                setattr(self, key, type(target)(value))


class SGD(Optimizer):
    name = "sgd"

    def compiled_update(self, lr: float, steps: int = 1) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        return step_kernels.SGD, self.scratch, self.scratch, np.full((steps, 1), lr, dtype=FLOAT)

    def _numpy_step(self, params: np.ndarray, grads: np.ndarray, lr: float) -> None:
        np.multiply(grads, FLOAT(lr), out=self.scratch)
        params -= self.scratch


class Momentum(Optimizer):
    name = "momentum"

    def __init__(self, size: int, beta: float, fused: bool | None = None) -> None:
        super().__init__(size, fused)
        self.beta = FLOAT(beta)
        self.velocity = aligned_zeros(size, FLOAT)

    def compiled_update(self, lr: float, steps: int = 1) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        settings = np.array([[lr, self.beta]] * steps, dtype=FLOAT)
        return step_kernels.MOMENTUM, self.velocity, self.velocity, settings

    def _numpy_step(self, params: np.ndarray, grads: np.ndarray, lr: float) -> None:
        self.velocity *= self.beta
        self.velocity += grads
        np.multiply(self.velocity, FLOAT(lr), out=self.scratch)
        params -= self.scratch

    def state(self) -> dict[str, np.ndarray]:
        return {"velocity": self.velocity}


class Adam(Optimizer):
    name = "adam"

    def __init__(self, size: int, beta1: float, beta2: float, eps: float, fused: bool | None = None) -> None:
        super().__init__(size, fused)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = aligned_zeros(size, FLOAT)
        self.v = aligned_zeros(size, FLOAT)
        self.t = 0

    def _next_settings(self, lr: float) -> np.ndarray:
        """Count the step; (1 - beta1, 1 - beta2, eps sqrt(1 - b2^t), step size) in float32."""
        self.t += 1
        correction2 = math.sqrt(1.0 - self.beta2**self.t)
        step_size = lr * correction2 / (1.0 - self.beta1**self.t)
        return np.array([1.0 - self.beta1, 1.0 - self.beta2, self.eps * correction2, step_size], dtype=FLOAT)

    def compiled_update(self, lr: float, steps: int = 1) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        return step_kernels.ADAM, self.m, self.v, np.array([self._next_settings(lr) for _ in range(steps)])

    def _numpy_step(self, params: np.ndarray, grads: np.ndarray, lr: float) -> None:
        one_minus_beta1, one_minus_beta2, eps, step_size = self._next_settings(lr)
        scratch, m, v = self.scratch, self.m, self.v
        # m += (g - m) (1 - b1)
        np.subtract(grads, m, out=scratch)
        scratch *= one_minus_beta1
        m += scratch
        # v += (g^2 - v) (1 - b2)
        np.square(grads, out=scratch)
        scratch -= v
        scratch *= one_minus_beta2
        v += scratch
        # w -= (m / (sqrt(v) + eps sqrt(1 - b2^t))) step_size
        np.sqrt(v, out=scratch)
        scratch += eps
        np.divide(m, scratch, out=scratch)
        scratch *= step_size
        params -= scratch

    def state(self) -> dict[str, np.ndarray]:
        return {"m": self.m, "v": self.v, "t": np.array(self.t, dtype=np.int64)}


def make_optimizer(config: TrainConfig, size: int, fused: bool | None = None) -> Optimizer:
    """The configured optimizer; `fused` None uses the compiled kernels when numba is there."""
    if config.optimizer == "sgd":
        return SGD(size, fused)
    if config.optimizer == "momentum":
        return Momentum(size, config.momentum, fused)
    return Adam(size, config.beta1, config.beta2, config.eps, fused)
