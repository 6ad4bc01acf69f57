"""Reading the float arrays of an untrusted .npz archive without trusting its headers.

np.load allocates the shape an .npy header claims before it reads a byte of data, so a 1 kB file
can ask for terabytes. Here every member's declared sizes are checked first: the zip entry's
uncompressed size against a budget, then the .npy header's shape and type against that size,
and only then are exactly that many bytes read (zipfile stops inflating at the entry's size).
Only float arrays of at most two dimensions are read; nothing is ever unpickled.
"""

from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path
from tokenize import TokenError

import numpy as np
from numpy.lib import format as npy_format

from core.errors import ModelFileError

MAX_MEMBERS = 1000
MAX_HEADER_BYTES = 10_000


def read_float_arrays(data: bytes, path: Path, budget: int) -> dict[str, np.ndarray]:
    """The arrays of the .npz archive `data` (the bytes of `path`), by name, each float32 or float64;
    at most `budget` bytes of them in all. Raises ModelFileError naming the first member that fails."""
    arrays, remaining = {}, budget
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise ModelFileError(f"{path}: {len(members)} arrays, more than {MAX_MEMBERS}")
            for info in members:
                name = info.filename[:-4] if info.filename.endswith(".npy") else None
                if name is None or info.is_dir():
                    raise ModelFileError(f"{path}: {info.filename!r} is not an array (.npy) of an .npz archive")
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise ModelFileError(f"{path}: {name!r} is compressed with an unsupported method")
                if info.file_size > remaining:
                    raise ModelFileError(f"{path}: its arrays take more than {budget:,} bytes")
                remaining -= info.file_size
                with archive.open(info) as member:
                    arrays[name] = _read_member(member, info.file_size, name, path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as error:
        raise ModelFileError(f"{path}: not a readable .npz archive ({error or type(error).__name__})") from None
    return arrays


def array_file_names(data: bytes) -> list[str]:
    """The member names of the .npz archive `data` ("weights.npy"...), or [] when it is no zip archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return []


def _read_member(member, size: int, name: str, path: Path) -> np.ndarray:
    version = npy_format.read_magic(member)
    readers = {(1, 0): npy_format.read_array_header_1_0, (2, 0): npy_format.read_array_header_2_0}
    if version not in readers:
        raise ModelFileError(f"{path}: {name!r} is in .npy format version {version}, not read here")
    try:  # numpy parses the header as a Python literal: whatever a damaged one raises means "damaged"
        shape, fortran_order, dtype = readers[version](member, max_header_size=MAX_HEADER_BYTES)
    except (ValueError, TypeError, SyntaxError, TokenError, RecursionError) as error:
        raise ModelFileError(f"{path}: {name!r} has a damaged .npy header ({type(error).__name__})") from None
    if dtype.kind != "f" or dtype.itemsize not in (4, 8) or len(shape) > 2:
        raise ModelFileError(f"{path}: {name!r} is a {dtype} array of shape {shape}: "
                             "weights are float32 (or float64) vectors or matrices")
    count = math.prod(shape)
    if count * dtype.itemsize > size:
        raise ModelFileError(f"{path}: {name!r} claims shape {shape}, more than its {size:,} bytes hold")
    raw = member.read(count * dtype.itemsize)
    if len(raw) != count * dtype.itemsize:
        raise ModelFileError(f"{path}: {name!r} is truncated")
    values = np.frombuffer(raw, dtype)
    return values.reshape(shape[::-1]).T if fortran_order else values.reshape(shape)
