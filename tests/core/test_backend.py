"""The path that trains a run is chosen once: the step, the optimizer, the images and the shuffle agree."""

from types import SimpleNamespace

import numpy as np
import pytest

from core.compiled import kernels
from core.data.sparse_images import SparseImages
from core.engine.backend import Backend
from core.engine.config import TrainConfig
from core.engine.lcg import LCG
from core.engine.optim import make_optimizer
from core.engine.run_state import Checkpoint
from core.engine.trainer import Trainer
from core.errors import ConfigError, ModelFileError
from tests.fake_data import make_digit_like_images

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed: only the NumPy path exists")


@pytest.fixture(scope="module")
def dataset():
    images, labels = make_digit_like_images(256, seed=0)
    return SimpleNamespace(train_images=images.reshape(-1, 784), train_labels=labels,
                           test_images=images[:64].reshape(-1, 784), test_labels=labels[:64])


def config(**changes) -> TrainConfig:
    return TrainConfig.for_optimizer("momentum", **{"hidden": (16,), "batch_size": 32, "epochs": 1, **changes})


def test_the_default_is_the_compiled_path_when_numba_is_there():
    assert Backend.choose().compiled == kernels.AVAILABLE
    assert Backend.choose("numpy") == Backend("numpy") and not Backend("numpy").compiled
    assert Backend.choose(Backend("numpy")).name == "numpy"


def test_an_unknown_backend_is_a_config_error():
    with pytest.raises(ConfigError, match="backend must be one of compiled, numpy"):
        Backend.choose("cuda")


@pytest.mark.skipif(kernels.AVAILABLE, reason="numba is installed: the compiled backend exists")
def test_asking_for_the_compiled_path_without_numba_says_so():
    with pytest.raises(ConfigError, match="numba"):
        Backend.choose("compiled")


def test_a_network_without_hidden_layers_takes_the_numpy_path():
    """(An imported model fine-tuned: the compiled step's input layer must be a hidden one.)"""
    backend = Backend.choose(layer_sizes=(784, 10))
    assert backend.name == "numpy" and not backend.step((784, 10), 8).fused


def test_the_numpy_backend_builds_everything_for_numpy(dataset):
    backend = Backend("numpy")
    trainer = Trainer(config(), dataset, backend="numpy")
    assert trainer.backend == backend and not trainer.optimizer.fused
    assert not backend.step((784, 16, 10), 32).fused
    images = backend.training_images(dataset.train_images)
    assert images is dataset.train_images  # read dense, no sparse rows built
    order = np.arange(10)
    backend.shuffle(order, LCG(3))
    assert sorted(order) == list(range(10)) and order.tolist() != list(range(10))


@needs_numba
def test_both_backends_shuffle_alike_and_read_the_same_images(dataset):
    orders = []
    for name in ("compiled", "numpy"):
        order = np.arange(1000)
        Backend(name).shuffle(order, LCG(7))
        orders.append(order)
    np.testing.assert_array_equal(*orders)
    sparse = Backend("compiled").training_images(dataset.train_images)
    assert isinstance(sparse, SparseImages)
    dense = sparse.take(np.arange(len(dataset.train_images))).to_dense()
    np.testing.assert_array_equal(dense, np.divide(dataset.train_images, np.float32(255), dtype=np.float32))


@needs_numba
def test_an_optimizer_for_the_other_path_is_refused_rather_than_trained_slowly(dataset):
    size = Trainer(config(), dataset).model.flat.size
    with pytest.raises(ValueError, match="numpy backend"):
        Trainer(config(), dataset, optimizer=make_optimizer(config(), size, fused=True), backend="numpy")


@pytest.mark.parametrize("backend", ["numpy", None])
def test_a_checkpoint_whose_optimizer_state_does_not_fit_is_a_model_file_error_naming_it(dataset, backend):
    trainer = Trainer(config(), dataset)
    saved = trainer.checkpoint()
    damaged = Checkpoint(saved.model, saved.config, saved.dataset_name, saved.class_names, saved.history,
                         {"velocity": np.zeros(3, dtype=np.float32)}, saved.position)
    with pytest.raises(ModelFileError, match="run.npz: cannot resume from it: the saved optimizer state"):
        Trainer.from_checkpoint(damaged, dataset, source="run.npz", backend=backend)
