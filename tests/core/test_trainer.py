import threading
from types import SimpleNamespace

import numpy as np
import pytest

from core.compiled import kernels
from core.data.sparse_images import MAX_DENSITY
from core.engine.config import TrainConfig
from core.engine.events import BackendChanged, ChunkEnd, EpochEnd, Paused, RunEnd, RunStart
from core.engine.network import TrainingStep
from core.engine.trainer import Trainer
from core.errors import ConfigError
from core.files.model_file import load_checkpoint, save_checkpoint
from tests.fake_data import make_digit_like_images


@pytest.fixture(scope="module")
def dataset():
    train_images, train_labels = make_digit_like_images(512, seed=0)
    test_images, test_labels = make_digit_like_images(200, seed=1)
    return SimpleNamespace(name="fake", class_names=tuple("0123456789"),
                           train_images=train_images.reshape(-1, 784), train_labels=train_labels,
                           test_images=test_images.reshape(-1, 784), test_labels=test_labels)


def small_config(**changes):
    values = dict(hidden=(32, 16), epochs=3, batch_size=32)
    values.update(changes)
    return TrainConfig.for_optimizer(values.pop("optimizer", "adam"), **values)


def run_all(trainer):
    return list(trainer.run())


def test_a_run_reports_batches_epochs_and_a_test_score(dataset):
    trainer = Trainer(small_config(lr=0.003), dataset)
    events = run_all(trainer)
    assert events[0] == RunStart(3, 512 // 32, 0)
    chunks = [e for e in events if isinstance(e, ChunkEnd)]
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert np.concatenate([e.losses for e in chunks]).tolist() == trainer.history.batch_losses
    assert len(trainer.history.batch_losses) == 3 * (512 // 32) and len(epochs) == 3
    assert [e.batch for e in chunks if e.epoch == 1][-1] == 512 // 32  # a chunk says where the epoch stands
    assert all(later.elapsed >= earlier.elapsed for earlier, later in zip(chunks, chunks[1:]))
    assert isinstance(events[-1], RunEnd) and events[-1].status == "finished"
    assert epochs[-1].loss < epochs[0].loss
    assert events[-1].test_acc > 0.9  # the fake digits are easy
    assert [e.lr for e in epochs] == pytest.approx([0.003, 0.003 * 0.97, 0.003 * 0.97**2])
    assert all(0 <= e.val_acc <= 1 for e in epochs)


def test_the_same_seed_gives_the_same_curve(dataset):
    first, second = Trainer(small_config(), dataset), Trainer(small_config(), dataset)
    run_all(first)
    run_all(second)
    assert first.history.batch_losses == second.history.batch_losses
    third = Trainer(small_config(seed=7), dataset)
    run_all(third)
    assert third.history.batch_losses != first.history.batch_losses


@pytest.mark.parametrize("stop_after_batches", [2 * 16, 2 * 16 + 5])  # at an epoch end, mid-epoch
def test_resume_from_a_checkpoint_continues_the_same_curve(dataset, tmp_path, stop_after_batches):
    straight = Trainer(small_config(optimizer="momentum", epochs=4), dataset)
    run_all(straight)

    interrupted = Trainer(small_config(optimizer="momentum", epochs=4), dataset)
    interrupted.max_chunk = 3  # chunks of 1, 3, 3, ...: a stop can land mid-epoch
    for event in interrupted.run():
        if isinstance(event, ChunkEnd) and len(interrupted.history.batch_losses) >= stop_after_batches:
            interrupted.stop()
    trained = len(interrupted.history.batch_losses)
    assert stop_after_batches <= trained < stop_after_batches + 3
    assert (trained % 16 == 0) == (stop_after_batches % 16 == 0)
    path = save_checkpoint(tmp_path / "run.npz", interrupted.checkpoint())
    resumed = Trainer.from_checkpoint(load_checkpoint(path), dataset)
    events = run_all(resumed)
    assert events[-1].status == "finished"
    assert resumed.history.batch_losses == pytest.approx(straight.history.batch_losses, rel=1e-6)
    np.testing.assert_allclose(resumed.model.flat, straight.model.flat, rtol=1e-6, atol=1e-7)


def test_a_diverging_run_stops_and_keeps_the_last_finite_weights(dataset):
    trainer = Trainer(small_config(optimizer="sgd", lr=1e4, epochs=5), dataset)
    before = trainer.model.flat.copy()
    events = run_all(trainer)
    end = events[-1]
    assert end.status == "diverged" and "lower" in end.message.lower()
    assert np.all(np.isfinite(trainer.model.flat))
    if end.epochs_done == 0:
        np.testing.assert_array_equal(trainer.model.flat, before)


def test_a_loss_that_diverges_inside_a_chunk_names_its_batch(dataset, monkeypatch):
    """The run trains in chunks of batches; the first non-finite loss of one names its own batch,
    and the run goes back to the epoch's start."""
    calls = []
    real_train_batches = TrainingStep.train_batches

    def train_batches(step, model, images, rows, labels, grads, optimizer, lr, losses):
        real_train_batches(step, model, images, rows, labels, grads, optimizer, lr, losses)
        calls.append(len(losses))
        if sum(calls) >= 7:  # the seventh batch of the run, wherever it falls in its chunk
            losses[7 - (sum(calls) - len(losses)) - 1:] = np.inf
        return losses

    monkeypatch.setattr(TrainingStep, "train_batches", train_batches)
    trainer = Trainer(small_config(optimizer="sgd", epochs=2), dataset)
    trainer.max_chunk, trainer.chunk_seconds = 4, 1e9  # chunks of 1, then 4, 4, ...
    before = trainer.model.flat.copy()
    events = run_all(trainer)
    assert calls[:2] == [1, 4] and events[-1].status == "diverged"
    assert "epoch 1, batch 7:" in events[-1].message and "from before epoch 1 were kept" in events[-1].message
    assert trainer.history.batch_losses == [] and trainer.position.next_batch == 0
    np.testing.assert_array_equal(trainer.model.flat, before)


def test_a_run_resumed_mid_epoch_that_diverges_keeps_the_weights_it_resumed_from(dataset):
    interrupted = Trainer(small_config(optimizer="sgd", epochs=3), dataset)
    interrupted.max_chunk, interrupted.chunk_seconds = 5, 1e9  # chunks of 1, 5, 5, 5 (epoch 1), 5, ...
    for event in interrupted.run():
        if isinstance(event, ChunkEnd) and len(interrupted.history.batch_losses) >= 20:
            interrupted.stop()
    checkpoint = interrupted.checkpoint()
    assert checkpoint.position.next_batch == 5 and len(checkpoint.history.batch_losses) == 16 + 5
    resumed = Trainer.from_checkpoint(checkpoint, dataset)
    resumed.position.lr = 1e6  # diverges at once
    end = run_all(resumed)[-1]
    assert end.status == "diverged" and "from epoch 2, batch 5 (where this run resumed)" in end.message
    np.testing.assert_array_equal(resumed.model.flat, checkpoint.model.flat)
    assert resumed.history.batch_losses == checkpoint.history.batch_losses
    assert resumed.position.next_batch == 5 and resumed.position.shuffled_epoch == 2


def test_an_interrupt_as_a_chunk_returns_leaves_history_and_position_with_the_model(dataset, monkeypatch):
    """Ctrl+C lands as the compiled call returns: a checkpoint saved then holds every batch the
    model has learned from, once (Adam counts them too)."""
    real_train_batches = TrainingStep.train_batches

    def interrupted_train_batches(*args):
        real_train_batches(*args)
        raise KeyboardInterrupt

    trainer = Trainer(small_config(optimizer="adam", epochs=3), dataset)
    trainer.max_chunk, trainer.chunk_seconds = 6, 1e9
    events = trainer.run()
    for _ in range(3):  # the run's start, then chunks of 1 and 6 batches
        next(events)
    monkeypatch.setattr(TrainingStep, "train_batches", interrupted_train_batches)
    with pytest.raises(KeyboardInterrupt):
        list(events)
    assert len(trainer.history.batch_losses) == trainer.optimizer.t == 13
    assert trainer.position.next_batch == 13 and trainer.wait_until_halted(0)


def test_pause_resume_and_stop_from_another_thread(dataset):
    trainer = Trainer(small_config(epochs=50), dataset)
    seen = []
    worker = threading.Thread(target=lambda: seen.extend(trainer.run()))
    trainer.pause()
    worker.start()
    worker.join(0.3)
    # paused before the first batch, and said so
    assert worker.is_alive() and seen == [RunStart(50, trainer.batches_per_epoch, 0), Paused(1, 0)]
    trainer.resume()
    while not any(isinstance(e, ChunkEnd) for e in list(seen)):
        worker.join(0.01)
    trainer.stop()
    worker.join(5)
    assert not worker.is_alive()
    assert seen[-1].status == "stopped" and seen[-1].epochs_done < 50


def test_holdout_validation_trains_on_fewer_images():
    images, labels = make_digit_like_images(6000, seed=3)
    data = SimpleNamespace(train_images=images.reshape(-1, 784), train_labels=labels,
                           test_images=images[:100].reshape(-1, 784), test_labels=labels[:100])
    trainer = Trainer(small_config(validation="holdout", epochs=1, batch_size=100), data)
    assert trainer.batches_per_epoch == 10 and len(trainer.splits.val_images) == 5000


def test_a_batch_larger_than_the_training_set_is_refused(dataset):
    with pytest.raises(ConfigError, match="batch size"):
        Trainer(small_config(batch_size=1024), dataset)


@pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed: only the NumPy path exists")
def test_the_compiled_path_follows_the_numpy_curve(dataset):
    """On mostly-zero images (sparse input rows) the compiled run stays on the NumPy run's curve."""
    images = dataset.train_images.copy()
    images[images < 40] = 0  # the fake digits' noise becomes MNIST's black background
    assert np.count_nonzero(images) < MAX_DENSITY * images.size  # so the run reads sparse rows
    sparse = SimpleNamespace(**{**vars(dataset), "train_images": images})
    compiled = Trainer(small_config(optimizer="momentum", epochs=2), sparse, backend="compiled")
    run_all(compiled)
    plain = Trainer(small_config(optimizer="momentum", epochs=2), sparse, backend="numpy")
    assert compiled.optimizer.fused and not plain.optimizer.fused
    run_all(plain)
    assert compiled.history.batch_losses == pytest.approx(plain.history.batch_losses, rel=1e-4)
    np.testing.assert_allclose(compiled.model.flat, plain.model.flat, rtol=1e-3, atol=1e-5)


def test_wait_until_halted_returns_once_a_paused_run_has_stopped_training(dataset):
    trainer = Trainer(small_config(epochs=200), dataset)
    worker = threading.Thread(target=lambda: list(trainer.run()))
    worker.start()
    try:
        while not trainer.history.batch_losses:
            worker.join(0.001)
        assert not trainer.wait_until_halted(0.05)  # training
        trainer.pause()
        assert trainer.wait_until_halted(5)
        trained = len(trainer.history.batch_losses)
        worker.join(0.2)
        assert len(trainer.history.batch_losses) == trained  # nothing more while paused
        trainer.resume()
        assert not trainer.wait_until_halted(0.05)
        trainer.pause()
        assert trainer.wait_until_halted(5)
        assert len(trainer.history.batch_losses) > trained
    finally:
        trainer.stop()
        worker.join(10)
    assert not worker.is_alive() and trainer.wait_until_halted(0)  # an ended run stays halted
    trainer.resume()
    assert trainer.wait_until_halted(0)


@pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed: there is nothing to move to")
@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_a_numpy_run_moves_to_the_compiled_kernels_between_epochs_once_they_are_ready(dataset, optimizer):
    """A first run (core/engine/compile_process.py) starts with NumPy; when its `upgrade` says the
    kernels are built, the next epoch trains compiled, the optimizer's state going on as it was:
    the curve stays the all-NumPy run's."""
    images = dataset.train_images.copy()
    images[images < 40] = 0
    sparse = SimpleNamespace(**{**vars(dataset), "train_images": images})
    asked: list[int] = []
    moving = Trainer(small_config(optimizer=optimizer, epochs=3), sparse, backend="numpy")
    moving.upgrade = lambda: asked.append(len(moving.history.epoch_losses)) or len(asked) == 2
    events = run_all(moving)
    plain = Trainer(small_config(optimizer=optimizer, epochs=3), sparse, backend="numpy")
    run_all(plain)

    assert asked == [0, 1]  # asked before epochs 1 and 2, then never again
    changes = [event for event in events if isinstance(event, BackendChanged)]
    assert changes == [BackendChanged(2, "compiled")]
    assert events.index(changes[0]) == [type(event) for event in events].index(EpochEnd) + 1
    assert moving.backend.compiled and moving.optimizer.fused and moving.upgrade is None
    if optimizer == "adam":
        assert moving.optimizer.t == plain.optimizer.t == 3 * (512 // 32)
    batches = 512 // 32
    assert moving.history.batch_losses[:batches] == pytest.approx(plain.history.batch_losses[:batches], rel=1e-5)
    assert moving.history.batch_losses == pytest.approx(plain.history.batch_losses, rel=1e-3)
    np.testing.assert_allclose(moving.model.flat, plain.model.flat, rtol=1e-3, atol=1e-4)


@pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed: there is nothing to move to")
def test_an_augmented_run_moves_too_with_the_same_distorted_images(dataset):
    """Its epoch images are made again for the compiled step from the same seeds: the curve stays
    the all-NumPy augmented run's."""
    moving = Trainer(small_config(epochs=2, augment=True), dataset, backend="numpy")
    moving.upgrade = lambda: len(moving.history.epoch_losses) == 1
    events = run_all(moving)
    plain = Trainer(small_config(epochs=2, augment=True), dataset, backend="numpy")
    run_all(plain)
    assert [event for event in events if isinstance(event, BackendChanged)] == [BackendChanged(2, "compiled")]
    assert moving.backend.compiled
    assert moving.history.batch_losses == pytest.approx(plain.history.batch_losses, rel=1e-3)


def test_a_numpy_run_whose_kernels_are_not_ready_stays_on_numpy(dataset):
    trainer = Trainer(small_config(epochs=2), dataset, backend="numpy")
    asked = []
    trainer.upgrade = lambda: asked.append(True) and False
    assert not any(isinstance(event, BackendChanged) for event in run_all(trainer))
    assert not trainer.backend.compiled
    assert len(asked) == (2 if kernels.AVAILABLE else 0)  # without numba it is not even asked
