"""One run on the training charts: its losses and accuracies, and the chart items that draw them.

The loss chart draws a run as pieces, each a stretch of epochs with its own items (raw batch
losses, their smoothed curve, the epoch points). While a run trains only its last piece changes,
so an update repaints that stretch of the chart, not the whole run: the GUI thread's time is
taken from training's (in the window, a full 25-epoch run's updates redrew 600 x 380 pixels of
loss chart each, 3-10 ms, five times a second). A finished run is one piece again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

SMOOTHING = 0.98  # exponential moving average of the batch loss, bias-corrected as TensorBoard does
SMOOTHING_BLOCK = 512  # SMOOTHING ** -512 is about 3e4: the sums keep float64's precision
FINISHED_ALPHA = 150
RAW_ALPHA = 40
LOSS_FLOOR = 1e-6  # the log-scale chart gets no zero
# Downsampling blocks per pixel column, pyqtgraph's default being 5. With "peak" downsampling a
# block is drawn as its min and max, so 1 keeps each column's extent; 5 drew ~11 points a column,
# and stroking the 2-px smoothed curve through them was most of a repaint's time (a full 25-epoch
# run's loss chart: 5.0 -> 1.2 ms).
DOWNSAMPLE_FACTOR = 1.0
# At most this many pieces for a run that trains, a few epochs each: pieces of one epoch (25 for
# the default run) cost more to create and to lay out than they saved in repainting.
LIVE_PIECES = 8


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
class CurvePiece:
    """The loss chart's items for epochs first_epoch + 1 to stop_epoch (None: to the end) of a run."""

    first_epoch: int
    stop_epoch: int | None
    raw: pg.PlotDataItem
    smooth: pg.PlotDataItem
    epoch_loss: pg.PlotDataItem

    def items(self) -> tuple[pg.PlotDataItem, ...]:
        return self.raw, self.smooth, self.epoch_loss


@dataclass
class RunCurves:
    """One run's data and the chart items that draw it."""

    label: str
    color: str
    batches_per_epoch: int
    epochs_per_piece: int | None = None  # None: the whole run in one piece
    epoch_losses: list[float] = field(default_factory=list)
    val_accs: list[float] = field(default_factory=list)
    test_acc: float | None = None
    live: bool = True
    visible: bool = True
    pieces: list[CurvePiece] = field(default_factory=list)
    accuracy: pg.PlotDataItem | None = None
    lr_marks: list[pg.InfiniteLine] = field(default_factory=list)  # where the learning rate was changed
    _raw: GrowingArray = field(default_factory=GrowingArray)
    _smooth: GrowingArray = field(default_factory=GrowingArray)
    _average: float = 0.0
    _weight: float = 0.0

    @property
    def batch_losses(self) -> np.ndarray:
        return self._raw.values

    @property
    def smooth(self) -> np.ndarray:
        return self._smooth.values

    def add_batches(self, losses) -> None:
        losses = np.asarray(losses, dtype=float)
        curve, self._average, self._weight = smoothed(losses, self._average, self._weight)
        self._raw.extend(losses)
        self._smooth.extend(curve)

    def legend_text(self) -> str:
        if self.test_acc is None:
            return self.label
        return f"{self.label}: test {self.test_acc:.2%}"

    # -- the items -------------------------------------------------------------------------------
    def new_piece(self) -> CurvePiece:
        """The next piece's items, styled for a live or a finished run (not yet on a chart)."""
        first = self.pieces[-1].stop_epoch if self.pieces else 0
        stop = None if self.epochs_per_piece is None else first + self.epochs_per_piece
        if self.live:
            smooth_pen = pg.mkPen(self.color, width=2)
        else:
            smooth_pen = pg.mkPen(with_alpha(self.color, FINISHED_ALPHA), width=1.5)
        piece = CurvePiece(
            first, stop,
            raw=pg.PlotDataItem(pen=pg.mkPen(with_alpha(self.color, RAW_ALPHA), width=1),
                                autoDownsampleFactor=DOWNSAMPLE_FACTOR),
            smooth=pg.PlotDataItem(pen=smooth_pen, autoDownsampleFactor=DOWNSAMPLE_FACTOR),
            epoch_loss=pg.PlotDataItem(pen=None, symbol="o", symbolSize=8, symbolBrush=self.color,
                                       symbolPen=pg.mkPen("#f0f0f0", width=1.2)))  # stands out on its own curve
        self.pieces.append(piece)
        return piece

    def pieces_missing(self) -> bool:
        """Whether the data reaches past the last piece's epochs."""
        stop = self.pieces[-1].stop_epoch
        return stop is not None and (len(self.batch_losses) > stop * self.batches_per_epoch
                                     or len(self.epoch_losses) > stop)

    def draw_batches(self, piece: CurvePiece) -> None:
        """Give the piece's batch curves their stretch of the data (from the last batch before it,
        so that the curves join)."""
        per_epoch = self.batches_per_epoch
        first = max(piece.first_epoch * per_epoch - 1, 0)
        stop = None if piece.stop_epoch is None else piece.stop_epoch * per_epoch
        x = np.arange(first + 1, len(self.batch_losses[:stop]) + 1) / max(per_epoch, 1)
        piece.raw.setData(x, np.maximum(self.batch_losses[first:stop], LOSS_FLOOR))
        piece.smooth.setData(x, np.maximum(self.smooth[first:stop], LOSS_FLOOR))

    def draw_epochs(self, piece: CurvePiece) -> None:
        epochs = self.epoch_losses[piece.first_epoch:piece.stop_epoch]
        piece.epoch_loss.setData(np.arange(piece.first_epoch + 1, piece.first_epoch + len(epochs) + 1, dtype=float),
                                 np.maximum(epochs, LOSS_FLOOR))

    def chart_items(self, key: str) -> list[pg.PlotDataItem]:
        """The items that draw `key`: "raw", "smooth", "epoch_loss" (one per piece) or "accuracy"."""
        if key == "accuracy":
            return [self.accuracy]
        return [getattr(piece, key) for piece in self.pieces]

    def all_items(self) -> list[pg.PlotDataItem]:
        return [item for piece in self.pieces for item in piece.items()] + [self.accuracy]

    def drawn(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """What the items of `key` draw, piece after piece, as (x, y) before the chart's log scale:
        the points the pieces repeat to join left out."""
        xs, ys = [], []
        for index, item in enumerate(self.chart_items(key)):
            x, y = item.xData, item.yData  # the data as given, before the chart's log scale
            if x is None:
                continue
            skip = 1 if index and key in ("raw", "smooth") and self.pieces[index].first_epoch else 0
            xs.append(x[skip:])
            ys.append(y[skip:])
        return (np.concatenate(xs), np.concatenate(ys)) if xs else (np.empty(0), np.empty(0))

    def show(self, visible: bool) -> None:
        """Show or hide the run; a finished run's raw batch losses stay hidden (they only clutter)."""
        self.visible = visible
        for piece in self.pieces:
            piece.raw.setVisible(visible and self.live)
            piece.smooth.setVisible(visible)
            piece.epoch_loss.setVisible(visible)
        self.accuracy.setVisible(visible)
        for line in self.lr_marks:
            line.setVisible(visible)


def with_alpha(color: str, alpha: int) -> QColor:
    result = QColor(color)
    result.setAlpha(alpha)
    return result
