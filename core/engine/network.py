"""The multilayer perceptron: parameters in one flat float32 buffer, forward and backward passes.

Layer i computes z_i = h_{i-1} @ W_i + b_i; hidden layers apply h_i = relu(z_i); the last layer's
z feeds a numerically stable softmax, and the loss is the batch mean of -log p[label].
W_i has shape (fan_in, fan_out), so a row-major fill of W_i is the seed's init order.

All parameters (and, in `Gradients`, all gradients) live in one contiguous buffer with per-layer
views, so an optimizer step is a handful of whole-array operations.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.compiled import kernels, step_kernels
from core.compiled.aligned import aligned_copy, aligned_empty, aligned_zeros
from core.data.sparse_images import SparseBatch, SparseImages
from core.engine.lcg import LCG
from core.engine.optim import Optimizer
from core.engine.thread_count import ThreadCountAdapter

FLOAT = np.float32
_NO_UPDATE = (-1, np.empty(0, FLOAT), np.empty(0, FLOAT), np.empty((1, 0), FLOAT))  # for step_kernels.train_steps


def _layer_views(buffer: np.ndarray, layer_sizes: Sequence[int]) -> tuple[list, list]:
    weights, biases, offset = [], [], 0
    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        weights.append(buffer[offset:offset + fan_in * fan_out].reshape(fan_in, fan_out))
        offset += fan_in * fan_out
        biases.append(buffer[offset:offset + fan_out])
        offset += fan_out
    return weights, biases


def parameter_count(layer_sizes: Sequence[int]) -> int:
    return sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))


class ParameterBuffer:
    """A flat float32 buffer seen as per-layer weight matrices and bias vectors."""

    def __init__(self, layer_sizes: Sequence[int], flat: np.ndarray | None = None) -> None:
        self.layer_sizes = tuple(int(size) for size in layer_sizes)
        size = parameter_count(self.layer_sizes)
        self.flat = aligned_zeros(size, FLOAT) if flat is None else flat
        if self.flat.shape != (size,) or self.flat.dtype != FLOAT:
            raise ValueError(f"expected a float32 buffer of {size} values")
        self.weights, self.biases = _layer_views(self.flat, self.layer_sizes)


class MLP(ParameterBuffer):
    """The network's parameters plus the passes that use them."""

    @classmethod
    def initialized(cls, layer_sizes: Sequence[int], seed: int = 1337, init: str = "he") -> MLP:
        """He-uniform init from the seed's LCG: W1 filled first, row-major, then W2, W3, W4.

        bound = sqrt(6 / fan_in) ("he", the seed's README) or sqrt(2 / fan_in) ("asm", what the
        seed's assembly actually does). Biases start at 0.
        """
        model = cls(layer_sizes)
        generator = LCG(seed)
        for weight in model.weights:
            fan_in = weight.shape[0]
            bound = np.sqrt((6.0 if init == "he" else 2.0) / fan_in)
            weight[...] = (generator.uniforms(weight.size) * bound).reshape(weight.shape)
        return model

    def copy(self) -> MLP:
        return MLP(self.layer_sizes, aligned_copy(self.flat))

    def predict_proba(self, images: np.ndarray, chunk: int = 2048) -> np.ndarray:
        """Class probabilities (N, 10) float32 for images (N, 784) or (N, 28, 28).

        uint8 images are scaled by 1/255; float images are taken as already in [0, 1].
        """
        images = np.asarray(images)
        images = images.reshape(len(images), -1)
        if images.shape[1] != self.layer_sizes[0]:
            raise ValueError(f"expected images of {self.layer_sizes[0]} pixels, got {images.shape[1]}")
        out = np.empty((len(images), self.layer_sizes[-1]), dtype=FLOAT)
        for start in range(0, len(images), chunk):
            block = images[start:start + chunk]
            if block.dtype == np.uint8:
                block = np.divide(block, FLOAT(255), dtype=FLOAT)
            out[start:start + chunk] = softmax(self.logits(block.astype(FLOAT, copy=False)))
        return out

    def logits(self, x: np.ndarray) -> np.ndarray:
        h = x
        last = len(self.weights) - 1
        for i, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            z = h @ weight
            z += bias
            h = z if i == last else np.maximum(z, 0, out=z)
        return h

    def predict(self, images: np.ndarray) -> np.ndarray:
        return self.predict_proba(images).argmax(axis=1)


def softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


class TrainingStep:
    """Forward, loss and backward for one batch, into buffers allocated once per batch size.

    `run(model, x, labels, grads)` leaves the batch-mean gradients in `grads.flat` and returns the
    mean loss. x is (B, 784) float32, or a `SparseBatch` (the rows of a `SparseImages`); labels
    (B,) integer class indices (no one-hot matrix).

    Two paths compute the same step. The compiled one (`fused`: numba) is one call, for one
    batch or several, that splits each batch across the cores and skips the zero pixels in the
    input layer (core/compiled/step_kernels.py). The NumPy one is the readable definition, and the tests pin the
    compiled path to it.
    """

    def __init__(self, layer_sizes: Sequence[int], batch_size: int, fused: bool | None = None) -> None:
        self.batch_size = batch_size
        self.layer_sizes = np.array(layer_sizes, dtype=np.int64)
        wanted = kernels.AVAILABLE if fused is None else fused and kernels.AVAILABLE
        self.fused = wanted and len(layer_sizes) > 2  # the input layer must be a hidden one
        widths = layer_sizes[1:]
        # Each layer's z (relu'd in place to h by the compiled path) and grad_z, as (B, width)
        # blocks of one buffer each: the compiled step finds them by the layer sizes alone.
        self.activations = aligned_empty(batch_size * sum(widths), FLOAT)
        self.gradients = aligned_empty(batch_size * sum(widths), FLOAT)
        self.z = self._blocks(self.activations, widths)
        self.grad = self._blocks(self.gradients, widths)
        self.h = [np.empty((batch_size, width), dtype=FLOAT) for width in widths[:-1]]
        self.gate = [np.empty((batch_size, width), dtype=FLOAT) for width in widths[:-1]]
        # the compiled step's other kernel threads keep their gradients here until they are summed
        tail = parameter_count(layer_sizes) - layer_sizes[0] * layer_sizes[1]
        self.partials = aligned_empty((step_kernels.PARTS - 1 if self.fused else 0, tail), FLOAT)
        # and the scratch for regrouping the batch by pixel, each thread its own rows
        pixels = layer_sizes[0] if self.fused else 0
        self.samples = np.empty(batch_size * pixels, dtype=np.int32)
        self.pixel_values = np.empty(batch_size * pixels, dtype=FLOAT)
        self.pixel_starts = np.empty((step_kernels.PARTS, pixels + 1), dtype=np.int64)
        # and each kernel thread's scratch for the dense layers' products (step_kernels._product), as
        # long as their longest sum: a hidden layer's width, or a part's rows (dW)
        pad = (max(*layer_sizes[1:-1], batch_size) + 4) * step_kernels.LANES if self.fused else 0
        self.pads = aligned_empty((step_kernels.PARTS, pad), FLOAT)
        self.rows = np.arange(batch_size)
        self.x = np.empty((batch_size, layer_sizes[0]), dtype=FLOAT)
        # Held by a caller that also evaluates between steps, around the whole loop: BLAS's own
        # threads would spin beside the compiled step's (core/compiled/kernels.py).
        self.single_threaded_blas = kernels.SingleThreadedBlas(enabled=self.fused)
        # the compiled step's thread count, from its progress: one adapter for each most the caller
        # allows (an augmented run allows one thread while the next epoch's images are made)
        self._adapters: dict[int, ThreadCountAdapter] = {}

    def _blocks(self, buffer: np.ndarray, widths: Sequence[int]) -> list[np.ndarray]:
        blocks, start = [], 0
        for width in widths:
            blocks.append(buffer[start:start + self.batch_size * width].reshape(self.batch_size, width))
            start += self.batch_size * width
        return blocks

    def run(self, model: MLP, x: np.ndarray | SparseBatch, labels: np.ndarray, grads: ParameterBuffer) -> float:
        if len(x) != self.batch_size:
            raise ValueError(f"step built for batches of {self.batch_size}, got {len(x)}")
        if self.fused:
            return self._run_compiled(model, x, labels, grads, _NO_UPDATE)
        if isinstance(x, SparseBatch):
            x = x.to_dense(out=self.x)
        return self._run_numpy(model, x, labels, grads)

    def train(self, model: MLP, x: np.ndarray | SparseBatch, labels: np.ndarray, grads: ParameterBuffer,
              optimizer: Optimizer, lr: float) -> float:
        """`run`, then the optimizer's update of the model: in the same compiled call when both
        are compiled. The update is applied even when the loss is not finite."""
        if self.fused and optimizer.fused and len(x) == self.batch_size:
            return self._run_compiled(model, x, labels, grads, optimizer.compiled_update(lr))
        loss = self.run(model, x, labels, grads)
        optimizer.step(model.flat, grads.flat, lr)
        return loss

    def train_batches(self, model: MLP, images: np.ndarray | SparseImages, rows: np.ndarray, labels: np.ndarray,
                      grads: ParameterBuffer, optimizer: Optimizer, lr: float,
                      losses: np.ndarray | None = None) -> np.ndarray:
        """`train` on len(rows) // batch_size batches in turn, the k-th being the images
        rows[k B:(k + 1) B] (of (N, 784) uint8 images, or of a SparseImages) with the labels
        labels[k B:(k + 1) B]; returns their losses, written into `losses` when given (each as
        its batch is trained: a caller interrupted in between finds which were).

        Compiled, it is one call for all of them, in which Python's GIL is free (core/compiled/step_kernels.py).
        """
        batch = self.batch_size
        count = len(rows) // batch
        losses = np.empty(count) if losses is None else losses
        if self.fused and optimizer.fused and isinstance(images, SparseImages):
            self._call_compiled(model, images, rows, labels, grads, optimizer.compiled_update(lr, count), losses)
            return losses
        for k in range(count):
            span = slice(k * batch, (k + 1) * batch)
            x = images.take(rows[span]) if isinstance(images, SparseImages) else self._dense_batch(images, rows[span])
            losses[k] = self.train(model, x, labels[span], grads, optimizer, lr)
        return losses

    def _dense_batch(self, images: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The uint8 images `rows` as float32 pixels / 255, in the step's own buffer."""
        return np.divide(images[rows], FLOAT(255), out=self.x)

    def _run_compiled(self, model: MLP, x: np.ndarray | SparseBatch, labels: np.ndarray, grads: ParameterBuffer,
                      update: tuple) -> float:
        if not isinstance(x, SparseBatch):
            x = SparseImages.from_images(x).take(self.rows)
        loss = np.empty(1)
        self._call_compiled(model, x.images, x.rows, labels, grads, update, loss)
        return float(loss[0])

    def _call_compiled(self, model: MLP, images: SparseImages, rows: np.ndarray, labels: np.ndarray,
                       grads: ParameterBuffer, update: tuple, losses: np.ndarray) -> None:
        """One call of the compiled step, or, while the adapter probes the other thread count, two
        (core/engine/thread_count.py), on the calling thread's kernel threads at most."""
        most = kernels.kernel_threads()
        adapter = self._adapters.get(most)
        if adapter is None:
            adapter = self._adapters[most] = ThreadCountAdapter(most)
        kind, first, second, settings = update
        done, batch = 0, self.batch_size
        try:
            for threads, count in adapter.plan(len(losses)):
                kernels.set_kernel_threads(threads)
                span = slice(done * batch, (done + count) * batch)
                part = (kind, first, second, settings[done:done + count] if len(settings) > 1 else settings)
                with adapter.timing(threads, count):
                    step_kernels.train_steps(*self.compiled_arguments(model, images, rows[span], labels[span], grads,
                                                                      part, losses[done:done + count]))
                done += count
        finally:
            kernels.set_kernel_threads(most)

    def compiled_arguments(self, model: MLP, images: SparseImages, rows: np.ndarray, labels: np.ndarray,
                           grads: ParameterBuffer, update: tuple, losses: np.ndarray) -> tuple:
        """What `step_kernels.train_steps` is called with (core/engine/kernel_preparation.py compiles it
        ahead for these arguments' types)."""
        parts = min(step_kernels.PARTS, self.batch_size)  # not the threads: the same sums on any count
        return (rows, labels, self.batch_size, images.starts, images.columns, images.values, model.flat,
                self.layer_sizes, self.activations, self.gradients, grads.flat, self.partials, self.samples,
                self.pixel_values, self.pixel_starts, parts, self.pads, update, losses)

    def _run_numpy(self, model: MLP, x: np.ndarray, labels: np.ndarray, grads: ParameterBuffer) -> float:
        batch = len(x)
        last = len(model.weights) - 1
        # forward
        inputs = [x]
        for i, (weight, bias) in enumerate(zip(model.weights, model.biases)):
            z = np.matmul(inputs[-1], weight, out=self.z[i])
            z += bias
            if i < last:
                inputs.append(np.maximum(z, 0, out=self.h[i]))
        # softmax in place on the logits, loss from the log-sum-exp
        logits = self.z[last]
        probabilities = self.grad[last]
        np.subtract(logits, logits.max(axis=1, keepdims=True), out=probabilities)
        np.exp(probabilities, out=probabilities)
        sums = probabilities.sum(axis=1, keepdims=True)
        probabilities /= sums
        label_probability = probabilities[self.rows, labels]
        loss = float(-np.mean(np.log(np.maximum(label_probability, np.finfo(FLOAT).tiny))))
        # backward: grad_z4 = (p - onehot) / B
        probabilities[self.rows, labels] -= 1
        probabilities *= FLOAT(1.0 / batch)
        for i in range(last, -1, -1):
            grad_z = self.grad[i]
            np.matmul(inputs[i].T, grad_z, out=grads.weights[i])
            np.sum(grad_z, axis=0, out=grads.biases[i])
            if i > 0:
                grad_h = np.matmul(grad_z, model.weights[i].T, out=self.grad[i - 1])
                # relu'(z) is 1 where h > 0; sign(h) is exactly that since h >= 0
                np.sign(inputs[i], out=self.gate[i - 1])
                grad_h *= self.gate[i - 1]
        return loss
