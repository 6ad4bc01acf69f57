"""One run on the training charts: the chart items that draw its curves (core/runs/curve_data.py holds them).

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

from core.runs.curve_data import RunCurveData

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
    """The chart items that draw one run's curves (`data`), and how they look."""

    label: str
    color: str
    data: RunCurveData
    epochs_per_piece: int | None = None  # None: the whole run in one piece
    live: bool = True
    visible: bool = True
    pieces: list[CurvePiece] = field(default_factory=list)
    accuracy: pg.PlotDataItem | None = None
    lr_marks: list[pg.InfiniteLine] = field(default_factory=list)  # where the learning rate was changed

    # what is drawn, read from the data (which has one owner: this run's RunCurveData)
    @property
    def batches_per_epoch(self) -> int:
        return self.data.batches_per_epoch

    @property
    def batch_losses(self) -> np.ndarray:
        return self.data.batch_losses

    @property
    def smooth(self) -> np.ndarray:
        return self.data.smooth

    @property
    def epoch_losses(self) -> list[float]:
        return self.data.epoch_losses

    @property
    def val_accs(self) -> list[float]:
        return self.data.val_accs

    @property
    def test_acc(self) -> float | None:
        return self.data.test_acc

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
