"""Importing networks trained elsewhere (ONNX graphs, PyTorch-style state dicts), and refusing the rest."""

import io
import os
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets import pretrained_model_path
from core.data.dataset import load_dataset
from core.engine.network import MLP
from core.engine.trainer import Trainer
from core.errors import ModelFileError
from core.files.model_file import load_checkpoint, save_checkpoint
from core.files.model_import import MAX_IMPORT_BYTES, import_model
from core.files.onnx_export import export_onnx
from core.files.state_dict import export_state_dict, state_dict

onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install '.[onnx]')")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

SIZES = (784, 32, 16, 10)


@pytest.fixture(scope="module")
def pretrained():
    return load_checkpoint(pretrained_model_path())


def small_model(seed: int = 5) -> MLP:
    return MLP.initialized(SIZES, seed=seed)


def pytorch_like_graph(model: MLP, final: str | None = "LogSoftmax", flatten: bool = True, opset: int = 13):
    """What torch.onnx.export makes of nn.Sequential(Flatten, Linear, ReLU, Linear, ReLU, Linear, LogSoftmax),
    with the middle layer as MatMul + Add (as some exporters write a Linear)."""
    nodes, initializers = [], []
    current = "input"
    if flatten:
        nodes.append(helper.make_node("Flatten", [current], ["flat"], name="/0/Flatten", axis=1))
        current = "flat"
    last = len(model.weights) - 1
    for index, (weight, bias) in enumerate(zip(model.weights, model.biases)):
        name = f"/{index * 2 + 1}"
        if index == 1:
            initializers += [numpy_helper.from_array(weight, f"w{index}"), numpy_helper.from_array(bias, f"b{index}")]
            nodes.append(helper.make_node("MatMul", [current, f"w{index}"], [f"{name}/mm"], name=f"{name}/MatMul"))
            nodes.append(helper.make_node("Add", [f"b{index}", f"{name}/mm"], [f"{name}/out"], name=f"{name}/Add"))
        else:  # PyTorch's layout, (out, in), with transB
            initializers += [numpy_helper.from_array(np.ascontiguousarray(weight.T), f"w{index}"),
                             numpy_helper.from_array(bias, f"b{index}")]
            nodes.append(helper.make_node("Gemm", [current, f"w{index}", f"b{index}"], [f"{name}/out"],
                                          name=f"{name}/Gemm", alpha=1.0, beta=1.0, transB=1))
        current = f"{name}/out"
        if index < last:
            nodes.append(helper.make_node("Relu", [current], [f"{name}/relu"], name=f"/{index * 2 + 2}/Relu"))
            current = f"{name}/relu"
    if final is not None:
        nodes.append(helper.make_node(final, [current], ["output"], name="/final", axis=1))
        current = "output"
    shape = ["N", 1, 28, 28] if flatten else ["N", 784]
    graph = helper.make_graph(nodes, "torch_jit", [helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info(current, TensorProto.FLOAT, ["N", 10])], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def write_model(tmp_path, model_proto, name="model.onnx"):
    path = tmp_path / name
    path.write_bytes(model_proto.SerializeToString())
    return path


def refusal(path) -> str:
    with pytest.raises(ModelFileError) as caught:
        import_model(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message


# -- what is accepted --------------------------------------------------------------------------------

def test_our_onnx_export_comes_back_with_the_same_weights_and_class_names(tmp_path, pretrained):
    imported = import_model(export_onnx(pretrained, tmp_path / "model.onnx"))
    np.testing.assert_array_equal(imported.checkpoint.model.flat, pretrained.model.flat)
    assert imported.checkpoint.class_names == pretrained.class_names
    assert (imported.file_format, imported.output) == ("ONNX", "softmax")


@pytest.mark.parametrize("final, opset, flatten", [("LogSoftmax", 13, True), ("Softmax", 11, False), (None, 17, False)])
def test_a_pytorch_style_graph_is_read_whatever_its_dense_layers_and_last_node(tmp_path, final, opset, flatten):
    model = small_model()
    imported = import_model(write_model(tmp_path, pytorch_like_graph(model, final, flatten, opset)))
    np.testing.assert_array_equal(imported.checkpoint.model.flat, model.flat)
    assert imported.checkpoint.config.hidden == (32, 16)
    assert imported.output == {"LogSoftmax": "log-softmax", "Softmax": "softmax", None: "logits"}[final]


def test_a_state_dict_comes_back_with_the_same_weights(tmp_path, pretrained):
    path = export_state_dict(pretrained.model, tmp_path / "weights.npz")
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(f"{i}.{kind}" for i in (0, 2, 4, 6) for kind in ("weight", "bias"))
        assert archive["0.weight"].shape == (256, 784)  # PyTorch's (out, in)
    imported = import_model(path)
    np.testing.assert_array_equal(imported.checkpoint.model.flat, pretrained.model.flat)
    assert imported.file_format == "state dict"


def test_a_state_dict_with_a_prefix_float64_and_other_numbers_is_read(tmp_path):
    model = small_model()
    arrays = {f"net.fc{number}.{kind}": values.astype(np.float64)
              for number, (name, values) in zip((1, 1, 2, 2, 3, 3), state_dict(model).items())
              for kind in [name.split(".")[1]]}
    np.savez_compressed(tmp_path / "sd.npz", **arrays)
    np.testing.assert_allclose(import_model(tmp_path / "sd.npz").checkpoint.model.flat, model.flat)


def test_a_state_dict_of_transposed_arrays_is_read_in_their_own_order(tmp_path):
    # np.savez writes an F-contiguous array (w.T of a C array) with fortran_order True: the same
    # values, which a reader that ignored the flag would scramble
    model = small_model()
    arrays = {name: np.asfortranarray(values) for name, values in state_dict(model).items()}
    np.savez(tmp_path / "sd.npz", **arrays)
    with zipfile.ZipFile(tmp_path / "sd.npz") as archive:
        assert b"'fortran_order': True" in archive.read("0.weight.npy")[:128]
    np.testing.assert_array_equal(import_model(tmp_path / "sd.npz").checkpoint.model.flat, model.flat)


def test_an_imported_model_is_a_model_file_that_evaluates_and_fine_tunes(tmp_path, tiny_dataset_dir):
    model = small_model()
    imported = import_model(write_model(tmp_path, pytorch_like_graph(model)))
    checkpoint = imported.checkpoint
    assert checkpoint.history.epoch_losses == [] and checkpoint.test_acc is None
    assert checkpoint.position.epochs_done == 0 and checkpoint.position.lr == checkpoint.config.lr
    saved = load_checkpoint(save_checkpoint(tmp_path / "imported.npz", checkpoint))
    np.testing.assert_array_equal(saved.model.flat, model.flat)
    dataset = load_dataset(tiny_dataset_dir)
    trainer = Trainer.from_checkpoint(saved, dataset, epochs=2)
    end = list(trainer.run())[-1]
    assert end.status == "finished" and end.epochs_done == 2
    assert not np.array_equal(trainer.model.flat, model.flat)
    assert end.test_acc > float(np.mean(model.predict(dataset.test_images) == dataset.test_labels))


# -- what is refused ---------------------------------------------------------------------------------

def test_a_convolution_is_refused_naming_the_node(tmp_path):
    proto = pytorch_like_graph(small_model())
    conv = helper.make_node("Conv", ["input", "k"], ["conv"], name="/conv1/Conv")
    proto.graph.node.insert(0, conv)
    message = refusal(write_model(tmp_path, proto))
    assert "Conv node '/conv1/Conv' is not supported" in message


def test_the_first_unsupported_node_is_named_even_unnamed(tmp_path):
    proto = pytorch_like_graph(small_model(), final=None)
    proto.graph.node.insert(3, helper.make_node("Sigmoid", ["/1/out"], ["s"]))
    assert "Sigmoid node #4 (unnamed) is not supported" in refusal(write_model(tmp_path, proto))


@pytest.mark.parametrize("change, expected", [
    (lambda graph: graph.node[1].attribute.append(helper.make_attribute("transA", 1)), "Gemm node '/1/Gemm'"),
    (lambda graph: setattr(graph.node[1].attribute[0], "f", 2.0), "alpha=2.0"),
    (lambda graph: graph.node[3].input.__setitem__(0, "flat"), "MatMul node '/3/MatMul'"),  # a branch
    (lambda graph: setattr(graph.node[-1], "domain", "com.example"), "custom domain 'com.example'"),
    (lambda graph: graph.node.append(helper.make_node("Relu", ["output"], ["r"], name="after")), "Relu node 'after'"),
    (lambda graph: graph.node.pop(), "not along the chain"),
])
def test_graphs_that_are_not_a_plain_mlp_are_refused(tmp_path, change, expected):
    proto = pytorch_like_graph(small_model())
    change(proto.graph)
    assert expected in refusal(write_model(tmp_path, proto))


def test_external_data_is_refused_and_never_opened(tmp_path):
    proto = pytorch_like_graph(small_model())
    weight = proto.graph.initializer[0]
    weight.ClearField("raw_data")
    weight.data_location = TensorProto.EXTERNAL
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"\0" * 4 * weight.dims[0] * weight.dims[1])
    weight.external_data.add(key="location", value=str(secret))
    os.chmod(secret, 0)  # were it opened, the error would say so instead
    assert "refers to external data, which is never read" in refusal(write_model(tmp_path, proto))


@pytest.mark.parametrize("change, expected", [
    (lambda weight: setattr(weight, "data_type", TensorProto.INT64), "is not float32"),
    (lambda weight: setattr(weight, "raw_data", weight.raw_data[:-4]), "bytes for shape"),
    (lambda weight: weight.dims.append(1), "has shape"),
    (lambda weight: setattr(weight, "raw_data", np.full(32 * 784, np.nan, np.float32).tobytes()), "NaN"),
])
def test_weights_of_the_wrong_type_length_or_shape_are_refused(tmp_path, change, expected):
    proto = pytorch_like_graph(small_model())
    change(proto.graph.initializer[0])
    assert expected in refusal(write_model(tmp_path, proto))


def test_layer_sizes_this_application_cannot_run_are_refused(tmp_path):
    three_classes = MLP.initialized((784, 16, 3))
    assert "returns 10 classes" in refusal(write_model(tmp_path, pytorch_like_graph(three_classes)))
    no_hidden = MLP.initialized((784, 10))
    assert "at least one hidden layer" in refusal(write_model(tmp_path, pytorch_like_graph(no_hidden)))


def test_files_larger_than_the_bound_are_refused_before_reading(tmp_path):
    path = tmp_path / "huge.onnx"
    with path.open("wb") as file:
        file.truncate(MAX_IMPORT_BYTES + 1)  # sparse: no disk used
    assert "more than the" in refusal(path)


def test_a_fifo_is_refused_rather_than_read_forever(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    assert "not a regular file" in refusal(tmp_path / "pipe")


def test_state_dict_refusals_name_the_array(tmp_path, pretrained):
    arrays = state_dict(small_model())
    np.savez(tmp_path / "bn.npz", **arrays, **{"1.running_mean": np.zeros(32, np.float32)})
    assert "'1.running_mean' is not a dense layer's weight or bias" in refusal(tmp_path / "bn.npz")
    np.savez(tmp_path / "ints.npz", **{**arrays, "2.weight": arrays["2.weight"].astype(np.int32)})
    assert "2.weight: data type int32, expected floats" in refusal(tmp_path / "ints.npz")
    np.savez(tmp_path / "obj.npz", **{**arrays, "2.bias": np.array([{"a": 1}], dtype=object)})
    assert "2.bias: it holds pickled Python objects" in refusal(tmp_path / "obj.npz")
    del arrays["4.bias"]
    np.savez(tmp_path / "nobias.npz", **arrays)
    assert "layer 4 has no bias" in refusal(tmp_path / "nobias.npz")
    assert "a model file of this application already" in refusal(pretrained_model_path())


def test_an_npy_header_claiming_more_than_its_bytes_is_refused_before_allocating(tmp_path):
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000,), }"
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    member = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\0" * 16
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("0.weight.npy", member)
    (tmp_path / "liar.npz").write_bytes(buffer.getvalue())
    assert "0.weight: its header declares shape (100000000000,)" in refusal(tmp_path / "liar.npz")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(0, 10**6), replacement=st.binary(min_size=1, max_size=8), cut=st.booleans())
def test_a_damaged_file_is_imported_or_refused_never_anything_else(tmp_path, position, replacement, cut):
    for name, good in (("m.onnx", pytorch_like_graph(small_model()).SerializeToString()),
                       ("m.npz", _state_dict_bytes())):
        spot = position % len(good)
        damaged = good[:spot] if cut else good[:spot] + replacement + good[spot + len(replacement):]
        (tmp_path / name).write_bytes(damaged)
        try:
            imported = import_model(tmp_path / name)
        except ModelFileError as error:
            assert "\n" not in str(error)
        else:
            assert np.all(np.isfinite(imported.checkpoint.model.flat))


def _state_dict_bytes(cache={}) -> bytes:  # noqa: B006 (built once for every example)
    if "bytes" not in cache:
        buffer = io.BytesIO()
        np.savez(buffer, **state_dict(small_model()))
        cache["bytes"] = buffer.getvalue()
    return cache["bytes"]
