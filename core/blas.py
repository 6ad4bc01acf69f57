"""NumPy's own SGEMM (float32 matrix multiply), callable from compiled numba code.

Why: the compiled training step (core/step_kernels.py) is one call that splits the batch across
the cores, and each core multiplies its own rows. numba's `np.dot` would need SciPy for that;
NumPy already carries a BLAS, so the step calls that library's `cblas_sgemm` by its address.
The address is an argument of the compiled code, not a constant in it, so numba can cache it.

`SGEMM` is None, and the step uses NumPy instead, when no known symbol is found (threadpoolctl
names the library) or when a trial product disagrees with NumPy's.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np

try:
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic
except ImportError:  # without numba nothing here is used
    intrinsic = None

ROW_MAJOR, NO_TRANSPOSE, TRANSPOSE = 101, 111, 112

# The symbol names of cblas_sgemm, and whether its integers are 64-bit (ILP64), as NumPy's wheels
# (scipy-openblas), older wheels (openblas64_), and LP64 builds (MKL, Accelerate, system OpenBLAS)
# export it.
_SYMBOLS = (("scipy_cblas_sgemm64_", True), ("cblas_sgemm64_", True),
            ("scipy_cblas_sgemm", False), ("cblas_sgemm", False))


@dataclass(frozen=True)
class Sgemm:
    address: int  # of cblas_sgemm in the BLAS library NumPy loaded
    ilp64: bool  # its size arguments are int64 (else int32)


def _blas_libraries() -> list[str]:
    """Paths of the loaded BLAS libraries, NumPy's own first."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    np.ones((2, 2), dtype=np.float32) @ np.ones((2, 2), dtype=np.float32)  # make sure it is loaded
    paths = [info["filepath"] for info in threadpool_info() if info["user_api"] == "blas"]
    return sorted(paths, key=lambda path: "numpy" not in path)


def find_sgemm() -> Sgemm | None:
    for path in _blas_libraries():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol, ilp64 in _SYMBOLS:
            function = getattr(library, symbol, None)
            if function is not None:
                return Sgemm(ctypes.cast(function, ctypes.c_void_p).value, ilp64)
    return None


if intrinsic is not None:
    def _make_sgemm_call(size_bits: int):
        @intrinsic
        def call(typingctx, address, trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc):
            """cblas_sgemm(RowMajor, trans_a, trans_b, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)."""
            signature = types.void(address, trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc)

            def codegen(context, builder, signature, args):
                i32, size, f32 = ir.IntType(32), ir.IntType(size_bits), ir.FloatType()
                pointer = ir.IntType(8).as_pointer()
                function_type = ir.FunctionType(ir.VoidType(), [i32, i32, i32, size, size, size, f32, pointer,
                                                                size, pointer, size, f32, pointer, size])
                function = builder.inttoptr(args[0], function_type.as_pointer())

                def integer(index, kind):
                    value = context.cast(builder, args[index], signature.args[index], types.int64)
                    return builder.trunc(value, kind) if kind.width < 64 else value

                def data(index):
                    array = context.make_array(signature.args[index])(context, builder, args[index])
                    return builder.bitcast(array.data, pointer)

                beta_value = context.cast(builder, args[10], signature.args[10], types.float32)
                builder.call(function, [
                    ir.Constant(i32, ROW_MAJOR), integer(1, i32), integer(2, i32),
                    integer(3, size), integer(4, size), integer(5, size), ir.Constant(f32, 1.0),
                    data(6), integer(7, size), data(8), integer(9, size), beta_value, data(11), integer(12, size)])
                return context.get_dummy_value()

            return signature, codegen
        return call

    sgemm_ilp64 = _make_sgemm_call(64)
    sgemm_lp64 = _make_sgemm_call(32)
