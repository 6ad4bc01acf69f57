"""The bounded .npz reader on its own: headers as other writers spell them, and its refusals."""

import zipfile

import numpy as np
import pytest

from core.errors import ModelFileError
from core.files.npz_reader import NpzArchive


def archive_with(path, header_text, data):
    text = header_text + " " * (63 - (len(header_text) + 10) % 64) + "\n"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.npy", b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode() + data)
    return path


@pytest.mark.parametrize("header", [
    "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",  # NumPy's
    "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}",  # no trailing comma
    '{"shape": ( 3 , ), "descr": "<f4", "fortran_order": False}',  # other quotes, order, spaces
    "{'descr': '>f4', 'fortran_order': True, 'shape': (3,), }",  # big-endian, Fortran order in 1-d
])
def test_headers_as_other_writers_spell_them_are_read(tmp_path, header):
    values = np.array([1.5, -2.0, 3.25], np.float32)
    data = values.astype(">f4" if ">f4" in header else "<f4").tobytes()
    with NpzArchive(archive_with(tmp_path / "a.npz", header, data)) as archive:
        archive.check_members({"a": 12})
        array = archive.read("a", "f", 1)
    np.testing.assert_array_equal(array, values)
    assert array.dtype == np.float32 and array.dtype.isnative and array.flags.writeable


@pytest.mark.parametrize("header, words", [
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'shape': (3,), }", "malformed"),
    ("{'descr': '<f4', 'fortran_order': False, }", "malformed"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1, }", "malformed"),
    ("{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }", "malformed"),
    ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }", "malformed"),
    ("{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", "data type"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
     r"shape \(4,\) of float32 \(16 bytes\), but the member holds 12"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1), }", "2-d"),
    ("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", "int32, expected floats"),
])
def test_a_header_that_does_not_fit_is_refused(tmp_path, header, words):
    path = archive_with(tmp_path / "a.npz", header, bytes(12))
    with NpzArchive(path) as archive, pytest.raises(ModelFileError, match=words) as info:
        archive.read("a", "f", 1)
    assert str(info.value).startswith(f"{path}: a: ")


def test_a_member_larger_than_allowed_is_refused_before_reading(tmp_path):
    path = archive_with(tmp_path / "a.npz", "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", bytes(12))
    with NpzArchive(path) as archive:
        with pytest.raises(ModelFileError, match="more than its layout allows"):
            archive.check_members({"a": -5000})
        with pytest.raises(ModelFileError, match="cannot have"):
            archive.check_members({"b": 12})


def test_bytes_already_read_are_the_ones_checked_and_read_not_the_file_again(tmp_path):
    # an import reads the file once (bounded) and parses those bytes: a file swapped in between
    # cannot bring arrays that were never checked
    np.savez(tmp_path / "read.npz", w=np.arange(6, dtype=np.float32).reshape(2, 3))
    data = (tmp_path / "read.npz").read_bytes()
    np.savez(tmp_path / "read.npz", w=np.zeros((2, 3), np.float32))  # the file changes after the read
    with NpzArchive(tmp_path / "read.npz", data) as archive:
        np.testing.assert_array_equal(archive.read("w", "f", 2), np.arange(6).reshape(2, 3))
    with pytest.raises(ModelFileError, match="gone.npz"):  # and errors still name the file
        NpzArchive(tmp_path / "gone.npz", b"PK\x03\x04 not really a zip")
