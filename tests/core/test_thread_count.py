"""The compiled step's thread count: any count gives the same numbers, and the adapter's choices.

The adapter is driven by a fake clock here (each simulated call advances it by the seconds a
batch costs on that thread count times its batches): nothing in these tests is timed.
"""

import numpy as np
import pytest

from core.compiled import kernels
from core.data.sparse_images import SparseImages
from core.engine import thread_count
from core.engine.config import TrainConfig
from core.engine.network import MLP, ParameterBuffer, TrainingStep
from core.engine.optim import make_optimizer
from core.engine.thread_count import ThreadCountAdapter
from tests.core.test_network import mnist_like_batch


def train_on_threads(threads: int, optimizer_name: str, calls: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Parameters and losses after training on `threads` kernel threads, `calls[i]` batches per call."""
    config = TrainConfig.for_optimizer(optimizer_name)
    sizes, batch = (784, 48, 32, 10), 16
    pixels, labels = mnist_like_batch(batch=batch * sum(calls), seed=3)
    images = SparseImages.from_images(pixels)
    model = MLP.initialized(sizes, seed=9)
    optimizer = make_optimizer(config, model.flat.size)
    step, grads = TrainingStep(sizes, batch), ParameterBuffer(sizes)
    losses, done = [], 0
    saved = kernels.kernel_threads()
    kernels.set_kernel_threads(threads)
    try:
        for count in calls:
            rows = np.arange(done * batch, (done + count) * batch)
            losses.extend(step.train_batches(model, images, rows, labels[rows], grads, optimizer, config.lr))
            done += count
    finally:
        kernels.set_kernel_threads(saved)
    return model.flat.copy(), np.array(losses)


@pytest.mark.skipif(not kernels.PARALLEL, reason="needs numba with two kernel threads or more")
@pytest.mark.parametrize("optimizer_name", ["sgd", "momentum", "adam"])
def test_one_thread_and_two_give_identical_parameters(optimizer_name):
    """Bit for bit: the batch is split in the same parts whatever the thread count. One batch a
    call keeps the two-thread run on two threads throughout (the adapter probes only longer calls)."""
    one_parameters, one_losses = train_on_threads(1, optimizer_name, [1] * 6)
    two_parameters, two_losses = train_on_threads(2, optimizer_name, [1] * 6)
    np.testing.assert_array_equal(two_parameters, one_parameters)
    np.testing.assert_array_equal(two_losses, one_losses)


@pytest.mark.skipif(not kernels.PARALLEL, reason="needs numba with two kernel threads or more")
def test_a_run_whose_thread_count_changes_gives_the_one_thread_numbers():
    """Longer calls, where the adapter probes the other count on part of a call: still the same."""
    one_parameters, one_losses = train_on_threads(1, "adam", [5, 8, 8, 8])
    mixed_parameters, mixed_losses = train_on_threads(2, "adam", [5, 8, 8, 8])
    np.testing.assert_array_equal(mixed_parameters, one_parameters)
    np.testing.assert_array_equal(mixed_losses, one_losses)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SimulatedStep:
    """Calls of `batches` batches through the adapter; `costs[threads]` = seconds a batch."""

    def __init__(self, most: int = 2) -> None:
        self.clock = FakeClock()
        self.adapter = ThreadCountAdapter(most, clock=self.clock)
        self.costs = {1: 0.0010, most: 0.0006}  # idle: two threads faster
        self.segments: list[tuple[int, int]] = []

    def calls(self, count: int, batches: int = 40) -> None:
        for _ in range(count):
            for threads, part in self.adapter.plan(batches):
                with self.adapter.timing(threads, part):
                    self.clock.now += self.costs[threads] * part
                self.segments.append((threads, part))

    def share_on_one_thread(self, last: int) -> float:
        """The share of the last `last` segments' batches run on one thread."""
        recent = self.segments[-last:]
        return sum(part for threads, part in recent if threads == 1) / sum(part for _, part in recent)


def test_an_idle_machine_stays_on_all_threads_and_probes_ever_less():
    step = SimulatedStep()
    step.calls(200)
    assert step.adapter.threads == 2
    probes = [i for i, (threads, _) in enumerate(step.segments) if threads == 1]
    gaps = np.diff(probes)
    assert gaps[-1] > gaps[2]  # the probe that keeps losing is tried ever more rarely
    assert gaps[-1] >= thread_count.MAX_PROBE_GAP
    assert step.share_on_one_thread(100) < 0.02


def test_a_stalling_team_drops_to_one_thread_at_once_and_returns_when_the_cores_are_back():
    step = SimulatedStep()
    step.calls(200)  # idle: probes are now rare
    step.costs[2] = 0.0060  # other processes took the cores: the team stalls, 10x slower a batch
    step.costs[1] = 0.0015
    step.calls(3)
    assert step.adapter.threads == 1  # within a few calls, not after the long probe gap
    step.calls(100)
    assert step.adapter.threads == 1
    assert step.share_on_one_thread(100) > 0.9  # the probes of two threads stay few
    step.costs[2], step.costs[1] = 0.0006, 0.0010  # the machine is quiet again
    step.calls(thread_count.MAX_PROBE_GAP + 2)
    assert step.adapter.threads == 2


def test_noise_does_not_flip_the_count():
    """Two counts within MARGIN of each other: the one in use stays."""
    step = SimulatedStep()
    step.costs[1] = step.costs[2] * 1.05
    step.calls(60)
    assert step.adapter.threads == 2


def test_the_first_call_on_each_count_is_not_counted():
    """A first call may load or compile the kernels: its time says nothing about the count."""
    step = SimulatedStep()
    step.costs[2] = 5.0  # as if compiling
    step.calls(1)
    step.costs[2] = 0.0006
    step.calls(20)
    assert step.adapter.threads == 2
    assert step.adapter.seconds_per_batch[2] == pytest.approx(0.0006)


def test_one_thread_at_most_never_probes():
    step = SimulatedStep(most=1)
    step.calls(50)
    assert {threads for threads, _ in step.segments} == {1}
    assert all(part == 40 for _, part in step.segments)
