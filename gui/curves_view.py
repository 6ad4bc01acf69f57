"""Live training curves: batch loss (raw and smoothed), epoch loss and validation accuracy.

Every run of the session keeps its curves on the two charts: the running one drawn bright, the
finished ones fainter, so SGD, Momentum and Adam compare on one chart. The charts carry no legend:
with five or more runs a legend hid half of each chart, and the runs list beside them already
names each run in its colour, with a tick to show or hide it.
The x axis is in epochs for both charts (batch b of epoch e sits at e - 1 + b / batches), so the
batch curve and the per-epoch points line up.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QGraphicsItem, QLabel, QVBoxLayout, QWidget

from core.engine.run_state import History
from core.runs.curve_data import RunCurveData
from gui.run_curves import FINISHED_ALPHA, LIVE_PIECES, LOSS_FLOOR, CurvePiece, RunCurves, with_alpha
from gui.theme import BASE

RUN_COLORS = ("#4fc3f7", "#ffb74d", "#81c784", "#e57373", "#ba68c8", "#fff176", "#4db6ac", "#f06292")
ACCURACY_STEP = 5.0  # percentage points: while a run trains, the accuracy axis's low end moves in these steps
# The left axes' widths are fixed, wide enough for these tick labels: then labels of another width
# do not re-lay out (and re-render) both charts mid-run, and the two charts' x axes line up.
WIDEST_TICK_LABELS = ("0.00001", "100")
EMPTY_TEXT = "No run on the charts: press Start (Ctrl+Return), or tick a run in the list."


def loss_tick_text(log_value: float) -> str:
    """A log axis's label at 10**log_value: plain decimals at 1, 2 and 5 times the powers of ten,
    none between them. pyqtgraph labels every minor tick (2 to 9) when the chart spans a decade or
    two, so 0.9 ran into 1, and it switched to "10⁻⁵" below 0.0001, beside "0.0001" on one axis."""
    decade = math.floor(round(log_value, 6))
    mantissa = round(10 ** (log_value - decade), 3)
    if mantissa not in (1, 2, 5, 10):
        return ""
    value = mantissa * 10.0 ** decade
    return f"{value:.{max(0, -decade)}f}"


class LossAxis(pg.AxisItem):
    """The loss chart's log-scale axis, labelled by loss_tick_text."""

    def logTickStrings(self, values, scale, spacing):
        return [loss_tick_text(float(value)) for value in values]


class CurvesView(QWidget):
    """The loss chart above the validation-accuracy chart, with a readout of the values under the mouse."""

    hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs: dict[str, RunCurves] = {}
        self._runs_begun = 0
        self._planned_epochs: int | None = None  # the epochs of the run that trains
        self._loss_decades: tuple[float, float] | None = None  # the loss axis's range while a run trains
        self._accuracy_floor: float | None = None  # the accuracy axis's low end (%) while a run trains
        self.loss_plot = pg.PlotWidget(axisItems={"left": LossAxis(orientation="left")})
        self.accuracy_plot = pg.PlotWidget()
        self._setup_plot(self.loss_plot, "loss (log scale)")
        self._setup_plot(self.accuracy_plot, "val. accuracy (%)")  # whole on a short chart (1024x640)
        self.loss_plot.setLogMode(y=True)
        # set on the plot: it imposes its own settings on every curve added to it. A run's ~23,000
        # batch losses are then drawn as their min and max in each pixel column (with
        # gui/run_curves.py's DOWNSAMPLE_FACTOR), and only the part in view: the band stays faint and
        # each redraw cheap.
        self.loss_plot.setDownsampling(auto=True, mode="peak")
        self.loss_plot.setClipToView(True)
        self.accuracy_plot.setXLink(self.loss_plot)
        width = max(self._left_axis_width(plot) for plot in (self.loss_plot, self.accuracy_plot))
        for plot in (self.loss_plot, self.accuracy_plot):
            plot.getAxis("left").setWidth(width)
        self.readout = QLabel(EMPTY_TEXT)
        self.readout.setObjectName("readout")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot, 3)
        layout.addWidget(self.accuracy_plot, 2)
        layout.addWidget(self.readout)
        self._cursors = []
        for plot in (self.loss_plot, self.accuracy_plot):
            cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888", style=Qt.PenStyle.DotLine))
            cursor.setVisible(False)
            plot.addItem(cursor, ignoreBounds=True)
            self._cursors.append(cursor)
            plot.scene().sigMouseMoved.connect(lambda position, plot=plot: self._on_mouse_moved(plot, position))
        self._values_shown = True
        self._show_axis_values()

    @staticmethod
    def _setup_plot(plot: pg.PlotWidget, y_label: str) -> None:
        plot.setBackground(BASE)
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setLabel("left", y_label)
        plot.setLabel("bottom", "epoch")
        plot.getAxis("bottom").enableAutoSIPrefix(False)  # empty charts read "epoch (x0.001)"
        plot.setMouseEnabled(x=True, y=False)
        plot.getPlotItem().setMenuEnabled(False)
        for name in ("left", "bottom"):
            # kept as a pixmap until the axis changes: replaying its text at each of the 5 updates
            # a second was half of an update's time, taken from training (docs/PERFORMANCE.md)
            plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    @staticmethod
    def _left_axis_width(plot: pg.PlotWidget) -> int:
        """The width pyqtgraph would give the left axis for WIDEST_TICK_LABELS and its title."""
        axis = plot.getAxis("left")
        font = axis.style["tickFont"] or axis.font()
        text = max(QFontMetrics(font).horizontalAdvance(label) for label in WIDEST_TICK_LABELS)
        offset = axis.style["tickTextOffset"][0] + max(0, axis.style["tickLength"])
        return math.ceil(text + offset + axis.label.boundingRect().height() * 0.8) + 2

    # -- runs -----------------------------------------------------------------------------------
    def begin_run(self, run_id: str, label: str, batches_per_epoch: int, live: bool = True) -> RunCurves:
        """Add a run's (empty) curves; `run_id` names it in the other methods. A live run begun
        after show_epochs() is drawn in pieces of a few epochs (gui/run_curves.py)."""
        if run_id in self.runs:
            self.remove_run(run_id)
        color = RUN_COLORS[self._runs_begun % len(RUN_COLORS)]
        self._runs_begun += 1
        per_piece = math.ceil(self._planned_epochs / LIVE_PIECES) if live and self._planned_epochs else None
        run = RunCurves(label, color, RunCurveData(batches_per_epoch), per_piece, live=live)
        run.accuracy = pg.PlotDataItem(pen=pg.mkPen(color, width=2), symbol="o", symbolSize=6,
                                       symbolBrush=color, symbolPen=None)
        self.accuracy_plot.addItem(run.accuracy)
        self._add_piece(run)
        self.runs[run_id] = run
        self._show_axis_values()
        return run

    def _add_piece(self, run: RunCurves) -> CurvePiece:
        """The run's next piece, on the loss chart with its stretch of the data so far."""
        piece = run.new_piece()
        for item in piece.items():
            self.loss_plot.addItem(item)
            item.setVisible(run.visible and (item is not piece.raw or run.live))
        # after addItem, which imposes the plot's "peak": a pixel column's mean is all a smooth curve
        # needs, and half the points to stroke (a full run's repaint: docs/PERFORMANCE.md)
        piece.smooth.setDownsampling(method="mean")
        run.draw_batches(piece)
        run.draw_epochs(piece)
        return piece

    def show_epochs(self, epochs: int) -> None:
        """Fix the x axis to a run's planned epochs while it trains, and let the loss axis move
        only in steps of half a decade, the accuracy axis's low end in steps of ACCURACY_STEP.

        An axis that rescales with every update is re-laid out and re-rendered each time; with
        the x range fixed, an update only redraws the curves (measured: 2.2 s -> 1.3 s an epoch
        in the window). The loss axis rescaling to every update still took half of an update's
        time (10.5 -> 5.4 ms measured), and the accuracy axis, rescaled at every epoch, re-rendered
        (2.5 ms) 15 times in a 25-epoch run: the GUI thread's time is taken from training's. The
        mouse wheel still zooms; autorange_epochs() gives the ranges back.
        """
        self._planned_epochs = epochs
        self.loss_plot.setXRange(0, max(epochs, 1), padding=0.02)
        self._loss_decades = (math.inf, -math.inf)  # log10 of the loss, as the plot has it: none yet
        self.loss_plot.disableAutoRange(axis="y")
        self._accuracy_floor = math.inf
        self.accuracy_plot.disableAutoRange(axis="y")

    def autorange_epochs(self) -> None:
        self._planned_epochs = self._loss_decades = self._accuracy_floor = None
        self.loss_plot.enableAutoRange(x=True, y=True)
        self.accuracy_plot.enableAutoRange(y=True)

    def _shown_data(self, keys: tuple[str, ...]) -> list[np.ndarray]:
        """The y data of the visible curves `keys` of every run."""
        return [item.yData for run in self.runs.values() for key in keys for item in run.chart_items(key)
                if item.isVisible() and item.yData is not None]

    def _keep_in_view(self, losses: np.ndarray) -> None:
        """While a run trains, widen the loss axis (to whole half-decades) only when its losses leave
        it; downwards by half a decade more than they need, as they will go on down (a full MNIST
        run's axis then moves 4-5 times instead of 9-12, each time re-drawing every curve)."""
        if self._loss_decades is None:
            return
        shown_low, shown_high = self._loss_decades
        if shown_low > shown_high:  # the run's first losses: take in the other curves shown too
            losses = np.concatenate([losses, *self._shown_data(("raw", "smooth", "epoch_loss"))])
        losses = losses[np.isfinite(losses)]  # a stored run's history may hold a diverged batch's
        if not len(losses):
            return
        low, high = np.log10(losses.min()), np.log10(losses.max())
        if shown_low <= low and high <= shown_high:
            return
        if low < shown_low:  # half a decade to spare below: the losses go down all the run
            shown_low = math.floor(low * 2) / 2 - (0.5 if math.isfinite(shown_low) else 0)
        self._loss_decades = (shown_low, max(shown_high, math.ceil(high * 2) / 2))
        self.loss_plot.setYRange(*self._loss_decades, padding=0)

    def add_batches(self, run_id: str, losses) -> None:
        run = self.runs[run_id]
        already = len(run.batch_losses)
        run.data.add_batches(losses)
        self._redraw(run, RunCurves.draw_batches, changed_from_epoch=already // max(run.batches_per_epoch, 1))
        self._keep_in_view(np.maximum(run.batch_losses[already:], LOSS_FLOOR))

    def add_epoch(self, run_id: str, loss: float, val_acc: float) -> None:
        self.add_epochs(run_id, [loss], [val_acc])

    def add_epochs(self, run_id: str, losses, val_accs) -> None:
        """Several epochs' points at once, drawn once (short epochs end faster than the screen redraws)."""
        run = self.runs[run_id]
        already = len(run.epoch_losses)
        run.data.add_epochs(losses, val_accs)
        self._redraw(run, RunCurves.draw_epochs, changed_from_epoch=already)
        self._draw_accuracy(run)

    def _redraw(self, run: RunCurves, draw, changed_from_epoch: int) -> None:
        """draw(run, piece) for the pieces holding data of epoch changed_from_epoch + 1 or later,
        adding pieces where the data has run past the last."""
        while run.pieces_missing():
            self._add_piece(run)
        for piece in run.pieces:
            if piece.stop_epoch is None or piece.stop_epoch > changed_from_epoch:
                draw(run, piece)

    def _draw_accuracy(self, run: RunCurves) -> None:
        accuracies = 100 * np.asarray(run.val_accs, dtype=float)
        run.accuracy.setData(np.arange(1, len(accuracies) + 1, dtype=float), accuracies)
        self._keep_accuracy_in_view(accuracies)

    def _keep_accuracy_in_view(self, accuracies: np.ndarray) -> None:
        """While a run trains, the accuracy axis spans [a multiple of ACCURACY_STEP, 100] and moves
        only when an accuracy falls below it."""
        if self._accuracy_floor is None:
            return
        if math.isinf(self._accuracy_floor):  # the run's first epoch: take in the other curves shown too
            accuracies = np.concatenate([accuracies, *self._shown_data(("accuracy",))])
        accuracies = accuracies[np.isfinite(accuracies)]
        if not len(accuracies):
            return
        floor = min(max(0.0, math.floor(accuracies.min() / ACCURACY_STEP) * ACCURACY_STEP), 100 - ACCURACY_STEP)
        if floor < self._accuracy_floor:
            self._accuracy_floor = floor
            self.accuracy_plot.setYRange(floor, 100, padding=0.03)

    def finish_run(self, run_id: str, test_acc: float | None) -> None:
        """The run stays on the charts, fainter, in one piece; its label (legend_text) now carries its test accuracy."""
        run = self.runs[run_id]
        run.live, run.data.test_acc = False, test_acc
        self._remove_pieces(run)
        run.epochs_per_piece = None
        self._add_piece(run)
        run.accuracy.setPen(pg.mkPen(with_alpha(run.color, FINISHED_ALPHA), width=1.5))

    def show_history(self, run_id: str, label: str, history: History, batches_per_epoch: int) -> RunCurves:
        """Draw a finished run from its saved history (a loaded model, a past run)."""
        run = self.begin_run(run_id, label, batches_per_epoch, live=False)
        run.data = RunCurveData.from_history(history, batches_per_epoch)
        self.finish_run(run_id, history.test_acc)
        self._keep_in_view(np.maximum(run.batch_losses, LOSS_FLOOR))
        self._draw_accuracy(run)
        return run

    def mark_lr_change(self, run_id: str, epoch_x: float, lr: float) -> pg.InfiniteLine:
        """A dashed line in the run's colour where its learning rate was changed, labelled with the new rate."""
        run = self.runs[run_id]
        line = pg.InfiniteLine(epoch_x, angle=90, movable=False, label=f"lr {lr:g}",
                               pen=pg.mkPen(run.color, style=Qt.PenStyle.DashLine),
                               labelOpts={"position": 0.9, "color": run.color})
        self.loss_plot.addItem(line, ignoreBounds=True)
        run.lr_marks.append(line)
        return line

    def set_run_visible(self, run_id: str, visible: bool) -> None:
        self.runs[run_id].show(visible)
        self._show_axis_values()

    def _show_axis_values(self) -> None:
        """Axes carry numbers only while a run is shown: empty charts showed 0.2-0.8 "epochs" and
        an accuracy of 0.2-0.8 under "(%)", numbers that meant nothing."""
        shown = any(run.visible for run in self.runs.values())
        if shown == self._values_shown:
            return
        self._values_shown = shown
        for plot in (self.loss_plot, self.accuracy_plot):
            for name in ("left", "bottom"):
                plot.getAxis(name).setStyle(showValues=shown)
        if not shown:
            self.readout.setText(EMPTY_TEXT)
        else:  # what the mouse read on empty charts is stale now
            self.readout.setText("Hover over a chart to read its values.")

    def remove_run(self, run_id: str) -> None:
        run = self.runs.pop(run_id)
        for line in run.lr_marks:
            self.loss_plot.removeItem(line)
        self._remove_pieces(run)
        self.accuracy_plot.removeItem(run.accuracy)
        self._show_axis_values()

    def _remove_pieces(self, run: RunCurves) -> None:
        for piece in run.pieces:
            for item in piece.items():
                self.loss_plot.removeItem(item)
        run.pieces = []

    # -- hover readout ----------------------------------------------------------------------------
    def _on_mouse_moved(self, plot: pg.PlotWidget, position) -> None:
        view = plot.getPlotItem().vb
        if not plot.sceneBoundingRect().contains(position):
            return
        epoch_x = view.mapSceneToView(position).x()
        for cursor in self._cursors:
            cursor.setPos(epoch_x)
            cursor.setVisible(True)
        text = self.describe(epoch_x)
        self.readout.setText(text)
        self.hovered.emit(text)

    def describe(self, epoch_x: float) -> str:
        """The values of every visible run at the epoch nearest `epoch_x`, as one rich-text line."""
        parts = []
        for run in self.runs.values():
            if not run.visible:
                continue
            values = []
            epoch = int(round(epoch_x))
            if 1 <= epoch <= len(run.epoch_losses):
                values.append(f"epoch {epoch}: loss {run.epoch_losses[epoch - 1]:.4f}, "
                              f"val {run.val_accs[epoch - 1]:.2%}")
            step = int(epoch_x * run.batches_per_epoch)
            if 1 <= step <= len(run.smooth):
                values.append(f"batch loss {run.smooth[step - 1]:.4f} (smoothed)")
            if values:
                parts.append(f"<span style='color:{run.color}'>&#9632;</span> {run.label}: {'; '.join(values)}")
        return "<br>".join(parts) if parts else f"epoch {epoch_x:.2f}"
