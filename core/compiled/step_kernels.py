"""The compiled training step: one call for a run of batches, each batch's work split across the cores.

`train_steps` computes what TrainingStep's NumPy path computes (core/engine/network.py), batch after
batch, each in two phases:

1. Each part of the batch (PARTS of them, whatever the thread count; a kernel thread takes one
   part at a time) takes its own rows (`_forward_backward`): z1 = x W1 + b1 from
   the ~150 non-zero pixels of each image only (an MNIST image is 81 % zeros), the dense layers
   (`_product`), the softmax loss, and the backward pass down to grad_z1 (dW with `_product`,
   grad_h = grad_z W^T with `_product_transposed`). The gradients of every parameter after W1 go
   to the thread's own buffer: the first thread's straight into `grads`, the others' into `partials`.
   Each thread also groups its rows' non-zero pixels by pixel (`_group_by_pixel`).
2. Each part takes a range of pixels: dW1 = x^T grad_z1 over the whole batch, each row written
   once, from every thread's groups (`_input_weight_gradient`); and a range of the other
   parameters: the sum of the threads' partial gradients. When given one, it then applies the
   optimizer's update to both ranges, while their gradients are still in its cache (a separate
   pass cost about 40 us a step).

Why the batch is split rather than each product: a 64-row product on two BLAS threads was no
faster than on one here, and OpenBLAS's threads and numba's busy-wait against each other. Split
by rows, the dense layers, about half of a step, run on both cores with no wait between layers.
Why no BLAS at all: at these sizes (32 rows a part) NumPy's OpenBLAS SGEMM took twice as long
as the register-blocked kernels here, which need no packing of their operands (measured in the
step: dW2 18.3 -> 8.8 us, grad_h1 20.4 -> about 10 us; the step -15 to -25 %). Not the vector
width: compiled for AVX2 only (NUMBA_CPU_NAME=haswell) the step was as fast as with AVX-512
(166-176 against 165-184 us, alternating), and the old SGEMM step so compiled 192-200 us.
Why one call, and for several batches: between calls the calling thread needs Python's GIL, which
the app's GUI thread holds while it paints.

The optimizer updates (`update_range`, also whole-buffer as `optimizer_update`) perform the same
float32 operations in the same order as core/engine/optim.py, without fastmath: bit-identical to it
(tests/core/test_optim.py). In NumPy an Adam step is about ten passes over the 242,762
parameters; compiled it is one. They live in this file because numba checks only the caller's
own file before it reuses a cached compiled step.

The sums are the NumPy path's, minus exact zeros, in another order (per thread, then across
threads) and with FMA: they agree with it to float32 rounding (tests/core/test_network.py).

`_weighted_rows`, `_product` and `_product_transposed` hold their sums in vector registers,
written as LLVM IR (numba intrinsics): numba's own loops kept them in memory, a load and a store
per few products.
"""

from __future__ import annotations

import numpy as np

from core.compiled.kernels import THREADS, _compile, numba, prange

if numba is not None:
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

# -- optimizer updates: bit-identical to core/engine/optim.py's NumPy code --------------------------

SGD, MOMENTUM, ADAM = 0, 1, 2  # the `kind` of `update_range`

# Constants passed to another kernel as these, not as literals: numba compiles a kernel once for
# each combination of literal arguments it is called with (`_product` took 1.5-2.3 s each time).
ZERO, ONE = np.int64(0), np.int64(1)


@_compile
def update_range(kind, params, grads, first, second, settings, start, stop):  # pragma: no cover - compiled
    """One optimizer update of params[start:stop] (core/engine/optim.py has the formulas).

    kind SGD: settings = (lr,). MOMENTUM: first = velocity, settings = (lr, beta). ADAM: first,
    second = m, v, settings = (1 - beta1, 1 - beta2, eps', step size), bias correction folded in.
    The loops run over slices from 0: LLVM vectorizes those, not `range(start, stop)` (6x slower).
    """
    w, g = params[start:stop], grads[start:stop]
    if kind == SGD:
        lr = settings[0]
        for i in range(w.size):
            w[i] -= g[i] * lr
    elif kind == MOMENTUM:
        lr, beta, velocity = settings[0], settings[1], first[start:stop]
        for i in range(w.size):
            v = velocity[i] * beta + g[i]
            velocity[i] = v
            w[i] -= v * lr
    else:
        one_minus_beta1, one_minus_beta2, eps, step_size = settings[0], settings[1], settings[2], settings[3]
        m, v = first[start:stop], second[start:stop]
        for i in range(w.size):
            m_i = m[i] + (g[i] - m[i]) * one_minus_beta1
            m[i] = m_i
            v_i = v[i] + (g[i] * g[i] - v[i]) * one_minus_beta2
            v[i] = v_i
            w[i] -= (m_i / (np.sqrt(v_i) + eps)) * step_size


@_compile(parallel=True)
def optimizer_update(kind, params, grads, first, second, settings, parts):  # pragma: no cover - compiled
    """`update_range` over all of params, in `parts` ranges (one per kernel thread)."""
    for part in prange(parts):
        update_range(kind, params, grads, first, second, settings, part * params.size // parts,
                     (part + 1) * params.size // parts)


# -- the training step ---------------------------------------------------------------------------

# The parts each batch is split in (fewer when the batch has fewer rows), whatever the number of
# kernel threads: one thread takes them in turn, two take one each. The partition sets the order
# of the sums, so fixing it makes a run's numbers the same on one thread or two (the thread count
# can then follow the load during a run: core/engine/thread_count.py, which moves between one
# thread and all of them). As many as the kernel threads, and at least two (so that a one-thread
# process computes what a two-core machine does): a machine with more cores uses them all.
PARTS = max(2, THREADS)


if numba is not None:
    from numba.core import cgutils

    LANES = 16  # floats in one vector register: a zmm with AVX-512, two ymm without
    _I32, _I64 = ir.IntType(32), ir.IntType(64)
    _VECTOR = ir.VectorType(ir.FloatType(), LANES)

    def _vector_pointer(builder, data, index):
        """A pointer to the vector of LANES floats at data[index] (a float pointer, an i64 index)."""
        return builder.bitcast(builder.gep(data, [index]), _VECTOR.as_pointer())

    def _load_vector(builder, data, index):
        return builder.load(_vector_pointer(builder, data, index), align=4)

    def _broadcast(builder, scalar):
        undefined = ir.Constant(_VECTOR, ir.Undefined)
        first_lane = builder.insert_element(undefined, scalar, ir.Constant(_I32, 0))
        return builder.shuffle_vector(first_lane, undefined, ir.Constant(ir.VectorType(_I32, LANES), [0] * LANES))

    def _emit_fma_loop(builder, first, stop, matrix_row, row_weights, initial=None):
        """LLVM IR of: for first <= k < stop, sums[r][v] = fma(weights[r], row[v], sums[r][v]),
        with row = matrix_row(k) (vectors) and weights = row_weights(k) (broadcast scalars), the
        sums starting from +0 (or initial[r][v] where given) and held in registers (phi nodes)
        for the whole loop; returns them.

        Written as IR because numba's own loops kept such sums in memory: a load and a store per
        few products, and the vectorizer's runtime alias checks.
        """
        entry = builder.block
        check = builder.append_basic_block("k.check")
        body = builder.append_basic_block("k.body")
        done = builder.append_basic_block("k.done")
        builder.branch(check)

        builder.position_at_end(check)
        k = builder.phi(_I64)
        k.add_incoming(first, entry)
        builder.position_at_end(body)  # the shapes come from the first row's vectors and weights
        row, weights = matrix_row(k), row_weights(k)
        builder.position_at_end(check)
        sums = [[builder.phi(_VECTOR) for _ in row] for _ in weights]
        initial = initial or [None] * len(weights)
        for sums_of_row, starts_of_row in zip(sums, initial):
            for v, total in enumerate(sums_of_row):
                total.add_incoming(starts_of_row[v] if starts_of_row else ir.Constant(_VECTOR, [0.0] * LANES), entry)
        builder.cbranch(builder.icmp_signed("<", k, stop), body, done)

        builder.position_at_end(body)
        fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_VECTOR, [_VECTOR] * 3),
                                             f"llvm.fma.v{LANES}f32")
        for weight, sums_of_row in zip(weights, sums):
            for vector, total in zip(row, sums_of_row):
                total.add_incoming(builder.call(fma, [weight, vector, total]), body)
        k.add_incoming(builder.add(k, ir.Constant(_I64, 1)), body)
        builder.branch(check)

        builder.position_at_end(done)
        return sums

    def _arguments(context, builder, signature, args):
        """The data pointers of the array arguments and the other arguments as i64, in order."""
        return [context.make_array(kind)(context, builder, value).data if isinstance(kind, types.Array)
                else context.cast(builder, value, kind, types.int64) for kind, value in zip(signature.args, args)]

    def _make_weighted_rows_block(vectors: int):
        """An intrinsic setting out[column:column + LANES * vectors] to the sum over start <= k <
        stop of weights[k] * matrix[rows[k], column:...] (plus out's own values if `accumulate`),
        the block's sums held in `vectors` registers for the whole loop over k: out is read at
        most once and stored once.

        Each sum starts from +0 (or out) and takes one FMA per k, in order of k: the result is
        what the scalar loop `out[j] += weights[k] * matrix[rows[k], j]` gives with FMA.
        matrix must be C-contiguous.
        """
        @intrinsic
        def sum_block(typingctx, out, matrix, rows, weights, start, stop, column, accumulate):
            if matrix.layout != "C" or out.layout not in "CA" or matrix.dtype != types.float32:
                return None
            signature = types.void(out, matrix, rows, weights, start, stop, column, accumulate)

            def codegen(context, builder, signature, args):
                out_data, matrix_data, rows_data, weights_data, first, stop, column, accumulate = _arguments(
                    context, builder, signature, args)
                matrix_strides = context.make_array(signature.args[1])(context, builder, args[1]).strides
                row_length = builder.sdiv(cgutils.unpack_tuple(builder, matrix_strides)[0], ir.Constant(_I64, 4))

                def matrix_row(k):
                    row = builder.load(builder.gep(rows_data, [k]))
                    if row.type.width < 64:  # uint16 pixel indices reach 65535: widen by their sign
                        row = (builder.sext if signature.args[2].dtype.signed else builder.zext)(row, _I64)
                    block_start = builder.add(builder.mul(row, row_length), column)
                    return [_load_vector(builder, matrix_data, builder.add(block_start, ir.Constant(_I64, LANES * i)))
                            for i in range(vectors)]

                def row_weights(k):
                    return [_broadcast(builder, builder.load(builder.gep(weights_data, [k])))]

                out_vectors = [_vector_pointer(builder, out_data, builder.add(column, ir.Constant(_I64, LANES * i)))
                               for i in range(vectors)]
                adding = builder.icmp_signed("!=", accumulate, ir.Constant(_I64, 0))
                initial = [builder.select(adding, builder.load(vector, align=4), ir.Constant(_VECTOR, [0.0] * LANES))
                           for vector in out_vectors]
                (sums,) = _emit_fma_loop(builder, first, stop, matrix_row, row_weights, [initial])
                for total, vector in zip(sums, out_vectors):
                    builder.store(total, vector, align=4)
                return context.get_dummy_value()

            return signature, codegen
        return sum_block

    _weighted_rows_wide = _make_weighted_rows_block(8)  # 128 floats: 8 of AVX-512's 32 vector registers
    _weighted_rows_narrow = _make_weighted_rows_block(1)


@_compile(contract=True)
def _weighted_rows(out, matrix, rows, weights, start, stop, accumulate=False):  # pragma: no cover - compiled
    """out = sum of weights[k] * matrix[rows[k]] for start <= k < stop (matrix C-contiguous); with
    `accumulate`, out += that sum.

    Column blocks of 128, then 16, then one at a time; each element's sum is taken in order of
    k with one FMA per k, whichever block it falls in.
    """
    width = out.shape[0]
    column = 0
    while column + 8 * LANES <= width:
        _weighted_rows_wide(out, matrix, rows, weights, start, stop, column, accumulate)
        column += 8 * LANES
    while column + LANES <= width:
        _weighted_rows_narrow(out, matrix, rows, weights, start, stop, column, accumulate)
        column += LANES
    if not accumulate:
        out[column:] = 0
    for k in range(start, stop):
        weight, row = weights[k], matrix[rows[k]]
        for j in range(column, width):
            out[j] += weight * row[j]


if numba is not None:
    def _make_product_block(block_rows: int, vectors: int):
        """An intrinsic for a block of a matrix product, its sums held in registers:

            out[out_at + r * out_stride + c] = sum over k < k_count of weight(r, k) * row(k)[c]
            weight(r, k) = weights[weight_at + r * weight_row_stride + k * weight_k_stride]
            row(k) = matrix[matrix_at + k * matrix_stride:]

        for r < block_rows and c < LANES * vectors, on flat float32 buffers. Each k loads
        `vectors` vectors of a matrix row once for all block_rows rows: with 4 x 4, 16 vector
        FMAs per k take 8 loads, and the FMA units, not the loads, set the pace. Each sum starts
        from +0 and takes one FMA per k, in order of k.
        """
        @intrinsic
        def block(typingctx, out, out_at, out_stride, weights, weight_at, weight_row_stride, weight_k_stride,
                  matrix, matrix_at, matrix_stride, k_count):
            signature = types.void(out, out_at, out_stride, weights, weight_at, weight_row_stride, weight_k_stride,
                                   matrix, matrix_at, matrix_stride, k_count)

            def codegen(context, builder, signature, args):
                (out_data, out_at, out_stride, weights_data, weight_at, weight_row_stride, weight_k_stride,
                 matrix_data, matrix_at, matrix_stride, k_count) = _arguments(context, builder, signature, args)

                def constant(value):
                    return ir.Constant(_I64, value)

                def matrix_row(k):
                    start = builder.add(matrix_at, builder.mul(k, matrix_stride))
                    return [_load_vector(builder, matrix_data, builder.add(start, constant(LANES * v)))
                            for v in range(vectors)]

                def row_weights(k):
                    column = builder.add(weight_at, builder.mul(k, weight_k_stride))
                    return [_broadcast(builder, builder.load(builder.gep(weights_data, [
                        builder.add(column, builder.mul(constant(r), weight_row_stride))]))) for r in range(block_rows)]

                sums = _emit_fma_loop(builder, constant(0), k_count, matrix_row, row_weights)
                for r, sums_of_row in enumerate(sums):
                    out_row = builder.add(out_at, builder.mul(constant(r), out_stride))
                    for v, total in enumerate(sums_of_row):
                        out_vector = _vector_pointer(builder, out_data, builder.add(out_row, constant(LANES * v)))
                        builder.store(total, out_vector, align=4)
                return context.get_dummy_value()

            return signature, codegen
        return block

    _block_4x4, _block_1x4 = _make_product_block(4, 4), _make_product_block(1, 4)
    _block_4x2, _block_1x2 = _make_product_block(4, 2), _make_product_block(1, 2)
    _block_4x1, _block_1x1 = _make_product_block(4, 1), _make_product_block(1, 1)


if numba is not None:
    _MASK = ir.VectorType(ir.IntType(1), LANES)
    _LANE_INDEX = ir.VectorType(_I32, LANES)

    def _lane_sums(builder, vectors):
        """One vector whose lane j is the sum of the lanes of vectors[j], for LANES vectors: a
        butterfly of shuffles and adds (15 adds for 16 sums, against 4 each one at a time)."""
        sources, lanes_per_source = 1, LANES  # each vector holds `sources` partial sums, side by side
        while len(vectors) > 1:
            half, sources = lanes_per_source // 2, 2 * sources
            low = ir.Constant(_LANE_INDEX, [s * lanes_per_source + t for s in range(sources) for t in range(half)])
            high = ir.Constant(_LANE_INDEX, [s * lanes_per_source + half + t
                                              for s in range(sources) for t in range(half)])
            vectors = [builder.fadd(builder.shuffle_vector(x, y, low), builder.shuffle_vector(x, y, high))
                       for x, y in zip(vectors[0::2], vectors[1::2])]
            lanes_per_source = half
        return vectors[0]

    def _make_dot_block(block_rows: int, block_columns: int):
        """An intrinsic for a block of the product of a matrix with another's transpose, A B^T:

            out[out_at + r * out_stride + c] = sum over k < k_count of a[a_at + r * a_stride + k]
                                                                   * b[b_at + c * b_stride + k]

        for r < block_rows and c < block_columns (block_rows * block_columns = LANES), on flat
        float32 buffers. Rows of both are read LANES floats at a time (the last chunk masked), the
        block's sums held lane-wise in registers for the whole loop, then added up lane by lane.
        """
        @intrinsic
        def block(typingctx, out, out_at, out_stride, a, a_at, a_stride, b, b_at, b_stride, k_count):
            signature = types.void(out, out_at, out_stride, a, a_at, a_stride, b, b_at, b_stride, k_count)

            def codegen(context, builder, signature, args):
                (out_data, out_at, out_stride, a_data, a_at, a_stride, b_data, b_at, b_stride,
                 k_count) = _arguments(context, builder, signature, args)

                def constant(value):
                    return ir.Constant(_I64, value)

                load = cgutils.get_or_insert_function(builder.module, ir.FunctionType(
                    _VECTOR, [_VECTOR.as_pointer(), _I32, _MASK, _VECTOR]), f"llvm.masked.load.v{LANES}f32.p0")
                chunks = builder.sdiv(builder.add(k_count, constant(LANES - 1)), constant(LANES))
                lanes = ir.Constant(_LANE_INDEX, list(range(LANES)))
                zero = ir.Constant(_VECTOR, [0.0] * LANES)
                masks = {}

                def chunk_mask(k):  # the lanes of chunk k inside k_count
                    if k not in masks:
                        left = builder.trunc(builder.sub(k_count, builder.mul(k, constant(LANES))), _I32)
                        splat = builder.insert_element(ir.Constant(_LANE_INDEX, ir.Undefined), left,
                                                       ir.Constant(_I32, 0))
                        splat = builder.shuffle_vector(splat, splat, ir.Constant(_LANE_INDEX, [0] * LANES))
                        masks[k] = builder.icmp_signed("<", lanes, splat)
                    return masks[k]

                def rows_of(data, at, stride, count):
                    def chunk(k):
                        start = builder.add(at, builder.mul(k, constant(LANES)))
                        return [builder.call(load, [_vector_pointer(builder, data, builder.add(
                            start, builder.mul(constant(i), stride))), ir.Constant(_I32, 4), chunk_mask(k), zero])
                            for i in range(count)]
                    return chunk

                sums = _emit_fma_loop(builder, constant(0), chunks, rows_of(b_data, b_at, b_stride, block_columns),
                                      rows_of(a_data, a_at, a_stride, block_rows))
                totals = _lane_sums(builder, [total for sums_of_row in sums for total in sums_of_row])
                row_type = ir.VectorType(ir.FloatType(), block_columns)
                for r in range(block_rows):
                    row = builder.shuffle_vector(totals, totals, ir.Constant(ir.VectorType(_I32, block_columns), [
                        r * block_columns + c for c in range(block_columns)]))
                    at = builder.add(out_at, builder.mul(constant(r), out_stride))
                    builder.store(row, builder.bitcast(builder.gep(out_data, [at]), row_type.as_pointer()), align=4)
                return context.get_dummy_value()

            return signature, codegen
        return block

    _dot_block_4x4 = _make_dot_block(4, 4)


@_compile(contract=True)
def _product_transposed(out, out_at, out_stride, rows, columns, a, a_at, a_stride, b, b_at, b_stride,
                        k_count):  # pragma: no cover - compiled
    """out[r, c] = sum over k < k_count of a[r, k] * b[c, k], for r < rows and c < columns (A B^T:
    both read along their rows), laid out in flat float32 buffers as in `_make_dot_block`.

    Blocks of 4 x 4; the rows and columns past the last whole block one at a time.
    """
    full_rows, full_columns = rows - rows % 4, columns - columns % 4
    for r in range(0, full_rows, 4):
        for c in range(0, full_columns, 4):
            _dot_block_4x4(out, out_at + r * out_stride + c, out_stride, a, a_at + r * a_stride, a_stride, b,
                           b_at + c * b_stride, b_stride, k_count)
    for r in range(rows):
        for c in range(full_columns if r < full_rows else 0, columns):
            total = np.float32(0)
            for k in range(k_count):
                total += a[a_at + r * a_stride + k] * b[b_at + c * b_stride + k]
            out[out_at + r * out_stride + c] = total


@_compile
def _block(vectors, four_rows, *args):  # pragma: no cover - compiled
    """The product block of four rows (else one) by `vectors` vectors, for `_product`."""
    if four_rows:
        if vectors == 4:
            _block_4x4(*args)
        elif vectors == 2:
            _block_4x2(*args)
        else:
            _block_4x1(*args)
    elif vectors == 4:
        _block_1x4(*args)
    elif vectors == 2:
        _block_1x2(*args)
    else:
        _block_1x1(*args)


@_compile
def _product(out, out_at, out_stride, rows, columns, weights, weight_at, weight_row_stride, weight_k_stride,
             matrix, matrix_at, matrix_stride, k_count, pad):  # pragma: no cover - compiled
    """out[r, c] = sum over k < k_count of weight(r, k) * matrix[k, c], for r < rows and c < columns,
    laid out in flat float32 buffers as in `_make_product_block`.

    Columns go in blocks of 64, 32 and 16 (rows four at a time); the last columns of a width that
    is not a multiple of 16 through `pad`, (k_count + 4) * LANES floats of scratch: their part
    of the matrix copied there, padded with zeros to 16 columns. Every sum is one FMA per k, in
    order of k, from +0, whichever block it falls in.
    """
    c = 0
    for vectors in (4, 2, 1):
        while c + vectors * LANES <= columns:
            r = 0
            while r < rows:
                four_rows = r + 4 <= rows
                _block(vectors, four_rows, out, out_at + r * out_stride + c, out_stride, weights,
                       weight_at + r * weight_row_stride, weight_row_stride, weight_k_stride, matrix, matrix_at + c,
                       matrix_stride, k_count)
                r += 4 if four_rows else 1
            c += vectors * LANES
    if c == columns:
        return
    width, padded_at = columns - c, 4 * LANES  # pad: 4 rows of results, then the padded matrix
    for k in range(k_count):
        for j in range(LANES):
            pad[padded_at + k * LANES + j] = matrix[matrix_at + k * matrix_stride + c + j] if j < width else 0
    r = 0
    while r < rows:
        four_rows = r + 4 <= rows
        _block(ONE, four_rows, pad, ZERO, ONE * LANES, weights, weight_at + r * weight_row_stride, weight_row_stride,
               weight_k_stride, pad, padded_at, LANES, k_count)
        for i in range(4 if four_rows else 1):
            for j in range(width):
                out[out_at + (r + i) * out_stride + c + j] = pad[i * LANES + j]
        r += 4 if four_rows else 1


@_compile
def _parameter_offsets(sizes):  # pragma: no cover - compiled
    """offsets[i] = where layer i's W starts in the flat buffer (then its b); offsets[-1] = size."""
    layers = sizes.shape[0] - 1
    offsets = np.empty(layers + 1, dtype=np.int64)
    total = 0
    for i in range(layers):
        offsets[i] = total
        total += sizes[i] * sizes[i + 1] + sizes[i + 1]
    offsets[layers] = total
    return offsets


@_compile
def _layer_start(batch, sizes, layer):  # pragma: no cover - compiled
    """Where layer `layer`'s (batch, width) block starts in a buffer holding every layer's in turn."""
    start = 0
    for i in range(layer):
        start += batch * sizes[i + 1]
    return start


@_compile
def _layer_block(buffer, batch, sizes, layer):  # pragma: no cover - compiled
    """Layer `layer`'s (batch, width) block of a buffer holding every layer's activations in turn."""
    start, width = _layer_start(batch, sizes, layer), sizes[layer + 1]
    return buffer[start:start + batch * width].reshape(batch, width)


@_compile
def _bias_relu(z, bias):  # pragma: no cover - compiled
    """z = relu(z + bias) in place."""
    for r in range(z.shape[0]):
        for j in range(z.shape[1]):
            z[r, j] = max(z[r, j] + bias[j], 0)


@_compile
def _relu_backward(grad_h, h, grad_bias):  # pragma: no cover - compiled
    """grad_z = grad_h where h > 0, else 0, in place (h = relu(z), so h > 0 is relu'(z));
    grad_bias = the column sums of grad_z."""
    grad_bias[:] = 0
    for r in range(grad_h.shape[0]):
        for j in range(grad_h.shape[1]):
            grad_z = grad_h[r, j] if h[r, j] > 0 else np.float32(0)
            grad_h[r, j] = grad_z
            grad_bias[j] += grad_z


@_compile
def _softmax_cross_entropy(z, bias, labels, inverse_batch, grad_z, grad_bias):  # pragma: no cover
    """Summed loss and output gradient of the last layer, z = h W (bias not yet added).

    p = softmax(z + bias) row by row (shifted by the row maximum); returns the sum of
    -log max(p[label], tiny). grad_z = (p - onehot(label)) * inverse_batch, grad_bias its column sums.
    """
    rows, classes = z.shape
    tiny = np.float32(np.finfo(np.float32).tiny)
    grad_bias[:] = 0
    loss = 0.0
    for r in range(rows):
        row = grad_z[r]
        largest = -np.inf
        for j in range(classes):
            row[j] = z[r, j] + bias[j]
            largest = max(largest, row[j])
        total = np.float32(0)
        for j in range(classes):
            row[j] = np.exp(row[j] - largest)
            total += row[j]
        for j in range(classes):
            row[j] /= total
        label = labels[r]
        loss -= np.log(max(row[label], tiny))
        row[label] -= 1
        for j in range(classes):
            row[j] *= inverse_batch
            grad_bias[j] += row[j]
    return loss


@_compile(contract=True)
def _forward_backward(lo, hi, batch_rows, starts, columns, values, labels, params, sizes,
                      activations, gradients, tail, pad):  # pragma: no cover - compiled
    """Phase 1 for the batch rows lo:hi; returns their summed loss.

    activations/gradients hold each layer's h (z for the last) and grad_z, (batch, width) blocks
    one after another; `tail` receives this part's gradients of every parameter after W1.
    pad: this part's scratch for `_product`, (widest hidden layer + 4) * LANES floats.
    """
    layers = sizes.shape[0] - 1
    batch, rows = batch_rows.shape[0], hi - lo
    offsets = _parameter_offsets(sizes)
    tail_start = offsets[0] + sizes[0] * sizes[1]
    if rows == 0:
        tail[:] = 0
        return 0.0

    # forward: the input layer from the non-zero pixels, then the dense layers
    weight = params[offsets[0]:tail_start].reshape(sizes[0], sizes[1])
    bias = params[tail_start:offsets[1]]
    h = _layer_block(activations, batch, sizes, ZERO)[lo:hi]
    for r in range(rows):
        image = batch_rows[lo + r]
        _weighted_rows(h[r], weight, columns, values, starts[image], starts[image + 1])
    _bias_relu(h, bias)
    for i in range(1, layers):  # z = h W
        fan_in, fan_out = sizes[i], sizes[i + 1]
        z = _layer_block(activations, batch, sizes, i)[lo:hi]
        _product(activations, _layer_start(batch, sizes, i) + lo * fan_out, fan_out, rows, fan_out,
                 activations, _layer_start(batch, sizes, i - 1) + lo * fan_in, fan_in, ONE,
                 params, offsets[i], fan_out, fan_in, pad)
        if i < layers - 1:
            _bias_relu(z, params[offsets[i] + fan_in * fan_out:offsets[i + 1]])
        h = z

    # loss, then backward down to grad_z1
    last = layers - 1
    grad_z = _layer_block(gradients, batch, sizes, last)[lo:hi]
    last_bias = offsets[last] + sizes[last] * sizes[layers]
    loss = _softmax_cross_entropy(h, params[last_bias:offsets[layers]], labels[lo:hi], np.float32(1.0 / batch),
                                  grad_z, tail[last_bias - tail_start:offsets[layers] - tail_start])
    for i in range(last, 0, -1):
        fan_in, fan_out = sizes[i], sizes[i + 1]
        start = offsets[i] - tail_start
        inputs_at = _layer_start(batch, sizes, i - 1) + lo * fan_in
        grad_z_at = _layer_start(batch, sizes, i) + lo * fan_out
        # dW = h^T grad_z: row j of dW sums h[b, j] * grad_z[b] over this part's rows b
        _product(tail, start, fan_out, fan_in, fan_out, activations, inputs_at, ONE, fan_in,
                 gradients, grad_z_at, fan_out, rows, pad)
        # grad_h = grad_z W^T: both read along their rows
        _product_transposed(gradients, inputs_at, fan_in, rows, fan_in, gradients, grad_z_at, fan_out,
                            params, offsets[i], fan_out, fan_out)
        inputs = _layer_block(activations, batch, sizes, i - 1)[lo:hi]
        _relu_backward(_layer_block(gradients, batch, sizes, i - 1)[lo:hi], inputs,
                       tail[offsets[i] - fan_in - tail_start:start])
    return loss


@_compile
def _group_by_pixel(lo, hi, batch_rows, starts, columns, values, samples, pixel_values,
                    pixel_starts):  # pragma: no cover - compiled
    """The non-zero pixels of the batch rows lo:hi regrouped by pixel (a counting sort), for dW1:
    pixel p's samples b (in order of b) are samples[pixel_starts[p]:pixel_starts[p + 1]], with
    their values in pixel_values. pixel_starts is pixels + 1 long.

    Each part sorts its own rows here, in phase 1; in phase 2 each reads its pixel range from
    all parts' groups. (Phase 2 sorting the whole batch for each pixel range made every
    thread scan all of the batch.)"""
    pixel_starts[:] = 0
    for b in range(lo, hi):
        image = batch_rows[b]
        for k in range(starts[image], starts[image + 1]):
            pixel_starts[columns[k] + 1] += 1
    for p in range(pixel_starts.shape[0] - 1):
        pixel_starts[p + 1] += pixel_starts[p]
    for b in range(lo, hi):  # pixel_starts[p] serves as pixel p's cursor: it ends at p + 1's start
        image = batch_rows[b]
        for k in range(starts[image], starts[image + 1]):
            p = columns[k]
            samples[pixel_starts[p]] = b
            pixel_values[pixel_starts[p]] = values[k]
            pixel_starts[p] += 1
    for p in range(pixel_starts.shape[0] - 1, 0, -1):
        pixel_starts[p] = pixel_starts[p - 1]
    pixel_starts[0] = 0


@_compile
def _part_rows(part, parts, batch):  # pragma: no cover - compiled
    """The batch rows lo:hi of part `part` of `parts`."""
    return part * batch // parts, (part + 1) * batch // parts


@_compile(contract=True)
def _input_weight_gradient(first, stop, grad_z, grad_weight, samples, pixel_values, pixel_starts,
                           parts):  # pragma: no cover - compiled
    """Rows first:stop of dW1 = x^T grad_z1, from each part's grouping by pixel (`_group_by_pixel`:
    into samples and pixel_values from lo * pixels on, its rows lo:hi, and row `part` of
    pixel_starts).

    Row p sums x[b, p] grad_z[b] over the samples b where pixel p is non-zero, in order of b (the
    parts hold consecutive batch rows), and is 0 where there are none; each row of grad_weight
    is written once.
    """
    batch, pixels = grad_z.shape[0], grad_weight.shape[0]
    for p in range(first, stop):
        summed = False
        for part in range(parts):
            if pixel_starts[part, p] == pixel_starts[part, p + 1]:
                continue  # none of this part's rows has the pixel (a third of them, in an MNIST batch)
            at = _part_rows(part, parts, batch)[0] * pixels
            _weighted_rows(grad_weight[p], grad_z, samples[at:], pixel_values[at:], pixel_starts[part, p],
                           pixel_starts[part, p + 1], summed)
            summed = True
        if not summed:
            grad_weight[p, :] = 0


@_compile(contract=True, parallel=True)
def train_steps(rows, labels, batch, starts, columns, values, params, sizes, activations, gradients, grads,
                partials, samples, pixel_values, pixel_starts, parts, pads, update, losses):  # pragma: no cover
    """Trains on `losses.size` batches in turn: batch k is the images rows[k * batch:(k + 1) * batch] of
    a sparse image set (starts, columns, values), with those labels; losses[k] = its mean loss.

    Each batch's gradients go to `grads` (flat, laid out as `params`), then `update` = (kind, first,
    second, settings) of `update_range`, with settings[k] for batch k, is applied to each range of
    params once its gradients are summed; kind -1 leaves params alone (then only the last batch's
    gradients stay in `grads`). `parts` <= the calling thread's kernel threads and <= 1 +
    len(partials). samples, pixel_values (batch * pixels), pixel_starts ((kernel threads, pixels + 1))
    are the scratch of `_group_by_pixel`; pads each part's scratch for `_forward_backward`.

    Why several batches in one call: between two calls the calling thread needs Python's GIL, and
    in the app the GUI thread holds it while it paints (milliseconds at a time).
    """
    offsets = _parameter_offsets(sizes)
    tail_start = offsets[0] + sizes[0] * sizes[1]
    tail = grads[tail_start:]
    pixels, tail_size, width = sizes[0], tail.shape[0], sizes[1]
    grad_weight = grads[:tail_start].reshape(pixels, width)
    grad_z1 = _layer_block(gradients, batch, sizes, ZERO)
    kind, first, second, all_settings = update
    part_losses = np.zeros(parts)
    for k in range(losses.size):
        batch_rows = rows[k * batch:(k + 1) * batch]
        batch_labels = labels[k * batch:(k + 1) * batch]
        for part in prange(parts):
            own_tail = tail if part == 0 else partials[part - 1]
            lo, hi = _part_rows(np.int64(part), parts, batch)
            part_losses[part] = _forward_backward(lo, hi, batch_rows, starts, columns, values, batch_labels, params,
                                                  sizes, activations, gradients, own_tail, pads[part])
            _group_by_pixel(lo, hi, batch_rows, starts, columns, values, samples[lo * pixels:],
                            pixel_values[lo * pixels:], pixel_starts[part])
        settings = all_settings[min(k, all_settings.shape[0] - 1)]
        for part in prange(parts):
            first_pixel, stop_pixel = part * pixels // parts, (part + 1) * pixels // parts
            _input_weight_gradient(first_pixel, stop_pixel, grad_z1, grad_weight, samples, pixel_values,
                                   pixel_starts, parts)
            start, stop = part * tail_size // parts, (part + 1) * tail_size // parts
            summed = tail[start:stop]
            for other in range(parts - 1):
                partial = partials[other, start:stop]
                for i in range(summed.size):  # from 0, so that it vectorizes
                    summed[i] += partial[i]
            if kind >= 0:
                update_range(kind, params, grads, first, second, settings, first_pixel * width, stop_pixel * width)
                update_range(kind, params, grads, first, second, settings, tail_start + start, tail_start + stop)
        losses[k] = part_losses.sum() / batch
