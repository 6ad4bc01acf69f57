"""How many kernel threads the compiled training step uses, chosen from the step's own progress.

On a machine where other processes want the cores, the step's two kernel threads meet twice a
batch: a thread whose core went to another process holds its partner at every meeting, and a
batch then costs many times what it costs on one thread (bench/bench_busy.py). The cores the step
actually gets cannot be read anywhere; its progress can. So `ThreadCountAdapter` times every
call of the step (seconds a batch, for the thread count it ran on), keeps a recent figure for
the count in use, and now and then runs a few batches of a call on the other count (a probe:
one thread when it runs on all, all when it runs on one); when the probe's seconds a batch beat
the recent figure, the run moves to that count. A call much slower than the recent figure (the
team stalled) makes the next call probe; otherwise a probe that loses waits twice as long before
the next one (at most MAX_PROBE_GAP calls), so a machine that stays busy pays for few of them,
and a run that dropped to one thread while the machine was busy goes back to all of them when
it no longer is.

The choice never changes a result: the step's work is split in a fixed number of parts whatever
the threads (core/compiled/step_kernels.py, PARTS), so one thread or two compute the same sums in
the same order. The adapter holds no timer of its own: it reads `clock` around each call, which
the tests replace with a fake one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

FIRST_PROBE_GAP = 4  # calls between two probes of a count not in use, at first
MAX_PROBE_GAP = 64  # and at most (one probe every ~3 s of 0.05 s calls)
PROBE_SHARE = 4  # a probe takes 1 / PROBE_SHARE of its call's batches (at least one)
MARGIN = 0.9  # another count must be this much faster (its seconds a batch) to be chosen
WEIGHT = 0.5  # of a new measurement in the recent figure of the count in use
STALL = 1.5  # a call this much slower a batch than the recent figure makes the next call probe


class ThreadCountAdapter:
    """Chooses the thread count of each call of the step among 1..`most`.

    Use: `for threads, batches in adapter.plan(count)`, run that many batches on that many threads
    inside `with adapter.timing(threads, batches):`. The first call of each count is not counted
    (it may have loaded or compiled the kernels).
    """

    def __init__(self, most: int, clock: Callable[[], float] = time.perf_counter) -> None:
        self.most = max(1, most)
        self.clock = clock
        self.threads = self.most  # the count in use
        self.seconds_per_batch: dict[int, float] = {}  # each count's recent figure
        self._seen: set[int] = set()
        self._calls_since_probe = 0
        self._probe_gap = FIRST_PROBE_GAP

    def _other(self) -> int:
        return 1 if self.threads != 1 else self.most

    def plan(self, batches: int) -> list[tuple[int, int]]:
        """The call's (threads, batches) segments: the count in use, after a probe of the other
        count when one is due (and the call has more than one batch)."""
        if self.most == 1 or batches < 2:
            return [(self.threads, batches)]
        self._calls_since_probe += 1
        if self._calls_since_probe < self._probe_gap and self._other() in self.seconds_per_batch:
            return [(self.threads, batches)]
        self._calls_since_probe = 0
        probe = max(1, batches // PROBE_SHARE)
        return [(self._other(), probe), (self.threads, batches - probe)]

    @contextmanager
    def timing(self, threads: int, batches: int) -> Iterator[None]:
        started = self.clock()
        yield
        self.record(threads, batches, self.clock() - started)

    def record(self, threads: int, batches: int, seconds: float) -> None:
        """Counts `batches` batches run in `seconds` on `threads` threads, and chooses the count in use."""
        if batches < 1 or threads not in (1, self.most):
            return
        if threads not in self._seen:
            self._seen.add(threads)
            return
        measured = seconds / batches
        recent = self.seconds_per_batch.get(threads)
        if threads == self.threads:
            if recent is not None and measured > STALL * recent:
                self._calls_since_probe = self._probe_gap  # slowed down: try the other count next call
            self.seconds_per_batch[threads] = measured if recent is None else (1 - WEIGHT) * recent + WEIGHT * measured
            return
        self.seconds_per_batch[threads] = measured  # a probe: the other count's older figure is stale
        if self.threads not in self.seconds_per_batch:
            return  # nothing to compare with yet
        if measured < MARGIN * self.seconds_per_batch[self.threads]:
            self._switch()
        else:
            self._probe_gap = min(MAX_PROBE_GAP, 2 * self._probe_gap)

    def _switch(self) -> None:
        self.threads = self._other()
        self._calls_since_probe = 0
        self._probe_gap = FIRST_PROBE_GAP
