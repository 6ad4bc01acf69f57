"""The current model has one owner (gui/current_model.py): the pad, the filters, the map and the Errors
tab follow it, whether it comes from a file or from a run in progress, and none keeps a copy of its own."""

from __future__ import annotations

import numpy as np

from core.data.dataset import load_dataset
from core.engine.network import MLP
from core.files.model_file import load_checkpoint
from gui.current_model import CurrentModel, describe_checkpoint
from tests.damaged_models import write_base_model
from tests.gui.test_analysis_tabs import switch_to
from tests.gui.window_driver import RUN_TIMEOUT_MS, set_up_run, start

LONG_RUN = {"epochs": 1000, "batch_size": 1}


def models_held(view) -> list[str]:
    """The attributes of `view` that hold a network of their own."""
    return [name for name, value in vars(view).items() if isinstance(value, MLP)]


def assert_views_follow(window) -> None:
    model = window.current_model.model
    assert window.drawing.model is model and window.hidden_map.model is model
    for view in (window.drawing, window.filters, window.hidden_map, window.errors, window.analysis):
        assert models_held(view) == [], f"{type(view).__name__} keeps a model of its own"


def test_setting_a_checkpoint_gives_the_views_a_copy_and_says_where_it_came_from(qtbot, tmp_path):
    checkpoint = load_checkpoint(write_base_model(tmp_path / "base.npz"))
    current = CurrentModel()
    with qtbot.waitSignal(current.changed, timeout=1000):
        current.set_checkpoint(checkpoint, "base.npz")
    assert current.checkpoint is checkpoint and current.model is not checkpoint.model
    np.testing.assert_array_equal(current.model.flat, checkpoint.model.flat)
    assert current.description == describe_checkpoint(checkpoint, "base.npz")
    assert current.description.startswith("base.npz (Adam lr ") and "1 epoch on MNIST" in current.description
    assert not current.live and current.source == "base.npz"

    live = MLP.initialized((784, 8, 10), seed=1)
    current.show_live(live, tuple("abcdefghij"), "SGD lr 0.1")
    assert current.model is live and current.live and current.class_names == tuple("abcdefghij")
    assert current.checkpoint is checkpoint, "Save keeps the last whole model during a run"
    assert current.description == "the run in progress (SGD lr 0.1)"


def test_loading_a_model_updates_the_pad_the_filters_the_map_and_the_errors_tab(qtbot, window, tiny_dataset_dir,
                                                                               tmp_path):
    switch_to(qtbot, window, window.errors)
    qtbot.waitUntil(lambda: window.errors.evaluation is not None, timeout=10_000)
    assert window.errors.status.text().startswith("bundled pretrained model: ")

    path = write_base_model(tmp_path / "base.npz")
    assert window.files.load_model(path)
    loaded = window.current_model.model
    assert loaded.layer_sizes == (784, 16, 8, 10)
    assert window.drawing.model_label.text() == f"Model: {window.current_model.description}"
    assert_views_follow(window)
    # the Errors tab is showing: the new model is scored at once
    dataset = load_dataset(tiny_dataset_dir)
    qtbot.waitUntil(lambda: window.errors.status.text().startswith("base.npz: "), timeout=10_000)
    np.testing.assert_array_equal(window.errors.evaluation.predicted, loaded.predict(dataset.test_images))

    switch_to(qtbot, window, window.filters)
    qtbot.waitUntil(lambda: window.filters.shown_weights is not None, timeout=5000)
    assert window.filters.shown_weights is loaded.weights[0]
    switch_to(qtbot, window, window.hidden_map)
    qtbot.waitUntil(lambda: window.hidden_map.coordinates is not None, timeout=10_000)
    assert window.hidden_map.model is loaded


def test_a_run_in_progress_updates_every_view_through_the_current_model(qtbot, window):
    pretrained = window.current_model.checkpoint
    switch_to(qtbot, window, window.filters)
    set_up_run(qtbot, window, **LONG_RUN)
    start(qtbot, window)
    qtbot.waitUntil(lambda: window.current_model.live, timeout=RUN_TIMEOUT_MS)
    first_snapshot = window.current_model.model
    assert first_snapshot.layer_sizes == (784, 32, 16, 10)
    assert window.current_model.checkpoint is pretrained
    assert "the run in progress (Adam lr " in window.drawing.model_label.text()
    assert_views_follow(window)
    qtbot.waitUntil(lambda: window.current_model.model is not first_snapshot, timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.filters.shown_weights is not None
                    and window.filters.shown_weights.shape == (784, 32), timeout=5000)  # the run's, not (784, 256)
    assert window.analysis.pending, "the Errors tab scores the model when shown after the run, not during it"
    window.run_controller.stop_training()
    qtbot.waitUntil(lambda: not window.is_training(), timeout=RUN_TIMEOUT_MS)
    assert not window.current_model.live and window.current_model.checkpoint is not pretrained
    assert "this session's run (stopped)" in window.drawing.model_label.text()
    assert_views_follow(window)
    final = window.current_model.model
    qtbot.waitUntil(lambda: window.filters.shown_weights is final.weights[0], timeout=5000)
