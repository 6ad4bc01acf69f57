"""The curves: points for every batch and epoch, finished runs with their test accuracy, the hover readout."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF

from core.engine.run_state import History
from core.runs.curve_data import smoothed
from gui.curves_view import CurvesView
from tests.gui.window_driver import on_screen


@pytest.fixture
def curves(qtbot):
    return on_screen(qtbot, CurvesView(), 700, 500)


def add_run(view: CurvesView, run_id: str, label: str, epoch_losses, val_accs, batches_per_epoch=4, test_acc=None):
    view.begin_run(run_id, label, batches_per_epoch)
    for loss, accuracy in zip(epoch_losses, val_accs):
        view.add_batches(run_id, [loss + 0.1 * (batches_per_epoch - b) for b in range(batches_per_epoch)])
        view.add_epoch(run_id, loss, accuracy)
    if test_acc is not None:
        view.finish_run(run_id, test_acc)
    return view.runs[run_id]


def test_every_batch_and_epoch_has_its_point(curves):
    run = add_run(curves, "a", "Adam lr 0.0005", [1.0, 0.5, 0.25], [0.5, 0.7, 0.9], batches_per_epoch=4)
    assert len(run.batch_losses) == len(run.smooth) == 12
    x, y = run.drawn("raw")
    np.testing.assert_allclose(x, np.arange(1, 13) / 4)  # batch b of epoch e sits at e - 1 + b / 4
    np.testing.assert_allclose(y, run.batch_losses)
    np.testing.assert_allclose(run.drawn("smooth")[1], smoothed(np.asarray(run.batch_losses))[0])
    np.testing.assert_allclose(run.drawn("epoch_loss")[0], [1, 2, 3])
    np.testing.assert_allclose(run.drawn("epoch_loss")[1], [1.0, 0.5, 0.25])
    (points,) = run.chart_items("epoch_loss")  # a finished run is drawn in one piece
    np.testing.assert_allclose(points.getData()[1], np.log10([1.0, 0.5, 0.25]))  # log axis
    accuracy_x, accuracy_y = run.accuracy.getData()
    np.testing.assert_allclose(accuracy_x, [1, 2, 3])
    np.testing.assert_allclose(accuracy_y, [50, 70, 90])


def test_a_finished_run_carries_its_test_accuracy_in_its_label(curves):
    run = add_run(curves, "a", "SGD lr 0.005", [1.0, 0.8], [0.6, 0.65], test_acc=0.6789)
    assert not run.live and run.test_acc == 0.6789
    assert run.legend_text() == "SGD lr 0.005: test 67.89%"
    assert not any(item.isVisible() for item in run.chart_items("raw"))
    assert all(item.isVisible() for item in run.chart_items("smooth"))


def test_losses_that_blow_up_do_not_break_the_smoothed_curve(curves):
    curves.begin_run("a", "x", 2)
    curves.add_batches("a", [1.0, 0.0, float("inf"), float("nan"), 0.5])
    run = curves.runs["a"]
    assert np.all(np.isfinite(run.smooth))
    assert run.drawn("raw")[1][1] > 0, "the log-scale chart gets no zero"


def test_describe_gives_every_visible_runs_values_at_that_epoch(curves):
    add_run(curves, "a", "Adam lr 0.0005", [1.0, 0.5, 0.25], [0.5, 0.7, 0.9])
    add_run(curves, "b", "SGD lr 0.005", [2.0, 1.5], [0.3, 0.4], test_acc=0.41)
    text = curves.describe(2.0)
    assert text.count("<br>") == 1
    adam, sgd = text.split("<br>")
    assert "Adam lr 0.0005" in adam and "epoch 2: loss 0.5000, val 70.00%" in adam
    assert "SGD lr 0.005" in sgd and "epoch 2: loss 1.5000, val 40.00%" in sgd
    assert "batch loss" in adam and "(smoothed)" in adam

    # epoch 3 exists for Adam only; rounding picks the nearest epoch
    text = curves.describe(2.6)
    assert "epoch 3: loss 0.2500, val 90.00%" in text and "SGD lr 0.005: epoch" not in text

    curves.set_run_visible("a", False)
    text = curves.describe(2.0)
    assert "Adam" not in text and "SGD lr 0.005: epoch 2" in text
    assert not any(item.isVisible() for item in curves.runs["a"].all_items())
    curves.set_run_visible("a", True)
    assert "Adam" in curves.describe(2.0)


def test_describe_off_the_runs_gives_just_the_epoch(curves):
    add_run(curves, "a", "Adam", [1.0], [0.5])
    assert curves.describe(7.25) == "epoch 7.25"
    assert curves.describe(-1.0) == "epoch -1.00"


def test_describe_within_the_first_epoch_reads_the_batch_curve(curves):
    curves.begin_run("a", "Adam", 10)
    curves.add_batches("a", [2.0, 1.0, 0.5])  # no epoch finished yet
    text = curves.describe(0.25)
    assert "epoch" not in text.split(":", 1)[1] and "batch loss" in text
    assert f"{curves.runs['a'].smooth[1]:.4f}" in text


def test_hovering_over_the_loss_chart_shows_the_readout(qtbot, curves):
    add_run(curves, "a", "Adam lr 0.0005", [1.0, 0.5, 0.25], [0.5, 0.7, 0.9])
    plot = curves.loss_plot
    view_box = plot.getPlotItem().vb
    view_box.setXRange(0, 4, padding=0)
    at_epoch_2 = view_box.mapViewToScene(QPointF(2.0, view_box.viewRect().center().y()))
    with qtbot.waitSignal(curves.hovered, timeout=2000) as blocker:
        qtbot.mouseMove(plot.viewport(), plot.mapFromScene(at_epoch_2))
    assert "epoch 2: loss 0.5000" in blocker.args[0]
    assert curves.readout.text() == blocker.args[0]
    assert all(cursor.isVisible() for cursor in curves._cursors)
    assert curves._cursors[0].value() == pytest.approx(2.0, abs=0.05)


def test_show_history_draws_a_saved_run(curves):
    history = History(batch_losses=[1.0, 0.8, 0.6, 0.5], epoch_losses=[0.9, 0.55], val_accs=[0.6, 0.8], test_acc=0.79)
    run = curves.show_history("file-1", "model.npz: Adam", history, batches_per_epoch=2)
    assert not run.live and run.test_acc == 0.79
    assert len(run.drawn("raw")[0]) == 4 and len(run.accuracy.getData()[0]) == 2
    assert "epoch 2: loss 0.5500, val 80.00%" in curves.describe(2)


def test_removing_a_run_takes_its_curves_away(curves):
    add_run(curves, "a", "Adam", [1.0], [0.5], test_acc=0.5)
    add_run(curves, "b", "SGD", [1.0], [0.5], test_acc=0.4)
    items = curves.runs["a"].all_items()
    curves.remove_run("a")
    assert list(curves.runs) == ["b"]
    assert all(item.scene() is None for item in items)
    assert "Adam" not in curves.describe(1) and "SGD" in curves.describe(1)


def test_a_run_begun_again_under_the_same_id_replaces_the_old_one(curves):
    add_run(curves, "a", "first", [1.0], [0.5])
    add_run(curves, "a", "second", [2.0, 1.0], [0.5, 0.6])
    assert len(curves.runs) == 1 and curves.runs["a"].label == "second"
    chart_items = [item for item in curves.loss_plot.getPlotItem().items if isinstance(item, pg.PlotDataItem)]
    assert len(chart_items) == 3, "one raw, one smoothed and one epoch curve: the first run's are gone"


def test_while_a_run_trains_the_loss_axis_moves_only_when_its_losses_leave_it(curves):
    """Half-decade steps: an axis rescaled at every update cost half of the update's time."""
    add_run(curves, "old", "SGD lr 0.005", [3.0, 2.0], [0.5, 0.6], test_acc=0.6)
    curves.begin_run("live", "Adam lr 0.001", 100)
    curves.show_epochs(3)

    def loss_range():
        return tuple(curves.loss_plot.viewRange()[1])  # log10 of the loss

    curves.add_batches("live", [2.3, 1.1, 0.8])
    first = loss_range()
    assert first[0] <= np.log10(0.8) and first[1] >= np.log10(3.0 + 0.4)  # the finished run stays in view
    assert first == (np.floor(first[0] * 2) / 2, np.ceil(first[1] * 2) / 2)
    curves.add_batches("live", [0.7, 0.6])
    assert loss_range() == first  # inside: no rescale
    curves.add_batches("live", [0.05])
    widened = np.floor(np.log10(0.05) * 2) / 2 - 0.5  # to a half-decade, and one more below: they go on down
    assert loss_range() == (widened, first[1])
    curves.add_batches("live", [0.02])
    assert loss_range() == (widened, first[1])
    curves.begin_run("stored", "a stored run that diverged", 100)
    curves.add_batches("stored", [0.5, float("nan"), float("inf")])  # neither raises nor moves the axis
    assert loss_range()[0] == widened
    curves.autorange_epochs()
    assert curves.loss_plot.getViewBox().autoRangeEnabled()[1]


def test_losses_on_half_decades_get_an_axis_just_wide_enough(curves):
    curves.begin_run("live", "Adam lr 0.001", 100)
    curves.show_epochs(3)
    curves.add_batches("live", [1.0, 0.1])
    assert tuple(curves.loss_plot.viewRange()[1]) == (-1.0, 0.0)


def test_while_a_run_trains_the_accuracy_axis_moves_only_when_an_accuracy_falls_below_it(curves):
    """Steps of ACCURACY_STEP points up to 100 %: an axis rescaled at every epoch re-rendered each time."""
    add_run(curves, "old", "SGD lr 0.005", [1.0], [0.93], test_acc=0.93)
    curves.begin_run("live", "Adam lr 0.001", 4)
    curves.show_epochs(25)

    def accuracy_range():
        low, high = curves.accuracy_plot.viewRange()[1]
        return round(low, 6), round(high, 6)

    curves.add_epoch("live", 0.5, 0.962)
    first = accuracy_range()
    span = 100 - 90
    assert first == (round(90 - 0.03 * span, 6), round(100 + 0.03 * span, 6))  # the finished run's 93 % too
    curves.add_epoch("live", 0.4, 0.975)
    curves.add_epoch("live", 0.45, 0.91)
    assert accuracy_range() == first
    curves.add_epoch("live", 0.6, 0.872)
    assert accuracy_range()[0] < 85 < accuracy_range()[0] + 1
    curves.autorange_epochs()
    assert curves.accuracy_plot.getViewBox().autoRangeEnabled()[1]


def test_the_charts_left_axes_keep_one_width_wide_enough_for_their_labels(curves, qtbot):
    """Wider tick labels would re-lay out both charts (and re-render their axes) mid-run; equal
    widths also keep the two charts' epochs above each other. Losses down to 1e-5 still leave
    room for the axis title."""
    add_run(curves, "a", "Adam", [2.0, 0.00001], [0.1, 0.999])
    curves.autorange_epochs()
    axes = [plot.getAxis("left") for plot in (curves.loss_plot, curves.accuracy_plot)]
    qtbot.waitUntil(lambda: axes[0].textWidth > 30)  # drawn with its ticks, 1e-05 to 1
    assert axes[0].width() == axes[1].width()
    for axis in axes:
        needed = (axis.textWidth + axis.style["tickTextOffset"][0] + max(0, axis.style["tickLength"])
                  + axis.label.boundingRect().height() * 0.8)
        assert axis.width() >= needed


def test_a_live_run_is_drawn_in_pieces_of_epochs_and_only_the_last_is_redrawn(curves):
    """An update repaints its stretch of the chart, not the whole run; a finished run is one piece."""
    curves.show_epochs(16)  # 16 epochs in at most LIVE_PIECES = 8 pieces: two epochs a piece
    run = curves.begin_run("live", "Adam", 4)
    losses = list(np.linspace(2.0, 0.5, 4 * 5))
    curves.add_batches("live", losses[:10])  # into epoch 3: pieces for epochs 1-2 and 3-4
    curves.add_epochs("live", [1.5, 1.2], [0.8, 0.85])
    assert [(piece.first_epoch, piece.stop_epoch) for piece in run.pieces] == [(0, 2), (2, 4)]
    first_piece_data = run.pieces[0].raw.yData
    curves.add_batches("live", losses[10:14])
    assert run.pieces[0].raw.yData is first_piece_data, "a piece whose epochs are done is not redrawn"
    np.testing.assert_allclose(run.drawn("raw")[1], losses[:14])
    np.testing.assert_allclose(run.pieces[1].raw.xData[0], 2.0, err_msg="a piece starts at the last batch before it")
    curves.add_batches("live", losses[14:])
    curves.add_epochs("live", [1.0, 0.9, 0.7], [0.9, 0.91, 0.93])
    assert len(run.pieces) == 3
    np.testing.assert_allclose(run.drawn("epoch_loss")[1], [1.5, 1.2, 1.0, 0.9, 0.7])

    curves.finish_run("live", 0.93)
    assert len(run.pieces) == 1 and run.pieces[0].stop_epoch is None
    np.testing.assert_allclose(run.drawn("smooth")[1], run.smooth)
    assert run.legend_text() == "Adam: test 93.00%"
    assert sum(item.scene() is curves.loss_plot.scene() for item in run.all_items()) == 3


def test_hiding_a_run_hides_every_piece_of_it_and_nothing_covers_the_charts(curves):
    """No legend over the data: the runs list beside the charts names the runs (issue 16)."""
    curves.show_epochs(16)
    run = curves.begin_run("live", "Adam", 4)
    curves.add_batches("live", list(np.linspace(2.0, 0.5, 4 * 5)))
    curves.add_epochs("live", [1.5, 1.2], [0.8, 0.85])
    assert len(run.pieces) > 1
    for plot in (curves.loss_plot, curves.accuracy_plot):
        assert plot.getPlotItem().legend is None
        assert not [item for item in plot.scene().items() if isinstance(item, pg.LegendItem)]
    curves.set_run_visible("live", False)
    assert not any(item.isVisible() for item in run.all_items())
    curves.set_run_visible("live", True)
    assert all(item.isVisible() for item in run.chart_items("smooth"))


def test_an_accuracy_of_100_percent_still_gets_an_axis_below_it(curves):
    curves.show_epochs(5)
    curves.begin_run("live", "Adam", 4)
    curves.add_epoch("live", 0.01, 1.0)
    low, high = curves.accuracy_plot.viewRange()[1]
    assert low < 100 - 4 and high > 100


def test_the_loss_axis_labels_one_two_and_five_times_the_powers_of_ten(curves):
    """pyqtgraph labels every minor tick of a log axis spanning a decade or two: 0.9 ran into 1."""
    axis = curves.loss_plot.getAxis("left")
    values = np.log10([0.03, 0.04, 0.05, 0.09, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 2.0])
    labelled = [text for text in axis.tickStrings(list(values), 1.0, 0.1) if text]
    assert labelled == ["0.05", "0.1", "0.2", "0.5", "1", "2"]


def test_loss_ticks_are_plain_decimals_all_the_way_down(curves):
    """pyqtgraph wrote "10⁻⁵" below 0.0001, beside "0.0001" on the same axis."""
    axis = curves.loss_plot.getAxis("left")
    values = np.log10([1e-6, 1e-5, 2e-5, 3e-5, 1e-4, 5e-4, 1e-3, 10.0])
    labelled = [text for text in axis.tickStrings(list(values), 1.0, 0.1) if text]
    assert labelled == ["0.000001", "0.00001", "0.00002", "0.0001", "0.0005", "0.001", "10"]


def test_empty_charts_carry_no_numbers_until_a_run_is_shown(curves):
    axes = [plot.getAxis(name) for plot in (curves.loss_plot, curves.accuracy_plot) for name in ("left", "bottom")]
    assert not any(axis.style["showValues"] for axis in axes)
    assert "Start" in curves.readout.text()
    add_run(curves, "a", "Adam", [1.0, 0.5], [0.5, 0.6], test_acc=0.6)
    assert all(axis.style["showValues"] for axis in axes)
    assert "Start" not in curves.readout.text()
    curves.set_run_visible("a", False)
    assert not any(axis.style["showValues"] for axis in axes)
    curves.set_run_visible("a", True)
    curves.remove_run("a")
    assert not any(axis.style["showValues"] for axis in axes)
