"""Training off the GUI thread: a worker object, in its own QThread (gui/worker_thread.py), iterates the Trainer.

The worker loads the dataset (when the window has none cached), builds the Trainer and drives its
`run()` generator. With a RunStore it also keeps the run on disk as it trains (core/runs/run_recorder.py),
so a run cut short by closing the app is still listed with what it reached. What crosses to the
GUI is plain data carried by queued signals: the run's reports (core/engine/run_progress.py:
batch losses and epoch ends coalesced, at most REPORTS_PER_SECOND a second, and at once when the
run pauses, is steered or ends), and weight snapshots, copies taken between chunks, where nothing
is mid-update. Pause, resume, stop and a new learning rate go to the run's RunControl, made here
before the Trainer exists (a pause pressed while the dataset loads holds), by plain calls from the
GUI thread: a queued slot on a worker busy in its loop would never run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from core.data.dataset import Dataset, load_dataset
from core.engine.config import TrainConfig
from core.engine.events import BackendChanged, LearningRateChanged, Paused, RunEnd, RunStart
from core.engine.run_control import RunControl
from core.engine.run_progress import RunProgress, Throttle
from core.engine.run_state import Checkpoint
from core.engine.trainer import Trainer
from core.errors import EngineError
from core.runs.run_history import RunStore
from core.runs.run_recorder import SAVE_INTERVAL, RunRecorder

SNAPSHOTS_PER_SECOND = 2


@dataclass(frozen=True)
class WeightsSnapshot:
    parameters: np.ndarray  # a private copy of the model's flat float32 parameters
    layer_sizes: tuple[int, ...]
    class_names: tuple[str, ...]


class TrainingWorker(QObject):
    dataset_loaded = Signal(object)  # Dataset
    began = Signal(object)  # RunStart: the run's first event, with its batches per epoch
    progressed = Signal(object)  # core.engine.run_progress.Progress: batches and epochs, coalesced
    weights_changed = Signal(object)  # WeightsSnapshot
    run_finished = Signal(object, object)  # RunEnd, Checkpoint
    lr_changed = Signal(object)  # LearningRateChanged: the run trains at a new rate from there
    backend_changed = Signal(object)  # BackendChanged: a first run moved to the compiled kernels
    run_failed = Signal(str)  # a message for the user; nothing was trained
    run_saved = Signal(object)  # RunRecord, after each save to the store
    save_failed = Signal(str)  # the run goes on, unsaved
    done = Signal()

    def __init__(self, config: TrainConfig, data_dir: str, dataset: Dataset | None = None,
                 checkpoint: Checkpoint | None = None, store: RunStore | None = None, run_id: str = "",
                 compiled_state: Callable[[], bool | None] | None = None) -> None:
        """`compiled_state`: on a first run, the kernels another process builds
        (core/engine/compile_process.py): True ready, False still being built (the run trains with
        NumPy until they are), None not coming (the compiled path, prepared in-process)."""
        super().__init__()
        self.compiled_state = compiled_state
        self.config = config
        self.data_dir = data_dir
        self.dataset = dataset
        self.checkpoint = checkpoint  # resume this run instead of starting afresh
        self.control = RunControl()  # the GUI thread pauses, resumes, stops and steers the run here
        self.recorder = None if store is None or not run_id else RunRecorder(store, config.optimizer,
                                                                              SAVE_INTERVAL, run_id)
        self.trainer: Trainer | None = None

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
        if self.control.stop_requested:  # stopped while the dataset loaded: nothing to train, nothing to report
            return None
        waiting = self.compiled_state is not None and self.compiled_state() is False
        backend = "numpy" if waiting else None
        if self.checkpoint is not None:
            self.trainer = Trainer.from_checkpoint(self.checkpoint, self.dataset, epochs=self.config.epochs,
                                                   control=self.control, backend=backend)
        else:
            self.trainer = Trainer(self.config, self.dataset, control=self.control, backend=backend)
        if waiting:  # compiled from the epoch after they are built
            self.trainer.upgrade = lambda: self.compiled_state() is True
        return self.trainer

    def _drive(self, trainer: Trainer) -> None:
        progress, snapshots = RunProgress(), Throttle(SNAPSHOTS_PER_SECOND)
        for event in trainer.run():
            report = progress.observe(event)
            if report is not None:
                self.progressed.emit(report)
            if isinstance(event, RunEnd):
                self._emit_snapshot(trainer)
                checkpoint = trainer.checkpoint()
                self._saved(self.recorder and self.recorder.finish(event.status, checkpoint))
                self.run_finished.emit(event, checkpoint)
                continue
            if self.recorder is not None:  # saved at a chunk, not at the epoch's end, where the
                self._saved(self.recorder.observe(trainer, event))  # trainer has not moved its position on
            if isinstance(event, RunStart):
                self.began.emit(event)
            elif isinstance(event, LearningRateChanged):  # its mark lands after the batches before it
                self.lr_changed.emit(event)
            elif isinstance(event, BackendChanged):
                self.backend_changed.emit(event)
            elif isinstance(event, Paused) or (report is not None and snapshots.due()):
                self._emit_snapshot(trainer)  # paused: the window shows all that was trained, weights too
                snapshots.reset()

    def _saved(self, record) -> None:
        if record is not None:
            self.run_saved.emit(record)
        elif self.recorder is not None and self.recorder.failure is not None:
            self.save_failed.emit(f"Could not save the run to {self.recorder.failure}")
            self.recorder = None  # a full disk must not end the run; the user hears of it once

    def _emit_snapshot(self, trainer: Trainer) -> None:
        self.weights_changed.emit(WeightsSnapshot(trainer.model.flat.copy(), trainer.model.layer_sizes,
                                                  trainer.class_names))
