"""Training off the GUI thread: a worker object moved to a QThread iterates the engine's Trainer.

The worker loads the dataset (when the window has none cached), builds the Trainer and drives its
`run()` generator. With a RunStore it also keeps the run on disk (core/runs/run_history.py): after every
epoch (at most every SAVE_INTERVAL seconds) and at the end, so a run cut short by closing the app
is still listed with what it reached. What crosses to the GUI is plain data carried by queued
signals: batch losses and epoch ends are coalesced into one `Progress` emitted at most
`MAX_UPDATES_PER_SECOND` times a second whatever the batch rate (and at once when the run
pauses), and weight snapshots are copies taken between chunks, where nothing is mid-update.
Pause, resume and stop are plain calls from the GUI thread (threading.Event before the Trainer
exists, then the Trainer's own), because a queued slot on a worker busy in its loop would never run.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from core.data.dataset import Dataset, load_dataset
from core.engine.config import TrainConfig
from core.engine.events import BatchEnd, EpochEnd, LearningRateChanged, Paused, RunEnd
from core.engine.run_state import Checkpoint
from core.engine.trainer import Trainer
from core.errors import EngineError, RunHistoryError
from core.runs.run_history import RunStore, local_time

MAX_UPDATES_PER_SECOND = 5
SNAPSHOTS_PER_SECOND = 2
SAVE_INTERVAL = 10.0  # seconds: the first epoch's end is saved at once, later ones at most this often


@dataclass(frozen=True)
class BatchProgress:
    """The batches finished since the last update, coalesced."""

    epoch: int
    epochs: int
    batch: int
    batches_per_epoch: int
    new_losses: tuple[float, ...]
    first_step: int  # global index (0-based) of new_losses[0] in the run's batch losses
    samples_per_second: float
    elapsed: float
    seconds_left: float


@dataclass(frozen=True)
class Progress:
    """What a run did since the last update, in one signal: its new batches (None when there
    are none) and the epochs it finished. (As two signals, the GUI thread took the GIL between
    them and drew the charts twice, the second time about 20 ms later.)"""

    batches: BatchProgress | None
    epochs: tuple[EpochEnd, ...]


@dataclass(frozen=True)
class WeightsSnapshot:
    parameters: np.ndarray  # a private copy of the model's flat float32 parameters
    layer_sizes: tuple[int, ...]
    class_names: tuple[str, ...]


class _PendingReport:
    """Batch losses and epoch ends not yet sent to the GUI, and what the ETA is computed from."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self.batch_losses: list[float] = []
        self.epochs: list[EpochEnd] = []
        self.latest: BatchEnd | None = None
        self.first_step = len(trainer.history.batch_losses)
        self.steps_before_run = self.first_step
        self.total_steps = trainer.config.epochs * trainer.batches_per_epoch

    def take_progress(self) -> BatchProgress | None:
        if not self.batch_losses or self.latest is None:
            return None
        event, done = self.latest, self.first_step + len(self.batch_losses)
        rate = (done - self.steps_before_run) / event.elapsed if event.elapsed > 0 else 0.0
        seconds_left = (self.total_steps - done) / rate if rate > 0 else float("nan")
        progress = BatchProgress(event.epoch, self.trainer.config.epochs, event.batch, event.batches_per_epoch,
                                 tuple(self.batch_losses), self.first_step, event.samples_per_second,
                                 event.elapsed, seconds_left)
        self.first_step = done
        self.batch_losses = []
        return progress


class TrainingWorker(QObject):
    dataset_loaded = Signal(object)  # Dataset
    progressed = Signal(object)  # Progress: batches and epochs, coalesced
    weights_changed = Signal(object)  # WeightsSnapshot
    run_finished = Signal(object, object)  # RunEnd, Checkpoint
    lr_changed = Signal(object)  # LearningRateChanged: the run trains at a new rate from there
    run_failed = Signal(str)  # a message for the user; nothing was trained
    run_saved = Signal(object)  # RunRecord, after each save to the store
    save_failed = Signal(str)  # the run goes on, unsaved
    done = Signal()

    def __init__(self, config: TrainConfig, data_dir: str, dataset: Dataset | None = None,
                 checkpoint: Checkpoint | None = None, store: RunStore | None = None, run_id: str = "") -> None:
        super().__init__()
        self.config = config
        self.data_dir = data_dir
        self.dataset = dataset
        self.checkpoint = checkpoint  # resume this run instead of starting afresh
        self.store = store
        self.run_id = run_id
        self.started = local_time()
        self.save_interval = SAVE_INTERVAL
        self._trainer: Trainer | None = None
        self._lock = threading.Lock()
        self._stop_requested = threading.Event()
        self._pause_requested = threading.Event()

    # -- control, called from the GUI thread ------------------------------------------------
    def pause(self) -> None:
        with self._lock:
            self._pause_requested.set()
            if self._trainer is not None:
                self._trainer.pause()

    def resume(self) -> None:
        with self._lock:
            self._pause_requested.clear()
            if self._trainer is not None:
                self._trainer.resume()

    def set_lr(self, lr: float) -> None:
        """A new learning rate for the run, from its next chunk of batches."""
        with self._lock:
            if self._trainer is not None:
                self._trainer.set_lr(lr)

    def stop(self) -> None:
        with self._lock:
            self._stop_requested.set()
            if self._trainer is not None:
                self._trainer.stop()

    # -- the work, in the worker thread ---------------------------------------------------------
    @Slot()
    def run(self) -> None:
        try:
            trainer = self._prepare()
            if trainer is not None:
                self._drive(trainer)
        except EngineError as error:
            self.run_failed.emit(str(error))
        except MemoryError:
            self.run_failed.emit("Not enough memory for this network: use smaller hidden layers or batches.")
        finally:
            self.done.emit()

    def _prepare(self) -> Trainer | None:
        if self.dataset is None:
            self.dataset = load_dataset(self.data_dir)
            self.dataset_loaded.emit(self.dataset)
        try:
            if self.checkpoint is not None:
                trainer = Trainer.from_checkpoint(self.checkpoint, self.dataset, epochs=self.config.epochs)
            else:
                trainer = Trainer(self.config, self.dataset)
        except ValueError as error:
            raise EngineError(str(error)) from None
        with self._lock:
            if self._stop_requested.is_set():
                return None
            if self._pause_requested.is_set():
                trainer.pause()
            self._trainer = trainer
        return trainer

    def _drive(self, trainer: Trainer) -> None:
        report = _PendingReport(trainer)
        last_update = last_snapshot = 0.0
        last_save = -math.inf
        save_due = False
        for event in trainer.run():
            now = time.monotonic()
            if isinstance(event, BatchEnd):
                if save_due and now - last_save >= self.save_interval:
                    # saved at a batch, not at the epoch's end, where the trainer has not moved its position on
                    self._save(trainer, "running")
                    last_save, save_due = now, False
                report.batch_losses.append(event.loss)
                report.latest = event
                if now - last_update >= 1.0 / MAX_UPDATES_PER_SECOND:
                    self._flush(report)
                    last_update = now
                if now - last_snapshot >= 1.0 / SNAPSHOTS_PER_SECOND:
                    self._emit_snapshot(trainer)
                    last_snapshot = now
            elif isinstance(event, EpochEnd):
                report.epochs.append(event)
                save_due = True
                if now - last_update >= 1.0 / MAX_UPDATES_PER_SECOND:
                    self._flush(report)
                    last_update = now
            elif isinstance(event, LearningRateChanged):  # its mark lands after the batches before it
                self._flush(report)
                last_update = now
                self.lr_changed.emit(event)
            elif isinstance(event, Paused):  # the window shows all that was trained, weights too
                self._flush(report)
                self._emit_snapshot(trainer)
                last_update = last_snapshot = now
            elif isinstance(event, RunEnd):
                self._flush(report)
                self._emit_snapshot(trainer)
                checkpoint = trainer.checkpoint()
                self._save(trainer, event.status, checkpoint)
                self.run_finished.emit(event, checkpoint)

    def _flush(self, report: _PendingReport) -> None:
        """Send what piled up since the last update: batch losses and finished epochs."""
        batches, epochs = report.take_progress(), tuple(report.epochs)
        report.epochs = []
        if batches is not None or epochs:
            self.progressed.emit(Progress(batches, epochs))

    def _save(self, trainer: Trainer, status: str, checkpoint: Checkpoint | None = None) -> None:
        if self.store is None or not self.run_id:
            return
        try:
            record = self.store.save(self.run_id, self.started, status, checkpoint or trainer.checkpoint())
        except (OSError, RunHistoryError) as error:  # a full disk must not end the run; the user hears of it
            reason = getattr(error, "strerror", None) or error
            self.save_failed.emit(f"Could not save the run to {self.store.folder}: {reason}")
            self.store = None
            return
        self.run_saved.emit(record)

    def _emit_snapshot(self, trainer: Trainer) -> None:
        self.weights_changed.emit(WeightsSnapshot(trainer.model.flat.copy(), trainer.model.layer_sizes,
                                                  trainer.class_names))


class TrainingThread(QObject):
    """One run's QThread and worker, started, controlled and shut down from the GUI thread."""

    def __init__(self, worker: TrainingWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("training")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        # quit() from the worker thread itself: queued to the GUI thread, it would wait behind the
        # very slots that want the thread gone
        worker.done.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)

    def start(self) -> None:
        self.thread.start()

    def is_running(self) -> bool:
        return self.thread.isRunning()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop the run and wait for its thread; True when the thread has ended."""
        self.worker.stop()
        self.thread.quit()
        return self.thread.wait(timeout_ms)
