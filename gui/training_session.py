"""The training runs of a window's session, one at a time, each in its own QThread: it only sequences them.

The session starts a run (a single one, or the optimizer race: a queue of runs started one after
another), hands the user's pause, stop and learning rate to the running run's RunControl, shuts
the thread down on close, and reports a dataset a run loaded. The dataset is not the session's:
`dataset_source` asks its owner (gui/dataset_folder.py) for the one already loaded, so only the
first run waits for it. Views never touch the worker: they listen to the session's signals, which carry the
run's id (gui/run_controller.py turns them into what the window shows).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from core.data.dataset import Dataset
from core.engine.config import TrainConfig
from core.engine.events import RunEnd
from core.engine.race import RaceResult, race_configs
from core.engine.run_progress import Progress
from core.engine.run_state import Checkpoint
from core.runs.run_history import RunStore, new_run_id
from gui.training_worker import TrainingWorker
from gui.worker_thread import WorkerThread

SHUTDOWN_PATIENCE_MS = 60_000  # after the first 5 s: loading MNIST took up to 45 s on a loaded machine


class TrainingSession(QObject):
    run_started = Signal(str, object)  # run id, TrainConfig: the run is launched (its dataset may still load)
    run_began = Signal(str, object)  # run id, RunStart: it trains from now on
    dataset_loaded = Signal(object)  # Dataset
    progressed = Signal(str, object)  # run id, Progress
    weights_changed = Signal(object)  # WeightsSnapshot
    run_finished = Signal(str, object, object)  # run id, RunEnd, Checkpoint
    lr_changed = Signal(str, object)  # run id, LearningRateChanged
    backend_changed = Signal(str, object)  # run id, BackendChanged
    run_saved = Signal(object)  # RunRecord
    run_failed = Signal(str)  # the run could not start
    warning = Signal(str)
    race_progressed = Signal(object)  # list[RaceResult] so far
    idle = Signal()  # no run is going on any more (a race ends after its last run)

    def __init__(self, store: RunStore | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.dataset_source: Callable[[], Dataset | None] = lambda: None  # the loaded dataset, if any
        self.compiled_state: Callable[[], bool | None] | None = None  # a first run's kernels, built elsewhere
        self.thread: WorkerThread | None = None
        self.run_id = ""
        self.race_results: list[RaceResult] = []
        self._race_queue: list[TrainConfig] = []
        self._racing = False
        self._folder = Path(".")

    # -- starting ---------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.thread is not None

    def is_racing(self) -> bool:
        return self._racing

    def start(self, config: TrainConfig, folder: str | Path) -> None:
        if self.is_running():
            raise RuntimeError("a run is going on")
        self._racing, self._race_queue = False, []
        self._launch(config, Path(folder))

    def start_race(self, base: TrainConfig, folder: str | Path) -> None:
        """SGD, then Momentum, then Adam, each with its seed defaults and `base`'s shared settings."""
        if self.is_running():
            raise RuntimeError("a run is going on")
        configs = race_configs(base)
        self._racing, self._race_queue = True, configs[1:]
        self.race_results = []
        self.race_progressed.emit([])
        self._launch(configs[0], Path(folder))

    def _launch(self, config: TrainConfig, folder: Path) -> None:
        self._folder = folder
        loaded = self.dataset_source()
        dataset = loaded if loaded is not None and loaded.folder == folder else None
        self.run_id = new_run_id(config.optimizer)
        worker = TrainingWorker(config, str(folder), dataset, store=self.store, run_id=self.run_id,
                                compiled_state=self.compiled_state)
        worker.dataset_loaded.connect(self._on_dataset_loaded)
        worker.began.connect(self._on_began)
        worker.progressed.connect(self._on_progressed)
        worker.lr_changed.connect(self._on_lr_changed)
        worker.backend_changed.connect(self._on_backend_changed)
        worker.weights_changed.connect(self._on_weights_changed)
        worker.run_finished.connect(self._on_run_finished)
        worker.run_failed.connect(self._on_run_failed)
        worker.run_saved.connect(self._on_run_saved)
        worker.save_failed.connect(self._on_save_failed)
        self.thread = WorkerThread(worker, "training", self)
        self.thread.thread.finished.connect(self._on_thread_finished)
        self.run_started.emit(self.run_id, config)
        self.thread.start()

    # -- control ----------------------------------------------------------------------------------
    def pause(self) -> None:
        if self.thread is not None:
            self.thread.worker.control.pause()

    def resume(self) -> None:
        if self.thread is not None:
            self.thread.worker.control.resume()

    def stop(self) -> None:
        """Stop the run (and the rest of a race); its model so far is kept."""
        self._race_queue = []
        if self.thread is not None:
            self.thread.worker.control.stop()

    def set_lr(self, lr: float) -> None:
        """Change the running run's learning rate (from its next chunk of batches)."""
        if self.thread is not None:
            self.thread.worker.control.set_lr(lr)

    def shutdown(self) -> None:
        """Stop and wait for the thread: nothing may outlive the window."""
        self.stop()
        if self.thread is not None and not self.thread.shutdown():
            # still inside a step that cannot be interrupted (loading the dataset, under load): a
            # QThread destroyed while it runs aborts the whole app, so wait for it a while longer
            self.thread.shutdown(SHUTDOWN_PATIENCE_MS)

    # -- the worker's reports, re-emitted with the run's id ----------------------------------------
    @Slot(object)
    def _on_dataset_loaded(self, dataset: Dataset) -> None:
        self.dataset_loaded.emit(dataset)

    @Slot(object)
    def _on_began(self, start) -> None:
        self.run_began.emit(self.run_id, start)

    @Slot(object)
    def _on_progressed(self, progress: Progress) -> None:
        self.progressed.emit(self.run_id, progress)

    @Slot(object)
    def _on_backend_changed(self, event) -> None:
        self.backend_changed.emit(self.run_id, event)

    @Slot(object)
    def _on_lr_changed(self, event) -> None:
        self.lr_changed.emit(self.run_id, event)

    @Slot(object)
    def _on_weights_changed(self, snapshot) -> None:
        self.weights_changed.emit(snapshot)

    @Slot(object)
    def _on_run_saved(self, record) -> None:
        self.run_saved.emit(record)

    @Slot(str)
    def _on_save_failed(self, message: str) -> None:
        self.warning.emit(message)

    @Slot(object, object)
    def _on_run_finished(self, end: RunEnd, checkpoint: Checkpoint) -> None:
        if self._racing:
            self.race_results.append(RaceResult.of(end.status, checkpoint))
            self.race_progressed.emit(list(self.race_results))
            if end.status == "stopped":
                self._race_queue = []
        self.run_finished.emit(self.run_id, end, checkpoint)

    @Slot(str)
    def _on_run_failed(self, message: str) -> None:
        self._race_queue = []
        self.run_failed.emit(message)

    @Slot()
    def _on_thread_finished(self) -> None:
        """The run's thread has ended (its last signals were queued before this one)."""
        if self.thread is not None:
            self.thread.thread.wait()  # returns at once: finished is emitted as the thread ends
            self.thread.deleteLater()
            self.thread = None
        if self._race_queue:
            self._launch(self._race_queue.pop(0), self._folder)
            return
        self._racing = False
        self.idle.emit()
