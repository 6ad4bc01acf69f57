"""A run's reports for a display: every batch and epoch once and in order, few reports a second,
at once when the run pauses or ends, and an ETA from this run's own speed. No Qt."""

import numpy as np
import pytest

from core.data.dataset import load_dataset
from core.engine.config import TrainConfig
from core.engine.events import BackendChanged, ChunkEnd, EpochEnd, LearningRateChanged, Paused, RunEnd, RunStart
from core.engine.run_progress import REPORTS_PER_SECOND, RunProgress, Throttle
from core.engine.trainer import Trainer


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def chunk(epoch: int, batch: int, losses, elapsed: float) -> ChunkEnd:
    return ChunkEnd(epoch, batch, np.asarray(losses, dtype=float), elapsed, 1000.0)


def epoch_end(epoch: int) -> EpochEnd:
    return EpochEnd(epoch, 2, 0.5, 0.9, 0.001, 1.0, float(epoch))


def test_chunks_are_coalesced_into_at_most_five_reports_a_second():
    clock = FakeClock()
    progress = RunProgress(clock=clock)
    assert progress.observe(RunStart(2, 100, 0)) is None
    reports = []
    for k in range(40):  # 2 s of chunks of 5 batches, one every 0.05 s
        clock.now = 0.05 * k
        report = progress.observe(chunk(1 + k // 20, 5 * (k % 20) + 5, [k] * 5, clock.now))
        if report is not None:
            reports.append(report)
    assert 1.5 * REPORTS_PER_SECOND <= len(reports) <= 2 * REPORTS_PER_SECOND  # in 1.95 s
    sent = np.concatenate([report.batches.new_losses for report in reports])
    final = progress.take()
    if final is not None:
        sent = np.concatenate([sent, final.batches.new_losses])
    assert sent.tolist() == [float(k) for k in range(40) for _ in range(5)]  # each once, in order
    steps = [report.batches.first_step for report in reports]
    assert steps[0] == 0 and all(b - a > 0 for a, b in zip(steps, steps[1:]))


def test_a_pause_a_new_rate_and_the_end_send_what_is_pending_at_once():
    clock = FakeClock()
    progress = RunProgress(clock=clock)
    progress.observe(RunStart(1, 10, 0))
    assert progress.observe(chunk(1, 1, [2.0], 0.1)) is not None  # the first report goes out at once
    assert progress.observe(chunk(1, 4, [1.9, 1.8, 1.7], 0.2)) is None  # too soon
    for event in (Paused(1, 4), LearningRateChanged(1, 4, 0.01)):
        report = progress.observe(event)
        assert report is None or report.batches.new_losses.tolist() == [1.9, 1.8, 1.7]
    assert progress.observe(chunk(1, 10, [1.0] * 6, 0.3)) is None
    assert progress.observe(epoch_end(1)) is None  # still too soon: it waits with the batches
    report = progress.observe(RunEnd("finished", 0.9, "", 0.3, 1))
    assert report.batches.new_losses.tolist() == [1.0] * 6 and report.batches.first_step == 4
    assert [event.epoch for event in report.epochs] == [1]
    assert progress.observe(RunEnd("finished", 0.9, "", 0.3, 1)) is None  # nothing pending: no empty report


def test_the_time_left_comes_from_the_batches_this_run_trained():
    progress = RunProgress(clock=FakeClock())
    progress.observe(RunStart(epochs=3, batches_per_epoch=10, batches_done=10))  # resumed after epoch 1
    report = progress.observe(chunk(2, 5, [1.0] * 5, elapsed=2.0))  # 5 batches in 2 s: 2.5 a second
    assert report.batches.first_step == 10
    assert report.batches.seconds_left == pytest.approx((30 - 15) / 2.5)
    assert (report.batches.epoch, report.batches.epochs, report.batches.batch) == (2, 3, 5)
    assert report.batches.batches_per_epoch == 10


def test_the_time_left_is_unknown_before_any_training_time():
    progress = RunProgress(clock=FakeClock())
    progress.observe(RunStart(1, 10, 0))
    assert np.isnan(progress.observe(chunk(1, 1, [1.0], elapsed=0.0)).batches.seconds_left)


def test_a_throttle_says_yes_at_most_its_rate():
    clock = FakeClock()
    throttle = Throttle(2, clock)
    assert throttle.due()
    throttle.reset()
    clock.now = 0.4
    assert not throttle.due()
    clock.now = 0.5
    assert throttle.due()


def test_a_real_runs_reports_carry_its_whole_history(tiny_dataset_dir):
    trainer = Trainer(TrainConfig.for_optimizer("sgd", hidden=(16,), batch_size=32, epochs=2),
                      load_dataset(tiny_dataset_dir))
    trainer.max_chunk = 3
    progress = RunProgress(per_second=1e9)  # every chunk reported
    reports = [report for event in trainer.run() if (report := progress.observe(event)) is not None]
    losses = np.concatenate([report.batches.new_losses for report in reports if report.batches])
    assert losses.tolist() == trainer.history.batch_losses
    assert [event.loss for report in reports for event in report.epochs] == trainer.history.epoch_losses


def test_after_a_move_to_the_compiled_kernels_the_time_left_comes_from_the_batches_since():
    clock = FakeClock()
    progress = RunProgress(clock=clock)
    progress.observe(RunStart(epochs=3, batches_per_epoch=10, batches_done=0))
    progress.observe(chunk(1, 10, [1.0] * 10, elapsed=10.0))  # NumPy: 1 batch a second
    progress.observe(BackendChanged(2, "compiled"))
    clock.now += 1.0  # past the throttle's interval
    report = progress.observe(chunk(2, 10, [1.0] * 10, elapsed=12.0))  # compiled: 5 a second
    assert report.batches.seconds_left == pytest.approx((30 - 20) / 5)  # not (30 - 20) / (20 / 12)
