"""The training object shared by the command line and the window.

`Trainer.run()` is a generator: headless code iterates it, the GUI's worker iterates it in a
QThread (core/engine/run_progress.py turns its events into the window's reports). The caller owns
the run's RunControl (core/engine/run_control.py): pause, resume, stop and a new learning rate
may come from any thread and take effect between chunks of batches (CHUNK_SECONDS). The path
that trains (compiled or NumPy) is the run's Backend, chosen here (core/engine/backend.py); a
first run that starts with NumPy while another process builds the kernels moves to them between
epochs (`upgrade`, core/engine/compile_process.py), with a BackendChanged event.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from core.compiled import kernels
from core.data.augment import EpochImages
from core.data.sparse_images import SparseImages
from core.engine.backend import Backend
from core.engine.config import HOLDOUT_SIZE, SEED_VALIDATION_RANGE, TrainConfig
from core.engine.events import (
    BackendChanged,
    ChunkEnd,
    EpochEnd,
    LearningRateChanged,
    Paused,
    RunEnd,
    RunStart,
    TrainingEvent,
)
from core.engine.lcg import LCG
from core.engine.network import MLP, ParameterBuffer, TrainingStep
from core.engine.optim import Optimizer
from core.engine.run_control import RunControl
from core.engine.run_state import Checkpoint, History, Position
from core.errors import ConfigError, ModelFileError
from core.wording import counted

UNTRAINED = -1.0  # a loss is >= 0 or not a number: marks a chunk's batches not trained

# A run hands the compiled step about this many seconds of batches per call, and needs the GIL
# only in between: pause and stop wait for the chunk at most, and the app's GUI thread, which
# holds the GIL while it paints, stalls training at most once per chunk instead of once per batch.
# In the window (bench/bench_app.py, medians of 3 pairs): 0.02 s 85-88 %, 0.05 s 91-93 %, 0.1 s
# 89-90 % of headless speed.
CHUNK_SECONDS = 0.05
MAX_CHUNK = 256


@dataclass
class Splits:
    """The arrays a run reads: uint8 images (N, 784) and their labels."""

    train_images: np.ndarray
    train_labels: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray

    @classmethod
    def from_dataset(cls, dataset, validation: str = "seed") -> Splits:
        train_x, train_y = dataset.train_images, dataset.train_labels
        test_x, test_y = dataset.test_images, dataset.test_labels
        if validation == "holdout" and len(train_x) > HOLDOUT_SIZE:
            cut = len(train_x) - HOLDOUT_SIZE
            return cls(train_x[:cut], train_y[:cut], train_x[cut:], train_y[cut:], test_x, test_y)
        start, stop = SEED_VALIDATION_RANGE
        if len(test_x) < stop:  # a small dataset: validate on its last tenth of the test set
            start = len(test_x) - max(1, len(test_x) // 10)
        return cls(train_x, train_y, test_x[start:stop], test_y[start:stop], test_x, test_y)


def accuracy(model: MLP, images: np.ndarray, labels: np.ndarray) -> float:
    if len(images) == 0:
        return float("nan")
    return float(np.mean(model.predict(images) == labels))


class Trainer:
    """Trains `model` (or a fresh one from `config`) on `dataset` (anything with the four arrays).

    `control` is the caller's handle on the run (a fresh one when not given); `backend` the path
    that trains it: "compiled", "numpy", a Backend, or None for the default (Backend.choose).
    A setting that does not fit the dataset raises ConfigError.
    """

    def __init__(self, config: TrainConfig, dataset, model: MLP | None = None,
                 optimizer: Optimizer | None = None, history: History | None = None,
                 position: Position | None = None, control: RunControl | None = None,
                 backend: Backend | str | None = None) -> None:
        self.config = config
        self.backend = Backend.choose(backend, config.layer_sizes)
        self.dataset_name = getattr(dataset, "name", "MNIST")
        self.class_names = tuple(getattr(dataset, "class_names", tuple(str(d) for d in range(10))))
        self.splits = Splits.from_dataset(dataset, config.validation)
        if len(self.splits.train_images) < config.batch_size:
            raise ConfigError(f"batch size {config.batch_size} is larger than the "
                              f"{len(self.splits.train_images)} training images")
        self.model = model if model is not None else MLP.initialized(config.layer_sizes, config.seed, config.init)
        self.optimizer = optimizer if optimizer is not None else self.backend.optimizer(config, self.model.flat.size)
        if self.optimizer.fused != self.backend.compiled:  # the step would quietly take the slow path
            raise ValueError(f"the optimizer was built for another path than the {self.backend.name} backend")
        self.history = history if history is not None else History()
        self.position = position if position is not None else Position(lr=config.lr, shuffle_state=config.seed)
        self.position.check_fits(len(self.splits.train_images), config.batch_size)  # before any index is used
        self.chunk_seconds = CHUNK_SECONDS  # about how long one call of the compiled step lasts
        self.max_chunk = MAX_CHUNK  # and at most this many batches
        self.control = control if control is not None else RunControl()
        self._epoch_images: EpochImages | None = None  # each epoch's own images, when augmenting
        # a NumPy run may move to the compiled kernels between epochs, once this says they are
        # ready (a first run's, built by another process: core/engine/compile_process.py)
        self.upgrade: Callable[[], bool] | None = None

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint, dataset, epochs: int | None = None,
                        control: RunControl | None = None, backend: Backend | str | None = None,
                        source: str = "the saved run") -> Trainer:
        """Continue a saved run where it stopped; `epochs` raises the total number of epochs.

        A checkpoint that cannot go on here (its optimizer state or its position does not fit)
        raises ModelFileError naming `source` (the file it came from)."""
        config = checkpoint.config if epochs is None else checkpoint.config.replace(epochs=epochs)
        chosen = Backend.choose(backend, config.layer_sizes)
        model = checkpoint.model.copy()
        optimizer = chosen.optimizer(config, model.flat.size)
        try:
            optimizer.load_state(checkpoint.optimizer_state)
        except (ValueError, AttributeError) as error:
            raise ModelFileError(f"{source}: cannot resume from it: the saved optimizer state does not fit: "
                                 f"{error}") from None
        position = copy.deepcopy(checkpoint.position)
        train_count = len(Splits.from_dataset(dataset, config.validation).train_images)
        if position.order is not None and len(position.order) != train_count:
            position.order, position.next_batch = None, 0  # another dataset: start a fresh epoch
            position.shuffled_epoch = 0
        try:
            return cls(config, dataset, model, optimizer, copy.deepcopy(checkpoint.history), position, control, chosen)
        except ConfigError:
            raise
        except ValueError as error:  # the position does not fit this dataset's epoch
            raise ModelFileError(f"{source}: cannot resume from it: {error}") from None

    def checkpoint(self) -> Checkpoint:
        """A self-contained copy of the run, safe to save while training continues.

        Call it from the thread that iterates run() (between batches), where nothing is mid-update.
        """
        state = {key: np.array(value, copy=True) for key, value in self.optimizer.state().items()}
        return Checkpoint(self.model.copy(), self.config, self.dataset_name, self.class_names,
                          copy.deepcopy(self.history), state, copy.deepcopy(self.position))

    # -- control, from any thread: shorthands for the run's RunControl ------------------------------------
    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def stop(self) -> None:
        self.control.stop()

    def set_lr(self, lr: float) -> None:
        self.control.set_lr(lr)

    @property
    def paused(self) -> bool:
        return self.control.paused

    def wait_until_halted(self, timeout: float | None = None) -> bool:
        """Wait until the run trains no more batches: paused between chunks, or ended. False on timeout."""
        return self.control.wait_until_halted(timeout)

    @property
    def batches_per_epoch(self) -> int:
        return len(self.splits.train_images) // self.config.batch_size

    # -- the loop ------------------------------------------------------------------------------
    def run(self) -> Iterator[TrainingEvent]:
        """Train until the configured epochs are done, the run is stopped, or the loss diverges."""
        config = self.config
        step = self.backend.step(config.layer_sizes, config.batch_size)
        grads = ParameterBuffer(config.layer_sizes)
        # the step's kernel threads while no epoch's images are being made: the calling thread's,
        # given back at the end
        self._kernel_threads = kernels.kernel_threads()
        if config.augment:
            self._epoch_images = EpochImages(self.splits.train_images, config.seed, sparse=self.backend.compiled)
        images = None if config.augment else self.backend.training_images(self.splits.train_images)
        shuffler = LCG(self.position.shuffle_state)
        try:
            yield RunStart(config.epochs, self.batches_per_epoch, len(self.history.batch_losses))
            # once for the whole loop, not at every step; a NumPy run waiting for its compiled
            # kernels leaves the other core to the process building them (with two BLAS threads
            # beside it, a NumPy epoch took 16 s instead of 1.2 s)
            blas = kernels.SingleThreadedBlas() if self.upgrade is not None else step.single_threaded_blas
            with blas:
                yield from self._epochs(step, grads, images, shuffler)
        finally:
            if self._epoch_images is not None:
                self._epoch_images.close()
                kernels.set_kernel_threads(self._kernel_threads)
            self.control.end()

    def _epochs(self, step: TrainingStep, grads: ParameterBuffer, images: np.ndarray | SparseImages | None,
                shuffler: LCG) -> Iterator[TrainingEvent]:
        """The body of `run`, with BLAS kept on one thread around it.

        The batches go to the step in chunks (`step.train_batches`), the first of one batch, the
        next sized from the last to take about `chunk_seconds`: the model, the history and the
        position move on by a whole chunk, then one ChunkEnd carries its losses. Pause, stop and
        a new learning rate take effect between chunks.
        """
        config, position, history = self.config, self.position, self.history
        batch_size, batches = config.batch_size, self.batches_per_epoch
        train_labels, train_count = self.splits.train_labels, len(self.splits.train_images)
        last_good = self._snapshot()
        elapsed_before = 0.0
        chunk = 1  # batches in the next chunk: the first one's time sizes the next
        status, message = "finished", ""
        best: tuple[int, float, _Snapshot] | None = None  # (epoch, validation accuracy, state), for patience
        while position.epochs_done < config.epochs and status == "finished":
            epoch = position.epochs_done + 1
            if self._compiled_kernels_ready():
                step, images = self._move_to_compiled(step, images)
                yield BackendChanged(epoch, self.backend.name)
            if position.order is None:
                position.order = np.arange(train_count)
                position.shuffled_epoch = 0
            if position.shuffled_epoch != epoch:
                self.backend.shuffle(position.order, shuffler)
                position.shuffle_state = shuffler.state
                position.shuffled_epoch = epoch
                position.next_batch = 0
            epoch_start_loss_index = len(history.batch_losses) - position.next_batch
            first_batch = position.next_batch
            epoch_started = time.perf_counter()
            if self._epoch_images is not None:  # the hook: this epoch's distorted images, waited for in its time
                images = self._epoch_images.for_epoch(epoch, prepare_next=epoch < config.epochs)
            paused_seconds = 0.0
            while position.next_batch < batches:
                if self.control.paused:
                    yield Paused(epoch, position.next_batch)
                paused_seconds += self.control.wait_if_paused()
                batch = position.next_batch
                if self.control.stop_requested:
                    status, message = "stopped", f"stopped during epoch {epoch}, batch {batch + 1}"
                    break
                new_lr = self.control.take_new_lr()
                if new_lr is not None and new_lr != position.lr:
                    position.lr = new_lr
                    yield LearningRateChanged(epoch, batch, new_lr)
                count = min(chunk, batches - batch)
                rows = position.order[batch * batch_size:(batch + count) * batch_size]
                losses = np.full(count, UNTRAINED)
                chunk_started = time.perf_counter()
                if self._epoch_images is not None:  # one core to the next epoch's images while they are made
                    kernels.set_kernel_threads(1 if self._epoch_images.making else self._kernel_threads)
                try:
                    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
                        step.train_batches(self.model, images, rows, train_labels[rows], grads, self.optimizer,
                                           position.lr, losses)
                finally:  # also when interrupted (Ctrl+C lands as the compiled call returns): a save then
                    diverged_at = self._keep_up_with_the_model(losses, last_good)  # has all it trained
                chunk_seconds = time.perf_counter() - chunk_started
                chunk = max(1, min(self.max_chunk, int(count * self.chunk_seconds / max(chunk_seconds, 1e-9))))
                if diverged_at is not None:
                    status = "diverged"
                    kept = (f"from before epoch {epoch}" if last_good.next_batch == 0 else
                            f"from epoch {epoch}, batch {last_good.next_batch} (where this run resumed)")
                    message = (f"The loss became {losses[diverged_at]} at epoch {epoch}, batch "
                               f"{batch + diverged_at + 1}: the learning rate {position.lr:g} is too high for "
                               f"{config.optimizer}. Lower it and start again. The weights {kept} were kept.")
                    break
                epoch_seconds = chunk_started + chunk_seconds - epoch_started - paused_seconds
                yield ChunkEnd(epoch, batch + count, losses, elapsed_before + epoch_seconds,
                               (batch + count - first_batch) * batch_size / max(epoch_seconds, 1e-9))
            epoch_seconds = time.perf_counter() - epoch_started - paused_seconds
            elapsed_before += epoch_seconds
            if status != "finished":
                break
            with step.single_threaded_blas:  # BLAS's own threads would wake and then compete
                val_acc = accuracy(self.model, self.splits.val_images, self.splits.val_labels)
            epoch_losses = history.batch_losses[epoch_start_loss_index:]
            history.epoch_losses.append(float(np.mean(epoch_losses)))
            history.val_accs.append(val_acc)
            history.epoch_seconds.append(epoch_seconds)
            history.lrs.append(position.lr)
            yield EpochEnd(epoch, config.epochs, history.epoch_losses[-1], val_acc, position.lr,
                           epoch_seconds, elapsed_before)
            position.epochs_done = epoch
            position.next_batch = 0
            position.lr *= config.lr_decay
            last_good = self._snapshot()
            if config.patience and (best is None or val_acc > best[1]):
                best = (epoch, val_acc, last_good)  # the weights and optimizer state as this epoch left them
            elif config.patience and epoch - best[0] >= config.patience and epoch < config.epochs:
                status = "stopped"
                message = (f"stopped early after epoch {epoch}: no better validation accuracy for "
                           f"{counted(config.patience, 'epoch')}; the weights of epoch {best[0]} "
                           f"({best[1]:.2%}) were kept")

        if status == "stopped" and best is not None and message.startswith("stopped early"):
            # the best validation epoch's weights and optimizer state become the run's model; its
            # history and position stay those of the epochs trained (a resume goes on from there)
            self.model.flat[...] = best[2].parameters
            self.optimizer.load_state(best[2].optimizer_state)

        with step.single_threaded_blas:
            history.test_acc = accuracy(self.model, self.splits.test_images, self.splits.test_labels)
        if status == "finished":
            message = f"finished {counted(config.epochs, 'epoch')}: test accuracy {history.test_acc:.2%}"
        yield RunEnd(status, history.test_acc, message, elapsed_before, position.epochs_done)

    def _compiled_kernels_ready(self) -> bool:
        if self.upgrade is None or self.backend.compiled:
            return False
        if not Backend.choose(None, self.config.layer_sizes).compiled:  # no numba, or no hidden layer
            self.upgrade = None
            return False
        return self.upgrade()

    def _move_to_compiled(self, step: TrainingStep, images):
        """The same run on the compiled backend from here: its step, its images (an augmented run's
        now come as the compiled step reads them: the same distortions) and its optimizer, whose
        state (velocity, moments, step count) goes on as it was."""
        self.upgrade = None
        self.backend = Backend.choose("compiled", self.config.layer_sizes)
        optimizer = self.backend.optimizer(self.config, self.model.flat.size)
        optimizer.load_state(self.optimizer.state())
        self.optimizer = optimizer
        if self._epoch_images is not None:
            self._epoch_images.sparse = True  # from now on; an epoch made dense ahead is converted, not made again
            images = None
        else:
            images = self.backend.training_images(self.splits.train_images)
        return self.backend.step(self.config.layer_sizes, self.config.batch_size), images

    def _keep_up_with_the_model(self, losses: np.ndarray, last_good: _Snapshot) -> int | None:
        """After a chunk (or as much of it as was trained: the batches up to the first UNTRAINED),
        move the history and position on with the model; or, when a loss is not finite, go back
        to `last_good` and return the index of that loss."""
        untrained = np.flatnonzero(losses == UNTRAINED)
        trained = losses[:untrained[0]] if len(untrained) else losses
        finite = np.isfinite(trained)
        if not finite.all():
            self._restore(last_good)
            return int(np.argmin(finite))
        self.history.batch_losses.extend(trained.tolist())
        self.position.next_batch += len(trained)
        return None

    def _snapshot(self) -> _Snapshot:
        return _Snapshot(self.model.flat.copy(), {k: np.array(v, copy=True) for k, v in self.optimizer.state().items()},
                         len(self.history.batch_losses), self.position.next_batch)

    def _restore(self, snapshot: _Snapshot) -> None:
        self.model.flat[...] = snapshot.parameters
        self.optimizer.load_state(snapshot.optimizer_state)
        del self.history.batch_losses[snapshot.batches_done:]
        self.position.next_batch = snapshot.next_batch


@dataclass
class _Snapshot:
    """The run as it was at an epoch's start (or where it resumed), to go back to if it diverges."""

    parameters: np.ndarray
    optimizer_state: dict
    batches_done: int  # len(history.batch_losses)
    next_batch: int
