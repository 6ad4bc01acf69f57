"""Hypothesis over the model-file reader: whatever is done to a valid file, loading it returns a
checkpoint or raises ModelFileError naming the file; any other exception fails."""

import io
import json
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from core.errors import ModelFileError
from core.files.model_file import load_checkpoint
from tests.damaged_models import arrays_of, write_arrays, write_base_model

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FIELDS = [("config",), ("config", "lr"), ("config", "batch_size"), ("config", "hidden"), ("config", "epochs"),
          ("config", "optimizer"), ("config", "seed"), ("layer_sizes",), ("class_names",), ("test_acc",),
          ("dataset_name",), ("position",), ("position", "next_batch"), ("position", "epochs_done"),
          ("position", "lr"), ("position", "shuffle_state"), ("position", "shuffled_epoch"),
          ("optimizer_state_keys",), ("version",), ("format",)]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=20)
MEMBERS = ["parameters", "position_order", "optimizer_m", "optimizer_v", "optimizer_t", "history_batch_losses",
           "history_val_accs", "history_lrs", "junk"]
ARRAYS = hnp.arrays(st.sampled_from([np.float32, np.float64, np.int64, np.int32, np.uint8, np.int8, np.bool_,
                                     np.dtype("<U3"), np.dtype(">f4"), np.dtype(">i8")]),
                    hnp.array_shapes(min_dims=0, max_dims=2, max_side=700))


class Base(tuple):
    """(path, bytes, arrays) of the valid file, shown by its path alone in hypothesis's reports."""

    def __repr__(self) -> str:
        return f"Base({self[0]})"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    path = write_base_model(tmp_path_factory.mktemp("fuzz") / "base.npz")
    return Base((path, path.read_bytes(), arrays_of(path)))


def load_or_model_file_error(path):
    try:
        checkpoint = load_checkpoint(path)
    except ModelFileError as error:
        assert str(error).startswith(str(path)) and "\n" not in str(error), str(error)
        return None
    # what did load is safe to use: the order indexes the rows it claims, the names fit the outputs
    order = checkpoint.position.order
    if order is not None:
        assert order.dtype == np.int64 and np.array_equal(np.sort(order), np.arange(len(order)))
    assert len(checkpoint.class_names) == checkpoint.model.layer_sizes[-1]
    assert checkpoint.test_acc is None or 0 <= checkpoint.test_acc <= 1
    return checkpoint


@FUZZ
@given(field=st.sampled_from(FIELDS), value=JSON_VALUES)
def test_any_value_in_any_metadata_field(base, tmp_path, field, value):
    arrays = dict(base[2])
    metadata = json.loads(str(arrays["metadata"]))
    target = metadata
    for key in field[:-1]:
        target = target[key]
    target[field[-1]] = value
    arrays["metadata"] = np.array(json.dumps(metadata))
    path = tmp_path / "fuzzed.npz"
    write_arrays(path, arrays)
    load_or_model_file_error(path)


@FUZZ
@given(name=st.sampled_from(MEMBERS), value=ARRAYS)
def test_any_array_in_any_member(base, tmp_path, name, value):
    arrays = dict(base[2])
    arrays[name] = value
    path = tmp_path / "fuzzed.npz"
    write_arrays(path, arrays)
    load_or_model_file_error(path)


@FUZZ
@given(cut=st.integers(0, 200_000))
def test_any_truncation(base, tmp_path, cut):
    path = tmp_path / "cut.npz"
    path.write_bytes(base[1][:cut % len(base[1])])
    load_or_model_file_error(path)


@FUZZ
@given(flips=st.lists(st.tuples(st.integers(0, 10**9), st.integers(1, 255)), min_size=1, max_size=6),
       near_the_directory=st.booleans())
def test_byte_flips_anywhere_and_in_the_zip_directory(base, tmp_path, flips, near_the_directory):
    content = bytearray(base[1])
    directory = content.rfind(b"PK\x01\x02", 0, content.rfind(b"PK\x05\x06")) - 1200
    for position, mask in flips:
        at = directory + position % (len(content) - directory) if near_the_directory else position % len(content)
        content[at] ^= mask
    path = tmp_path / "flipped.npz"
    path.write_bytes(bytes(content))
    load_or_model_file_error(path)


@FUZZ
@given(header=st.binary(max_size=300) | st.text(alphabet="{}()[]',:0123456789 <>|=fiuUObTrueFalsdescrhapot_\n",
                                                 max_size=200).map(str.encode),
       version=st.sampled_from([b"\x01\x00", b"\x02\x00", b"\x03\x00"]), length=st.integers(0, 70000))
def test_any_npy_header(base, tmp_path, header, version, length):
    width = 2 if version == b"\x01\x00" else 4
    prefix = b"\x93NUMPY" + version + (length % 256**width).to_bytes(width, "little")
    buffer = io.BytesIO()
    with zipfile.ZipFile(base[0]) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            target.writestr(info.filename, prefix + header + content[128:] if info.filename == "parameters.npy"
                            else content)
    path = tmp_path / "header.npz"
    path.write_bytes(buffer.getvalue())
    load_or_model_file_error(path)
