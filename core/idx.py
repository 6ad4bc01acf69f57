"""Reading and writing IDX files, MNIST's format, raw or gzipped.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian uint32 per dimension, then the values in row-major order, big-endian. Every way a
file can be wrong raises a DatasetError that names the file and the problem: a reader that
returned a silently short array would let a truncated download train on garbage.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from core.atomic_file import write_atomically
from core.errors import DatasetError

# type code -> big-endian dtype (the IDX specification's table)
TYPE_CODES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF_KIND = {(dtype.kind, dtype.itemsize): code for code, dtype in TYPE_CODES.items()}
GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path: str | os.PathLike) -> bytes:
    """The file's content, decompressed when it is gzip (recognized by its bytes, not its name)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except OSError as error:
        raise DatasetError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise DatasetError(f"{path}: the gzip data is corrupt or truncated ({error})") from None


def parse_idx(content: bytes, name: str = "IDX data") -> np.ndarray:
    """The array held by the bytes of an IDX file, in native byte order."""
    if len(content) < 4:
        raise DatasetError(f"{name}: too short to be an IDX file ({len(content)} bytes)")
    zero, code, ndim = int.from_bytes(content[:2], "big"), content[2], content[3]
    if zero != 0 or code not in TYPE_CODES:
        raise DatasetError(f"{name}: not an IDX file (magic number 0x{content[:4].hex()})")
    if ndim == 0:
        raise DatasetError(f"{name}: the IDX header declares no dimensions")
    header = 4 + 4 * ndim
    if len(content) < header:
        raise DatasetError(f"{name}: truncated in its header")
    shape = tuple(int.from_bytes(content[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = TYPE_CODES[code]
    # Sizes in Python ints: np.prod in int64 wraps around for a forged header such as
    # (2**31, 2**31, 4), whose "size" 0 then matched an empty body and failed in reshape. NumPy also
    # refuses a shape whose non-zero sides multiply past its index range, even when one side is 0.
    if math.prod(side for side in shape if side) * dtype.itemsize > np.iinfo(np.intp).max:
        raise DatasetError(f"{name}: the IDX header declares an impossible shape {shape}")
    expected = header + math.prod(shape) * dtype.itemsize
    if len(content) != expected:
        problem = "truncated" if len(content) < expected else "longer than its header says"
        raise DatasetError(f"{name}: {problem}: {len(content)} bytes for shape {shape}, expected {expected}")
    values = np.frombuffer(content, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    path = Path(path)
    return parse_idx(read_bytes(path), str(path))


def idx_bytes(array: np.ndarray) -> bytes:
    array = np.asarray(array)
    code = _CODE_OF_KIND.get((array.dtype.kind, array.dtype.itemsize))
    if code is None or array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"IDX cannot hold a {array.ndim}-d array of {array.dtype}")
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + np.ascontiguousarray(array, dtype=TYPE_CODES[code]).tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write `array` as IDX, gzipped when the name ends in .gz; atomically (temp file, rename)."""
    path = Path(path)
    content = idx_bytes(array)
    if path.suffix == ".gz":
        content = gzip.compress(content, compresslevel=6, mtime=0)
    write_atomically(path, content)
    return path
