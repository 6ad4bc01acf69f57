"""A run's curves as the charts take them: the smoothed loss is the bias-corrected EMA, however the losses arrive."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from core.engine.run_state import History
from core.runs.curve_data import SMOOTHING, SMOOTHING_BLOCK, RunCurveData, smoothed


def ema_by_definition(losses) -> list[float]:
    average = weight = 0.0
    out = []
    for loss in losses:
        if np.isfinite(loss):
            average = SMOOTHING * average + (1 - SMOOTHING) * loss
            weight = SMOOTHING * weight + (1 - SMOOTHING)
        out.append(average / weight if weight > 0 else loss)
    return out


losses_strategy = st.lists(st.one_of(st.floats(0.0, 10.0, allow_subnormal=False), st.just(float("nan")),
                                     st.just(float("inf"))),
                           max_size=2 * SMOOTHING_BLOCK + 10)


@given(losses_strategy, st.integers(0, 50))
def test_the_smoothed_curve_is_the_ema_whatever_the_pieces(losses, cut):
    data = RunCurveData(batches_per_epoch=4)
    data.add_batches(losses[:cut])
    data.add_batches(losses[cut:])
    np.testing.assert_allclose(data.smooth, ema_by_definition(losses), rtol=1e-9, atol=1e-300, equal_nan=True)
    np.testing.assert_array_equal(data.batch_losses, np.asarray(losses, dtype=float))


def test_one_call_or_many_give_the_same_curve():
    losses = np.random.default_rng(0).uniform(0.1, 2.0, 3 * SMOOTHING_BLOCK)
    whole, _, _ = smoothed(losses)
    data = RunCurveData(batches_per_epoch=10)
    for start in range(0, len(losses), 7):
        data.add_batches(losses[start:start + 7])
    np.testing.assert_allclose(data.smooth, whole, rtol=1e-12)


def test_a_stored_history_gives_the_curves_a_live_run_would_have():
    history = History(batch_losses=[2.0, 1.5, 1.0, 0.8], epoch_losses=[1.75, 0.9], val_accs=[0.5, 0.7], test_acc=0.69)
    stored = RunCurveData.from_history(history, batches_per_epoch=2)
    live = RunCurveData(batches_per_epoch=2)
    live.add_batches(history.batch_losses[:3])
    live.add_epochs([1.75], [0.5])
    live.add_batches(history.batch_losses[3:])
    live.add_epochs([0.9], [0.7])
    np.testing.assert_allclose(stored.smooth, live.smooth, rtol=1e-12)
    assert (stored.epoch_losses, stored.val_accs, stored.test_acc) == (live.epoch_losses, live.val_accs, 0.69)
