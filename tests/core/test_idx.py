"""IDX files: what is written reads back, and every broken file is a DatasetError naming it."""

import gzip
import tracemalloc
import zlib
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.data.idx import idx_bytes, parse_idx, read_idx, write_idx
from core.errors import DatasetError
from tests.fake_data import make_digit_like_images

IMAGES, LABELS = make_digit_like_images(12, seed=3)
VALID_IMAGES = idx_bytes(IMAGES)
VALID_LABELS = idx_bytes(LABELS)
COMPRESSED_LABELS = gzip.compress(VALID_LABELS)
FAST = settings(max_examples=60, deadline=None)


@contextmanager
def expect_dataset_error(path_or_name, *words):
    """A DatasetError must be raised, its message naming the file and holding every word given."""
    with pytest.raises(DatasetError) as info:
        yield
    message = str(info.value)
    assert str(path_or_name) in message, message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize("array", [
    IMAGES,
    LABELS,
    np.arange(-60, 60, dtype=np.int8).reshape(2, 3, 20),
    np.array([[-30000, 2], [3, 30000]], dtype=np.int16),
    np.array([-(2**31), 0, 2**31 - 1], dtype=np.int32),
    np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4),
    np.array([np.pi, -np.e, 1e300], dtype=np.float64),
], ids=["images", "labels", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_write_then_read_gives_back_the_same_array(tmp_path, array, suffix):
    path = write_idx(tmp_path / f"data-idx{array.ndim}-ubyte{suffix}", array)
    back = read_idx(path)
    assert back.dtype == array.dtype and back.dtype.isnative
    np.testing.assert_array_equal(back, array)
    assert path.read_bytes().startswith(b"\x1f\x8b") == (suffix == ".gz")
    assert list(tmp_path.iterdir()) == [path], "the temp file of the atomic write was left behind"


@pytest.mark.parametrize("name", ["train-images-idx3-ubyte", "train-images.idx3-ubyte",
                                  "train-images-idx3-ubyte.gz", "train-images.idx3-ubyte.gz"])
def test_both_naming_styles_read_raw_or_gzipped(tmp_path, name):
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / name, IMAGES)), IMAGES)


def test_gzip_is_recognized_by_content_not_by_name(tmp_path):
    gzipped_without_suffix = tmp_path / "train-labels-idx1-ubyte"
    gzipped_without_suffix.write_bytes(gzip.compress(VALID_LABELS))
    raw_with_suffix = tmp_path / "t10k-labels-idx1-ubyte.gz"
    raw_with_suffix.write_bytes(VALID_LABELS)
    np.testing.assert_array_equal(read_idx(gzipped_without_suffix), LABELS)
    np.testing.assert_array_equal(read_idx(raw_with_suffix), LABELS)


def test_the_header_is_mnists():
    assert VALID_IMAGES[:16] == bytes.fromhex("00000803" "0000000c" "0000001c" "0000001c")
    assert VALID_LABELS[:8] == bytes.fromhex("00000801" "0000000c")


def test_idx_cannot_hold_unsupported_arrays():
    with pytest.raises(ValueError):
        idx_bytes(np.zeros(3, dtype=np.uint16))
    with pytest.raises(ValueError):
        idx_bytes(np.array(5, dtype=np.uint8))


@pytest.mark.parametrize("content, words", [
    (VALID_IMAGES[:-1], ["truncated", "expected"]),
    (VALID_IMAGES[:len(VALID_IMAGES) // 2], ["truncated"]),
    (VALID_IMAGES[:10], ["truncated in its header"]),
    (VALID_IMAGES + b"\0", ["longer than its header says"]),
    (b"\x00\x00", ["too short"]),
    (b"", ["too short"]),
    (b"\x01\x02" + VALID_IMAGES[2:], ["not an IDX file", "0x01020803"]),
    (VALID_IMAGES[:2] + b"\x07" + VALID_IMAGES[3:], ["not an IDX file"]),
    (b"\x00\x00\x08\x00", ["no dimensions"]),
    (b"PK\x03\x04 a zip file, say" * 4, ["not an IDX file"]),
], ids=["one-byte-short", "half", "in-header", "too-long", "two-bytes", "empty", "magic", "type-code",
        "zero-dims", "garbage"])
def test_broken_files_raise_a_dataset_error_naming_the_file(tmp_path, content, words):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(content)
    with expect_dataset_error(path, *words):
        read_idx(path)
    gzipped = tmp_path / "train-images-idx3-ubyte.gz"
    gzipped.write_bytes(gzip.compress(content))
    with expect_dataset_error(gzipped, *words):
        read_idx(gzipped)


@pytest.mark.parametrize("content", [
    gzip.compress(VALID_IMAGES)[:-10],
    gzip.compress(VALID_IMAGES)[:30],
    b"\x1f\x8b" + b"\x00" * 40,
    b"\x1f\x8b\x08\x00" + bytes(range(200)),
    gzip.compress(VALID_IMAGES)[:-4] + b"\xde\xad\xbe\xef",  # wrong length in the trailer
], ids=["cut-trailer", "cut-body", "zeros", "garbage", "bad-trailer"])
def test_a_bad_gzip_raises_a_dataset_error_naming_the_file(tmp_path, content):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(content)
    with expect_dataset_error(path, "gzip"):
        read_idx(path)


def test_a_missing_file_or_a_folder_is_a_dataset_error(tmp_path):
    with expect_dataset_error(tmp_path / "nothing-here", "no such file"):
        read_idx(tmp_path / "nothing-here")
    with expect_dataset_error(tmp_path, "is a folder"):
        read_idx(tmp_path)


@pytest.mark.parametrize("dims", [
    (2**31, 2**31, 4),  # 2**64 bytes: in int64 arithmetic this wrapped to 0 and matched an empty body
    (0, 525, 525, 9625, 9643, 360544),  # 0 values, but NumPy refuses the shape (found by hypothesis)
])
def test_a_forged_header_with_an_impossible_shape_is_a_dataset_error_not_a_crash(dims):
    header = bytes([0, 0, 8, len(dims)]) + b"".join(n.to_bytes(4, "big") for n in dims)
    with pytest.raises(DatasetError, match="forged: the IDX header declares an impossible shape"):
        parse_idx(header, "forged")


def test_an_empty_array_is_a_valid_idx_file():
    assert parse_idx(idx_bytes(np.zeros((0, 28, 28), np.uint8))).shape == (0, 28, 28)


# Property tests: whatever the bytes, the reader either returns an array of exactly the declared
# shape or raises DatasetError; never IndexError, ValueError or a silently short array.

def parse_or_dataset_error(content: bytes, name: str = "corrupt"):
    try:
        array = parse_idx(content, name)
    except DatasetError as error:
        assert name in str(error)
        return None
    ndim = content[3]
    declared = tuple(int.from_bytes(content[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    assert array.shape == declared
    assert 4 + 4 * ndim + array.nbytes == len(content)
    return array


@FAST
@given(cut=st.integers(min_value=0, max_value=len(VALID_IMAGES) - 1))
def test_any_truncation_is_a_dataset_error(cut):
    with pytest.raises(DatasetError, match="corrupt"):
        parse_idx(VALID_IMAGES[:cut], "corrupt")


@FAST
@given(flips=st.lists(st.tuples(st.integers(0, 15), st.integers(1, 255)), min_size=1, max_size=4))
def test_random_byte_flips_in_the_header_give_a_right_shape_or_a_dataset_error(flips):
    content = bytearray(VALID_IMAGES)
    for position, mask in flips:
        content[position] ^= mask
    parse_or_dataset_error(bytes(content))


@FAST
@given(dims=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=6), code=st.sampled_from([8, 9, 11, 12, 13, 14]),
       body=st.binary(max_size=64))
def test_any_declared_shape_with_any_body_gives_a_right_shape_or_a_dataset_error(dims, code, body):
    header = bytes([0, 0, code, len(dims)]) + b"".join(n.to_bytes(4, "big") for n in dims)
    parse_or_dataset_error(header + body)


@FAST
@given(garbage=st.binary(max_size=200), gzip_magic=st.booleans())
def test_random_garbage_files_give_a_right_shape_or_a_dataset_error(tmp_path_factory, garbage, gzip_magic):
    path = tmp_path_factory.getbasetemp() / "garbage-idx3-ubyte"
    path.write_bytes((b"\x1f\x8b" if gzip_magic else b"") + garbage)
    try:
        read_idx(path)
    except DatasetError as error:
        assert str(path) in str(error)


@FAST
@given(cut=st.integers(0, len(COMPRESSED_LABELS) - 1))
def test_any_truncation_of_a_gzip_file_is_a_dataset_error(tmp_path_factory, cut):
    path = tmp_path_factory.getbasetemp() / "cut-labels-idx1-ubyte.gz"
    path.write_bytes(COMPRESSED_LABELS[:cut])
    with expect_dataset_error(path):
        read_idx(path)


# Streams: a gzip file is read against what its header promises, in chunks, never whole.

def gzip_of_header_then_zeros(path, dims, inflated):
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    header = bytes([0, 0, 8, len(dims)]) + b"".join(n.to_bytes(4, "big") for n in dims)
    zeros = bytes(1 << 22)
    with open(path, "wb") as out:
        out.write(compressor.compress(header))
        for _ in range((inflated - len(header)) // len(zeros)):
            out.write(compressor.compress(zeros))
        out.write(compressor.flush())
    return path


def test_a_gzip_bomb_is_refused_after_its_headers_worth_of_memory(tmp_path):
    """256 MB of zeros behind MNIST's header for 1,000 images (784 KB): refused as too long, having
    held about what the header promised, not what the stream holds."""
    path = gzip_of_header_then_zeros(tmp_path / "bomb-idx3-ubyte.gz", (1000, 28, 28), 256 << 20)
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with expect_dataset_error(path, "longer than its header says"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"{peak:,} bytes held while reading"


def test_a_header_declaring_more_than_the_bound_is_refused_before_reading(tmp_path):
    path = gzip_of_header_then_zeros(tmp_path / "big-idx3-ubyte.gz", (5_478_274, 28, 28), 1 << 20)
    with expect_dataset_error(path, "(5478274, 28, 28)", "more than"):
        read_idx(path)
    with expect_dataset_error(path, "too big"):
        read_idx(path, check=lambda header: "too big" if header.shape[0] > 100 else None, max_bytes=1 << 40)


@FAST
@given(flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), min_size=1, max_size=4))
def test_byte_flips_in_a_gzip_file_give_a_right_shape_or_a_dataset_error(tmp_path_factory, flips):
    content = bytearray(gzip.compress(VALID_IMAGES, mtime=0))
    for position, mask in flips:
        content[position % len(content)] ^= mask
    path = tmp_path_factory.getbasetemp() / "flipped-idx3-ubyte.gz"
    path.write_bytes(bytes(content))
    try:
        array = read_idx(path)
    except DatasetError as error:
        assert str(path) in str(error)
        return
    assert array.shape == IMAGES.shape  # a flip the gzip CRC misses cannot change the shape unseen


@FAST
@given(dims=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=4), code=st.sampled_from([8, 9, 11, 12, 13, 14]),
       body=st.binary(max_size=64), gzipped=st.booleans())
def test_any_declared_shape_from_a_file_gives_a_right_shape_or_a_dataset_error(tmp_path_factory, dims, code, body,
                                                                               gzipped):
    content = bytes([0, 0, code, len(dims)]) + b"".join(n.to_bytes(4, "big") for n in dims) + body
    path = tmp_path_factory.getbasetemp() / "declared-idx-ubyte"
    path.write_bytes(gzip.compress(content) if gzipped else content)
    try:
        array = read_idx(path)
    except DatasetError as error:
        assert str(path) in str(error)
        return
    assert array.shape == tuple(dims) and 4 + 4 * len(dims) + array.nbytes == len(content)
