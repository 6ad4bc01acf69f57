"""Reading an .npz archive (a zip of .npy files) without trusting it.

`np.load` inflates whatever a member's header promises, parses .npy headers with
`ast.literal_eval` and lets zip's own errors (compression methods it lacks, encryption) escape.
Here the archive's directory is read first, from the sizes the zip format exposes before anything
is inflated (`ZipInfo.file_size`, `compress_type`): the caller says which members may exist and
how large each may be, and every .npy header is parsed by a strict pattern and checked against
the member's size before a byte of data is read. Every problem is a ModelFileError naming the
file and the member.
"""

from __future__ import annotations

import io
import math
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from core.errors import ModelFileError

NPY_MAGIC = b"\x93NUMPY"
NPY_HEADER_LIMIT = 4096  # bytes of .npy header a member may have on top of its data (NumPy writes 128)
MAX_MEMBERS = 64
_END_OF_DIRECTORY = b"PK\x05\x06"
_END_RECORD = struct.Struct("<4s4H2LH")  # signature, disk numbers, entries here/total, size, offset, comment
_READ_CHUNK = 1 << 20
_UNSUPPORTED_FLAGS = 0x20 | 0x40  # compressed patched data, strong encryption
# Deflated members may shrink, but not like a bomb: no array this application writes inflates 100x.
MAX_INFLATION = 100
_INFLATION_FLOOR = 1 << 20  # below this many inflated bytes any ratio is harmless
_FORMATS_BY_MAGIC = {  # what a file that is not a zip most likely is, for the message
    b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image", b"BM": "a BMP image",
    b"\x80": "a Python pickle", b"\x93NUMPY": "a single .npy array", b"%PDF": "a PDF document",
    b"\x1f\x8b": "gzip data",
}
_HEADER_ENTRY = re.compile(
    r"""\s*['"](descr|fortran_order|shape)['"]\s*:\s*"""
    r"""(['"][<>|=]?[a-zA-Z]\d{0,9}['"]|True|False|\(\s*(?:\d{1,19}\s*,\s*)*(?:\d{1,19}\s*)?\))\s*(,|$)""")


class NpzArchive:
    """An open .npz whose directory has been checked. Use as a context manager."""

    def __init__(self, path: str | os.PathLike, data: bytes | None = None) -> None:
        """`data`: the file's bytes when the caller has read them already (named by `path` in errors),
        so that what is checked and what is read are the same bytes."""
        self.path = Path(path)
        self._file = _open_archive_file(self.path) if data is None else io.BytesIO(data)
        try:
            _check_end_record(self.path, self._file)
            self._zip = zipfile.ZipFile(self._file)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError,
                struct.error, UnicodeDecodeError) as error:
            self._file.close()
            raise ModelFileError(f"{self.path}: not a readable model file (a damaged zip archive: {error})") from None
        except ModelFileError:
            self._file.close()
            raise
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in self._zip.infolist():
            name = info.filename.removesuffix(".npy")
            if name in self.members or name == info.filename:
                self.close()
                problem = "appears twice" if name in self.members else "is not a .npy array"
                raise ModelFileError(f"{self.path}: not a model file of this application "
                                     f"(member {info.filename[:60]!r} {problem})")
            self.members[name] = info

    def __enter__(self) -> NpzArchive:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()
        self._file.close()

    def fail(self, member: str, problem: str) -> ModelFileError:
        return ModelFileError(f"{self.path}: {member}: {problem}")

    def check_members(self, largest: Mapping[str, int]) -> None:
        """Refuse any member not in `largest` (name -> most data bytes allowed), one that holds more,
        one compressed other than stored or deflate, or encrypted: all before anything is inflated."""
        for name in self.members:
            if name not in largest:
                raise self.fail(name[:60], "a member this model file cannot have")
            self.check_member(name, largest[name])

    def check_member(self, name: str, largest: int) -> None:
        """Refuse the member `name` if it holds more than `largest` bytes of data, is compressed
        other than stored or deflate, or is encrypted: before it is inflated."""
        info = self.members[name]
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise self.fail(name, f"compressed with zip method {info.compress_type}; only stored "
                                  f"or deflate are read")
        if info.flag_bits & 0x1:
            raise self.fail(name, "encrypted")
        if info.flag_bits & _UNSUPPORTED_FLAGS:
            raise self.fail(name, f"zip flag bits 0x{info.flag_bits:04x} (patched data or strong encryption)")
        if info.file_size > largest + NPY_HEADER_LIMIT:
            raise self.fail(name, f"{info.file_size:,} bytes, more than its layout allows "
                                  f"({largest:,} bytes of data)")
        if (info.compress_type == zipfile.ZIP_DEFLATED and info.file_size > _INFLATION_FLOOR
                and info.file_size > MAX_INFLATION * max(info.compress_size, 1)):
            raise self.fail(name, f"{info.compress_size:,} compressed bytes inflate to {info.file_size:,}: "
                                  f"not an array this application writes")

    def read(self, name: str, kinds: str, ndim: int | tuple[int, ...]) -> np.ndarray:
        """The member's array, writable and in native byte order; its dtype kind must be one of
        `kinds` ('f' float, 'i' signed, 'u' unsigned, 'U' text) and it must have `ndim` dimensions
        (or one of the numbers in a tuple).

        Call check_members first: the data read is at most the member's checked size.
        """
        info = self.members[name]
        try:
            with self._zip.open(info) as member:
                dtype, shape, fortran_order = self._read_header(name, member, info.file_size, kinds, ndim)
                data = _read_exactly(member, dtype.itemsize * math.prod(shape))
                if data is None:
                    raise self.fail(name, "its data is shorter than its header says")
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError,
                RuntimeError) as error:
            raise self.fail(name, f"cannot be read ({error})") from None
        array = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran_order else "C")
        if fortran_order:  # numpy writes a transposed array (w.T) this way: the same values, in C order here
            array = np.ascontiguousarray(array)
        return array if dtype.isnative else array.astype(dtype.newbyteorder("="))

    def _read_header(self, name: str, member, member_size: int, kinds: str,
                     ndim: int | tuple[int, ...]) -> tuple[np.dtype, tuple, bool]:
        preamble = member.read(len(NPY_MAGIC) + 2)
        if len(preamble) < 8 or not preamble.startswith(NPY_MAGIC):
            raise self.fail(name, "not a .npy array")
        major = preamble[6]
        if major not in (1, 2, 3):
            raise self.fail(name, f".npy format version {major} is not supported")
        length_bytes = member.read(2 if major == 1 else 4)
        if len(length_bytes) < (2 if major == 1 else 4):
            raise self.fail(name, "its .npy header is truncated")
        header_length = int.from_bytes(length_bytes, "little")
        if header_length > NPY_HEADER_LIMIT:
            raise self.fail(name, f"its .npy header claims {header_length:,} bytes (at most {NPY_HEADER_LIMIT})")
        raw = member.read(header_length)
        if len(raw) < header_length:
            raise self.fail(name, "its .npy header is truncated")
        try:
            text = raw.decode("utf-8" if major == 3 else "latin-1")
        except UnicodeDecodeError:
            raise self.fail(name, "its .npy header is not text") from None
        descr, fortran_order, shape = _parse_npy_header(text)
        if descr is None:
            raise self.fail(name, f"its .npy header is malformed: {text.strip()[:80]!r}")
        if descr.lstrip("<>|=")[0] == "O":
            raise self.fail(name, "it holds pickled Python objects, which are never loaded")
        if descr.lstrip("<>|=")[0] not in "fiuU":  # nor handed to np.dtype, which warns on some codes
            raise self.fail(name, f"data type {descr!r}, expected {_kind_names(kinds)}")
        try:
            dtype = np.dtype(descr)
        except TypeError:
            raise self.fail(name, f"unknown data type {descr!r}") from None
        if dtype.kind not in kinds or dtype.hasobject or dtype.itemsize == 0:
            raise self.fail(name, f"data type {dtype}, expected {_kind_names(kinds)}")
        allowed = ndim if isinstance(ndim, tuple) else (ndim,)
        if len(shape) not in allowed:
            raise self.fail(name, f"{len(shape)}-d array, expected {' or '.join(map(str, allowed))}-d")
        data_bytes = dtype.itemsize * math.prod(shape)
        header_end = len(preamble) + len(length_bytes) + header_length
        if header_end + data_bytes != member_size:
            raise self.fail(name, f"its header declares shape {shape} of {dtype} ({data_bytes:,} bytes), "
                                  f"but the member holds {member_size - header_end:,}")
        return dtype, shape, bool(fortran_order)


def _open_archive_file(path: Path):
    try:
        file = open(path, "rb")  # noqa: SIM115 - closed by NpzArchive.close
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path}: is a folder, not a model file") from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot be read ({error.strerror or error})") from None
    try:
        start = file.read(8)
    except OSError as error:  # a folder opened on some systems, a device, an I/O error
        file.close()
        raise ModelFileError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not (start.startswith(b"PK\x03\x04") or start.startswith(_END_OF_DIRECTORY)):
        file.close()
        what = next((kind for magic, kind in _FORMATS_BY_MAGIC.items() if start.startswith(magic)), None)
        if not start:
            what = "an empty file"
        raise ModelFileError(f"{path}: not a model file" + (f" (it is {what})" if what else
                                                            " (a model file is an .npz zip archive)"))
    file.seek(0)
    return file


def _check_end_record(path: Path, file) -> None:
    """Refuse a zip whose directory lists more members, or is larger, than a model file's could be,
    before zipfile builds an object for each entry."""
    size = file.seek(0, os.SEEK_END)
    tail_size = min(size, _END_RECORD.size + 0xFFFF)
    file.seek(size - tail_size)
    tail = file.read(tail_size)
    at = tail.rfind(_END_OF_DIRECTORY)
    if at < 0 or at + _END_RECORD.size > len(tail):
        raise ModelFileError(f"{path}: not a readable model file (a damaged zip archive: no end of its directory)")
    entries, directory_size = _END_RECORD.unpack_from(tail, at)[4:6]
    if entries > MAX_MEMBERS or directory_size > MAX_MEMBERS * 1024:
        raise ModelFileError(f"{path}: not a model file of this application (its zip directory lists "
                             f"{entries} members in {directory_size:,} bytes)")
    file.seek(0)


def _parse_npy_header(text: str) -> tuple[str | None, bool, tuple[int, ...]]:
    """(descr, fortran_order, shape) of a .npy header such as
    "{'descr': '<f4', 'fortran_order': False, 'shape': (242762,), }"; descr None when it is not one."""
    body = text.strip()
    if not (body.startswith("{") and body.endswith("}")):
        return None, False, ()
    values, at, end = {}, 1, len(body) - 1
    while at < end:
        match = _HEADER_ENTRY.match(body, at, end)
        if match is None:
            if body[at:end].strip():
                return None, False, ()
            break
        if match.group(1) in values:
            return None, False, ()
        values[match.group(1)] = match.group(2)
        at = match.end()
    if set(values) != {"descr", "fortran_order", "shape"}:
        return None, False, ()
    descr, order, shape = values["descr"], values["fortran_order"], values["shape"]
    if descr[0] not in "'\"" or order not in ("True", "False") or not shape.startswith("("):
        return None, False, ()
    dims = tuple(int(part) for part in shape.strip("()").replace(" ", "").split(",") if part)
    return descr[1:-1], order == "True", dims


def _read_exactly(stream, count: int) -> bytearray | None:
    """`count` bytes from `stream`, read in chunks (the buffer grows only with data that came), or
    None when the stream ends first."""
    data = bytearray()
    while len(data) < count:
        chunk = stream.read(min(_READ_CHUNK, count - len(data)))
        if not chunk:
            return None
        data += chunk
    return data


def _kind_names(kinds: str) -> str:
    names = {"f": "floats", "i": "integers", "u": "integers", "U": "text"}
    return " or ".join(dict.fromkeys(names[kind] for kind in kinds))


def read_float_arrays(path: str | os.PathLike, budget: int, data: bytes | None = None) -> dict[str, np.ndarray]:
    """Every member of the .npz at `path` (or of its bytes `data`) as a 1-d or 2-d float array, by name,
    at most `budget` bytes of data in all: an archive whose member names are not known in advance (a state dict)."""
    with NpzArchive(path, data) as archive:
        arrays, remaining = {}, budget
        for name, info in archive.members.items():
            archive.check_member(name, remaining)
            remaining -= info.file_size
            arrays[name] = archive.read(name, "f", (1, 2))
        return arrays
