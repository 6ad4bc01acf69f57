"""Compiled kernels for the training step and the optimizers, with numba when it is installed.

Two kinds live here, and each has a plain NumPy twin that the tests pin it to:

- Optimizer updates (`sgd_update`, `momentum_update`, `adam_update`). In NumPy an Adam step is
  about ten passes over the 242,762 parameters; fused it is one (0.41 ms -> 0.13 ms per step).
  They perform the same float32 operations in the same order as core/optim.py, without fastmath,
  so both paths are bit-identical (tests/core/test_optim.py).
- The training step's own passes (core/network.py, `TrainingStep`). The input layer works on
  the batch as compressed sparse rows (`count_nonzero_rows`, `fill_sparse_rows`): an MNIST image
  is 81 % zero pixels, and a zero pixel adds nothing to z1 = x W1 + b1 nor to dW1 = x^T grad_z1,
  so `input_layer_forward` and `input_layer_weight_gradient` only visit the ~150 non-zero pixels
  of each image. `bias_relu`, `softmax_cross_entropy` and `relu_backward` fuse the element-wise
  passes around the dense matrix products (which stay with NumPy's BLAS). These kernels sum the
  same products as the NumPy path, minus exact zeros and in another order, and may use FMA:
  they agree with it to float32 rounding (tests/core/test_network.py), not bit for bit.

Threads: the input-layer kernels and the optimizer updates split their work over the cores
(numba prange) when `PARALLEL`. numba's workers and OpenBLAS's both busy-wait between jobs, and
the two pools together made a step 10-20 times slower here, so while it runs the compiled step
keeps BLAS on the calling thread (`SingleThreadedBlas`, with threadpoolctl). Measured here, an
SGD epoch took 0.53-0.56 s that way against 0.66 s with the kernels on one thread and BLAS on
two (NUMBA_NUM_THREADS=1 selects the latter). Without threadpoolctl, or on one core, every
kernel runs on the calling thread. All of them release the GIL.

Without numba (or with MNIST_MLP_KERNELS=numpy) `AVAILABLE` is False and callers use NumPy.
"""

from __future__ import annotations

import os

import numpy as np

try:
    if os.environ.get("MNIST_MLP_KERNELS", "").lower() == "numpy":
        raise ImportError("fused kernels disabled by MNIST_MLP_KERNELS=numpy")
    import numba
except ImportError:  # numba is optional: the NumPy path computes the same values
    numba = None

try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # then BLAS keeps its threads and the kernels stay on one
    ThreadpoolController = None

AVAILABLE = numba is not None
PARALLEL = AVAILABLE and ThreadpoolController is not None and numba.config.NUMBA_NUM_THREADS > 1
THREADS = numba.config.NUMBA_NUM_THREADS if PARALLEL else 1
prange = numba.prange if PARALLEL else range


def _compile(function=None, *, contract: bool = False, parallel: bool = False):
    """njit without per-element zero-division checks (error_model="numpy"), so loops vectorize.

    contract=True lets a multiply and an add fuse into one FMA, as BLAS does; the optimizer
    kernels keep it off to stay bit-identical to NumPy. parallel=True runs `prange` loops on
    all cores when PARALLEL (each iteration does the same arithmetic either way).
    """
    def decorate(function):
        if numba is None:
            return None
        return numba.njit(nogil=True, cache=True, error_model="numpy", parallel=parallel and PARALLEL,
                          fastmath={"contract"} if contract else False)(function)
    return decorate if function is None else decorate(function)


def set_kernel_threads(count: int) -> None:
    """How many threads the calling thread's kernels use (numba keeps this setting per thread).

    The app's training thread takes one, leaving a core to the GUI: two-thread kernels wait for
    both cores at every call, and a GUI painting on one of them stalls each of those calls.
    """
    if PARALLEL:
        numba.set_num_threads(max(1, min(count, THREADS)))


def kernel_threads() -> int:
    return numba.get_num_threads() if PARALLEL else 1


class SingleThreadedBlas:
    """Context manager: inside it, BLAS (NumPy's matmul) runs on the calling thread only.

    Reusable; costs two calls into the BLAS library on entry and on exit. Does nothing unless
    `enabled` and PARALLEL (without threadpoolctl BLAS keeps its threads), nor while the calling
    thread's kernels run on one thread (set_kernel_threads).
    """

    def __init__(self, enabled: bool = True) -> None:
        controllers = ThreadpoolController().lib_controllers if enabled and PARALLEL else []
        self._libraries = [library for library in controllers if library.user_api == "blas"]
        self._saved: list[list[int]] = []  # a stack, so that it nests

    def __enter__(self) -> SingleThreadedBlas:
        if kernel_threads() > 1:  # kernels on one thread leave the other cores to BLAS
            self._saved.append([library.num_threads for library in self._libraries])
            for library in self._libraries:
                library.set_num_threads(1)
        else:
            self._saved.append([])  # nothing changed, nothing to restore
        return self

    def __exit__(self, *exc_info) -> None:
        for library, threads in zip(self._libraries, self._saved.pop()):
            library.set_num_threads(threads)


# -- optimizer updates: bit-identical to core/optim.py ---------------------------------------

@_compile(parallel=True)
def sgd_update(params, grads, lr):  # pragma: no cover - compiled
    for i in prange(params.size):
        params[i] -= grads[i] * lr


@_compile(parallel=True)
def momentum_update(params, grads, velocity, beta, lr):  # pragma: no cover - compiled
    for i in prange(params.size):
        v = velocity[i] * beta + grads[i]
        velocity[i] = v
        params[i] -= v * lr


@_compile(parallel=True)
def adam_update(params, grads, m, v, one_minus_beta1, one_minus_beta2, eps, step_size):  # pragma: no cover
    for i in prange(params.size):
        g = grads[i]
        m_i = m[i] + (g - m[i]) * one_minus_beta1
        m[i] = m_i
        v_i = v[i] + (g * g - v[i]) * one_minus_beta2
        v[i] = v_i
        params[i] -= (m_i / (np.sqrt(v_i) + eps)) * step_size


# -- sparse input rows ---------------------------------------------------------------------------

@_compile
def count_nonzero_rows(images, starts):  # pragma: no cover - compiled
    """starts[i + 1] = number of non-zero values in row i (cumsum them for the row offsets)."""
    for i in range(images.shape[0]):
        count = 0
        for p in range(images.shape[1]):
            count += images[i, p] != 0
        starts[i + 1] = count


@_compile
def fill_sparse_rows(images, divisor, starts, columns, values):  # pragma: no cover - compiled
    """columns/values[starts[i]:starts[i + 1]] = the non-zero pixels of row i, as float32
    pixel / divisor (exactly what np.divide gives)."""
    for i in range(images.shape[0]):
        k = starts[i]
        for p in range(images.shape[1]):
            pixel = images[i, p]
            if pixel != 0:
                columns[k] = p
                values[k] = np.float32(pixel) / divisor
                k += 1


# -- the training step ---------------------------------------------------------------------------

@_compile(contract=True)
def _add_weighted_rows(out, matrix, rows, weights, start, stop):  # pragma: no cover - compiled
    """out += sum of weights[k] * matrix[rows[k]] for start <= k < stop.

    Eight rows per pass over `out`, so `out` is loaded and stored once per eight products (it
    stays in L1; the matrix rows stream from L2). The sum is still taken in order of k.
    """
    width = out.shape[0]
    k = start
    while k + 8 <= stop:
        r0, r1, r2, r3 = matrix[rows[k]], matrix[rows[k + 1]], matrix[rows[k + 2]], matrix[rows[k + 3]]
        r4, r5, r6, r7 = matrix[rows[k + 4]], matrix[rows[k + 5]], matrix[rows[k + 6]], matrix[rows[k + 7]]
        w0, w1, w2, w3 = weights[k], weights[k + 1], weights[k + 2], weights[k + 3]
        w4, w5, w6, w7 = weights[k + 4], weights[k + 5], weights[k + 6], weights[k + 7]
        for j in range(width):
            out[j] = ((((((((out[j] + w0 * r0[j]) + w1 * r1[j]) + w2 * r2[j]) + w3 * r3[j])
                         + w4 * r4[j]) + w5 * r5[j]) + w6 * r6[j]) + w7 * r7[j])
        k += 8
    while k < stop:
        weight, row = weights[k], matrix[rows[k]]
        for j in range(width):
            out[j] += weight * row[j]
        k += 1


@_compile(contract=True, parallel=True)
def input_layer_forward(batch_rows, starts, columns, values, weight, bias, h):  # pragma: no cover
    """h = relu(x W + b) for the images `batch_rows` of a sparse set (starts, columns, values).

    Only the non-zero pixels of each image are visited: row b of h sums weight[p] * x[b, p]
    over them, in pixel order, then adds the bias.
    """
    for b in prange(batch_rows.shape[0]):
        image = batch_rows[b]
        out = h[b]
        out[:] = 0
        _add_weighted_rows(out, weight, columns, values, starts[image], starts[image + 1])
        for j in range(out.shape[0]):
            out[j] = max(out[j] + bias[j], 0)


@_compile(contract=True, parallel=True)
def input_layer_weight_gradient(batch_rows, starts, columns, values, grad_z, grad_weight, parts):  # pragma: no cover
    """grad_weight = x^T grad_z for the images `batch_rows` of a sparse set.

    Row p sums x[b, p] grad_z[b] over the samples b where pixel p is non-zero, in order of b,
    and is 0 where there are none. The pixels are cut in `parts` ranges (one per thread); each
    first regroups the batch's non-zero pixels in its range by pixel (a counting sort), so that
    each row of grad_weight is written once.
    """
    batch, pixels = batch_rows.shape[0], grad_weight.shape[0]
    for part in prange(parts):
        first, stop = part * pixels // parts, (part + 1) * pixels // parts
        # pixel p's samples are samples[pixel_starts[p - first]:pixel_starts[p - first + 1]]
        pixel_starts = np.zeros(stop - first + 1, dtype=np.int64)
        for b in range(batch):
            image = batch_rows[b]
            for k in range(starts[image], starts[image + 1]):
                if first <= columns[k] < stop:
                    pixel_starts[columns[k] - first + 1] += 1
        for p in range(stop - first):
            pixel_starts[p + 1] += pixel_starts[p]
        samples = np.empty(pixel_starts[-1], dtype=np.int32)
        pixel_values = np.empty(pixel_starts[-1], dtype=np.float32)
        fill = pixel_starts[:-1].copy()
        for b in range(batch):
            image = batch_rows[b]
            for k in range(starts[image], starts[image + 1]):
                p = columns[k] - first
                if 0 <= p < stop - first:
                    samples[fill[p]] = b
                    pixel_values[fill[p]] = values[k]
                    fill[p] += 1
        for p in range(first, stop):
            out = grad_weight[p]
            out[:] = 0
            _add_weighted_rows(out, grad_z, samples, pixel_values, pixel_starts[p - first],
                               pixel_starts[p - first + 1])


@_compile
def bias_relu(z, bias):  # pragma: no cover - compiled
    """z = relu(z + bias) in place."""
    for b in range(z.shape[0]):
        for j in range(z.shape[1]):
            z[b, j] = max(z[b, j] + bias[j], 0)


@_compile
def softmax_cross_entropy(z, bias, labels, grad_z, grad_bias):  # pragma: no cover - compiled
    """Loss and output gradient of the last layer, z = h W (bias not yet added).

    p = softmax(z + bias) row by row (shifted by the row maximum); returns the batch mean of
    -log max(p[label], tiny). grad_z = (p - onehot(label)) / B and grad_bias = its column sums.
    """
    batch, classes = z.shape
    tiny = np.float32(np.finfo(np.float32).tiny)
    inverse_batch = np.float32(1.0 / batch)
    grad_bias[:] = 0
    loss = 0.0
    for b in range(batch):
        row = grad_z[b]
        largest = -np.inf
        for j in range(classes):
            row[j] = z[b, j] + bias[j]
            largest = max(largest, row[j])
        total = np.float32(0)
        for j in range(classes):
            row[j] = np.exp(row[j] - largest)
            total += row[j]
        for j in range(classes):
            row[j] /= total
        label = labels[b]
        loss -= np.log(max(row[label], tiny))
        row[label] -= 1
        for j in range(classes):
            row[j] *= inverse_batch
            grad_bias[j] += row[j]
    return loss / batch


@_compile
def relu_backward(grad_h, h, grad_bias):  # pragma: no cover - compiled
    """grad_z = grad_h where h > 0, else 0, in place (h = relu(z), so h > 0 is relu'(z));
    grad_bias = the column sums of grad_z."""
    grad_bias[:] = 0
    for b in range(grad_h.shape[0]):
        for j in range(grad_h.shape[1]):
            grad_z = grad_h[b, j] if h[b, j] > 0 else np.float32(0)
            grad_h[b, j] = grad_z
            grad_bias[j] += grad_z


# -- the seed's shuffle ---------------------------------------------------------------------------

@_compile
def swap_in_order(values, partners):  # pragma: no cover - compiled
    """Fisher-Yates with its draws made: for i = n-1 down to 1, swap values[i] and values[partners[k]]."""
    k = 0
    for i in range(values.size - 1, 0, -1):
        j = partners[k]
        values[i], values[j] = values[j], values[i]
        k += 1
