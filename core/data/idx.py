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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

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


# The most bytes of values any IDX file may declare (a dataset's reader passes a tighter bound).
MAX_IDX_BYTES = 1 << 30
_CHUNK = 1 << 20


@dataclass(frozen=True)
class IdxHeader:
    dtype: np.dtype  # big-endian, as stored
    shape: tuple[int, ...]
    size: int  # bytes of header before the values

    @property
    def value_bytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def parse_header(content: bytes, name: str = "IDX data") -> IdxHeader:
    """The header at the start of `content` (at least its first 4 + 4 * 255 bytes, or all of it)."""
    if len(content) < 4:
        raise DatasetError(f"{name}: too short to be an IDX file ({len(content)} bytes)")
    zero, code, ndim = int.from_bytes(content[:2], "big"), content[2], content[3]
    if zero != 0 or code not in TYPE_CODES:
        raise DatasetError(f"{name}: not an IDX file (magic number 0x{content[:4].hex()})")
    if ndim == 0:
        raise DatasetError(f"{name}: the IDX header declares no dimensions")
    size = 4 + 4 * ndim
    if len(content) < size:
        raise DatasetError(f"{name}: truncated in its header")
    shape = tuple(int.from_bytes(content[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = TYPE_CODES[code]
    # Sizes in Python ints: np.prod in int64 wraps around for a forged header such as
    # (2**31, 2**31, 4), whose "size" 0 then matched an empty body and failed in reshape. NumPy also
    # refuses a shape whose non-zero sides multiply past its index range, even when one side is 0.
    if math.prod(side for side in shape if side) * dtype.itemsize > np.iinfo(np.intp).max:
        raise DatasetError(f"{name}: the IDX header declares an impossible shape {shape}")
    return IdxHeader(dtype, shape, size)


def parse_idx(content: bytes, name: str = "IDX data") -> np.ndarray:
    """The array held by the bytes of an IDX file, in native byte order."""
    header = parse_header(content, name)
    expected = header.size + header.value_bytes
    if len(content) != expected:
        problem = "truncated" if len(content) < expected else "longer than its header says"
        raise DatasetError(f"{name}: {problem}: {len(content)} bytes for shape {header.shape}, expected {expected}")
    return _to_array(content[header.size:], header)


def read_idx(path: str | os.PathLike, check: Callable[[IdxHeader], str | None] | None = None,
             max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """The array of an IDX file, raw or gzipped (recognized by its bytes, not its name).

    Read as a stream against what its header promises: the header first (refused when it declares
    more than `max_bytes` of values, or when `check` returns a problem), then the values in chunks,
    so that a file longer or shorter than promised is an error as soon as it is seen, and memory
    stays within the bytes actually read: a gzip bomb is refused after its header's worth.
    """
    path = Path(path)
    name, gzipped = str(path), False
    try:
        with open(path, "rb") as raw:
            gzipped = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
            stream = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
            head = _read_up_to(stream, 4)
            if len(head) == 4:
                head += _read_up_to(stream, 4 * head[3])
            header = parse_header(head, name)
            declared = header.size + header.value_bytes
            if header.value_bytes > max_bytes:
                raise DatasetError(f"{name}: the IDX header declares shape {header.shape}, "
                                   f"{header.value_bytes:,} bytes: more than the {max_bytes:,} read here")
            problem = check(header) if check is not None else None
            if problem:
                raise DatasetError(f"{name}: {problem}")
            if not gzipped and os.fstat(raw.fileno()).st_size != declared:  # known before reading
                size = os.fstat(raw.fileno()).st_size
                raise DatasetError(_length_problem(name, size, size < declared, header))
            values = _read_up_to(stream, header.value_bytes)
            if len(values) < header.value_bytes:
                raise DatasetError(_length_problem(name, header.size + len(values), True, header))
            if stream.read(1):
                raise DatasetError(_length_problem(name, declared + 1, False, header))
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DatasetError(f"{path}: is a folder, not an IDX file") from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise DatasetError(f"{path}: the gzip data is corrupt or truncated ({error})") from None
    except OSError as error:
        reason = error.strerror or error
        raise DatasetError(f"{path}: cannot be read ({reason})" if not gzipped else
                           f"{path}: the gzip data is corrupt or truncated ({reason})") from None
    return _to_array(values, header)


def _length_problem(name: str, size: int, short: bool, header: IdxHeader) -> str:
    expected = header.size + header.value_bytes
    if short:
        return f"{name}: truncated: {size} bytes for shape {header.shape}, expected {expected}"
    return f"{name}: longer than its header says: more than {expected} bytes for shape {header.shape}"


def _read_up_to(stream: BinaryIO, count: int) -> bytearray:
    """Up to `count` bytes, fewer only at the end of the stream; the buffer grows with the data read."""
    data = bytearray()
    while len(data) < count:
        chunk = stream.read(min(_CHUNK, count - len(data)))
        if not chunk:
            break
        data += chunk
    return data


def _to_array(values: bytes | bytearray, header: IdxHeader) -> np.ndarray:
    array = np.frombuffer(values, dtype=header.dtype).reshape(header.shape)
    if header.dtype.itemsize == 1 and isinstance(values, bytearray):
        return array  # already native and writable: no second copy of a dataset's pixels
    return array.astype(header.dtype.newbyteorder("="), copy=True)


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
