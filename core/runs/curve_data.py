"""One run's curves as a chart shows them: the batch losses, their smoothed curve, the epoch
losses and validation accuracies, and the test accuracy once the run has ended.

Built from a run's reports as it trains (core/engine/run_progress.py) or at once from a saved
History; the window's charts (gui/run_curves.py) only draw it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.engine.run_state import History

SMOOTHING = 0.98  # exponential moving average of the batch loss, bias-corrected as TensorBoard does
SMOOTHING_BLOCK = 512  # SMOOTHING ** -512 is about 3e4: the sums keep float64's precision


def smoothed(losses: np.ndarray, start_average: float = 0.0, start_weight: float = 0.0) -> tuple:
    """Bias-corrected EMA of `losses`, continuing from (average, weight); returns (curve, average, weight).

    Each finite loss x updates average <- s average + (1 - s) x and weight <- s weight + (1 - s)
    (s = SMOOTHING); the curve is average / weight (the loss itself before any update). Computed
    with cumulative sums, blocks of SMOOTHING_BLOCK at a time: after k updates average =
    s^k (average_0 + (1 - s) sum over j <= k of s^-j x_j). (A Python loop over the losses was a
    third of the GUI thread's time for each update of the charts.)
    """
    losses = np.asarray(losses, dtype=float)
    out = np.empty(len(losses))
    average, weight = start_average, start_weight
    for start in range(0, len(losses), SMOOTHING_BLOCK):
        block = losses[start:start + SMOOTHING_BLOCK]
        finite = np.isfinite(block)
        updates = np.cumsum(finite)  # how many finite losses so far in the block, each one included
        growth = np.where(finite, SMOOTHING ** -updates.astype(float), 0.0)
        decay = SMOOTHING ** updates.astype(float)
        averages = decay * (average + (1 - SMOOTHING) * np.cumsum(growth * np.where(finite, block, 0.0)))
        weights = decay * (weight + (1 - SMOOTHING) * np.cumsum(growth))
        with np.errstate(divide="ignore", invalid="ignore"):
            out[start:start + len(block)] = np.where(weights > 0, averages / weights, block)
        average, weight = float(averages[-1]), float(weights[-1])
    return out, average, weight


class GrowingArray:
    """A float array appended to in place, its storage doubled when full: a run's 23,000 batch
    losses turned from a list into an array at each of 5 updates a second took the GUI thread
    longer than drawing them."""

    def __init__(self) -> None:
        self._storage = np.empty(1024)
        self._count = 0

    def extend(self, values: np.ndarray) -> None:
        needed = self._count + len(values)
        if needed > len(self._storage):
            grown = np.empty(max(needed, 2 * len(self._storage)))
            grown[:self._count] = self._storage[:self._count]
            self._storage = grown
        self._storage[self._count:needed] = values
        self._count = needed

    @property
    def values(self) -> np.ndarray:
        """The values so far (a view: later extends do not change it)."""
        return self._storage[:self._count]


@dataclass
class RunCurveData:
    batches_per_epoch: int
    epoch_losses: list[float] = field(default_factory=list)
    val_accs: list[float] = field(default_factory=list)  # fractions in [0, 1]
    test_acc: float | None = None  # set when the run has ended
    _raw: GrowingArray = field(default_factory=GrowingArray)
    _smooth: GrowingArray = field(default_factory=GrowingArray)
    _average: float = 0.0
    _weight: float = 0.0

    @classmethod
    def from_history(cls, history: History, batches_per_epoch: int) -> RunCurveData:
        data = cls(batches_per_epoch, list(history.epoch_losses), list(history.val_accs), history.test_acc)
        data.add_batches(history.batch_losses)
        return data

    @property
    def batch_losses(self) -> np.ndarray:
        return self._raw.values

    @property
    def smooth(self) -> np.ndarray:
        """The batch losses smoothed (SMOOTHING), one value for each."""
        return self._smooth.values

    def add_batches(self, losses) -> None:
        losses = np.asarray(losses, dtype=float)
        curve, self._average, self._weight = smoothed(losses, self._average, self._weight)
        self._raw.extend(losses)
        self._smooth.extend(curve)

    def add_epochs(self, losses, val_accs) -> None:
        self.epoch_losses.extend(losses)
        self.val_accs.extend(val_accs)
