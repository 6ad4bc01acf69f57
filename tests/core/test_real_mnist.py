"""On the real MNIST files (MNIST_DIR): the seed's results are reached. Skipped without them."""

import pytest

from core.data.dataset import load_dataset
from core.engine.config import TrainConfig
from core.engine.events import EpochEnd, RunEnd
from core.engine.trainer import Trainer


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return load_dataset(mnist_dir)


def test_the_real_files_load_with_the_expected_sizes(mnist):
    assert mnist.name == "MNIST"
    assert mnist.train_images.shape == (60000, 784) and mnist.test_images.shape == (10000, 784)


def test_one_adam_epoch_reaches_95_percent_validation_accuracy(mnist):
    events = list(Trainer(TrainConfig(epochs=1), mnist).run())
    epoch = next(e for e in events if isinstance(e, EpochEnd))
    assert epoch.val_acc >= 0.95


# The seed reports 98.35 / 97.56 / 94.83 %; the issue asks for at least these after 25 epochs.
@pytest.mark.parametrize("optimizer, floor", [("adam", 0.980), ("momentum", 0.973), ("sgd", 0.945)])
def test_25_epochs_reach_the_seeds_test_accuracy(mnist, optimizer, floor):
    trainer = Trainer(TrainConfig.for_optimizer(optimizer), mnist)
    end = [e for e in trainer.run() if isinstance(e, RunEnd)][0]
    assert end.status == "finished" and end.epochs_done == 25
    assert end.test_acc >= floor, f"{optimizer}: {end.test_acc:.4f} < {floor}"
