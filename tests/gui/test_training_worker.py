"""The worker's reports: every batch and epoch of a run reaches the GUI, coalesced into few signals."""

import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.compiled import kernels
from core.data.dataset import load_dataset
from core.engine.config import TrainConfig
from core.engine.run_progress import Progress
from gui.training_worker import TrainingWorker


def reporting_worker(folder, epochs: int) -> tuple[TrainingWorker, list[Progress], list]:
    """A worker for a small Adam run, and the lists its reports and weight snapshots go to, as
    they are emitted (in whichever thread runs it)."""
    config = TrainConfig.for_optimizer("adam", hidden=(16,), batch_size=32, epochs=epochs)
    worker = TrainingWorker(config, str(folder), load_dataset(folder))
    reports, snapshots = [], []
    worker.progressed.connect(reports.append, Qt.ConnectionType.DirectConnection)
    worker.weights_changed.connect(snapshots.append, Qt.ConnectionType.DirectConnection)
    return worker, reports, snapshots


def test_every_batch_and_epoch_arrives_once_and_in_order(tiny_dataset_dir):
    worker, reports, _ = reporting_worker(tiny_dataset_dir, epochs=3)
    finished = []
    worker.run_finished.connect(lambda end, checkpoint: finished.append(checkpoint))
    worker.run()  # in this thread, as the QThread would

    (checkpoint,) = finished
    losses = [float(loss) for report in reports if report.batches for loss in report.batches.new_losses]
    assert losses == checkpoint.history.batch_losses
    steps = [report.batches.first_step for report in reports if report.batches]
    assert steps == sorted(steps) and steps[0] == 0
    epochs = [event.epoch for report in reports for event in report.epochs]
    assert epochs == [1, 2, 3]
    assert all(report.batches is not None or report.epochs for report in reports)  # no empty signal


def test_a_paused_run_has_sent_every_batch_it_trained(tiny_dataset_dir):
    """Updates go out five times a second; a pause sends what is left at once, weights included."""
    worker, reports, snapshots = reporting_worker(tiny_dataset_dir, epochs=500)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        while not reports:
            thread.join(0.01)
        worker.control.pause()
        trainer = worker.trainer
        assert trainer.control.wait_until_halted(10)
        thread.join(0.1)
        sent = [float(loss) for report in reports if report.batches for loss in report.batches.new_losses]
        assert sent == trainer.history.batch_losses
        assert np.array_equal(snapshots[-1].parameters, trainer.model.flat)
    finally:
        worker.control.stop()
        thread.join(10)


def test_a_stop_pressed_before_the_run_was_built_trains_nothing(tiny_dataset_dir):
    """The worker's RunControl exists before the Trainer (the dataset may still be loading): a stop
    pressed then holds, and the run ends without a report or a failure."""
    worker, reports, snapshots = reporting_worker(tiny_dataset_dir, epochs=3)
    ended, failed, done = [], [], []
    worker.run_finished.connect(lambda end, checkpoint: ended.append(end))
    worker.run_failed.connect(failed.append)
    worker.done.connect(lambda: done.append(True))
    worker.control.stop()
    worker.run()
    assert worker.trainer is None and not reports and not snapshots and not ended and not failed
    assert done == [True]


def test_a_pause_pressed_before_the_run_was_built_holds_at_its_first_batch(tiny_dataset_dir):
    worker, reports, _ = reporting_worker(tiny_dataset_dir, epochs=3)
    worker.control.pause()
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        assert worker.control.wait_until_halted(30)
        assert worker.trainer is not None and worker.trainer.history.batch_losses == [] and not reports
    finally:
        worker.control.stop()
        thread.join(10)
    assert not thread.is_alive()


@pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed: there are no compiled kernels to wait for")
def test_a_first_run_trains_with_numpy_until_the_kernels_built_elsewhere_are_ready(tiny_dataset_dir):
    """The window's first run after install (gui/kernel_status.py: built by another process)."""
    answers = iter([False, False, True])  # the worker asks once, then the Trainer before epochs 1 and 2
    config = TrainConfig.for_optimizer("adam", hidden=(16,), batch_size=32, epochs=3)
    worker = TrainingWorker(config, str(tiny_dataset_dir), load_dataset(tiny_dataset_dir),
                            compiled_state=lambda: next(answers))
    finished, moves = [], []
    worker.run_finished.connect(lambda end, checkpoint: finished.append(end))
    worker.backend_changed.connect(moves.append, Qt.ConnectionType.DirectConnection)
    worker.run()
    assert [end.status for end in finished] == ["finished"]
    assert worker.trainer.backend.compiled and worker.trainer.upgrade is None
    assert [(event.epoch, event.backend) for event in moves] == [(2, "compiled")]  # the window says so

    for state in (True, None):  # built by then; or not coming (prepared in-process): compiled from the start
        worker = TrainingWorker(config, str(tiny_dataset_dir), load_dataset(tiny_dataset_dir),
                                compiled_state=lambda state=state: state)
        worker.run()
        assert worker.trainer.backend.compiled and worker.trainer.upgrade is None
