"""The training panel on its own: optimizer defaults, fields that refuse bad values, and its TrainConfig."""

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from core.engine.config import MAX_BATCH_SIZE, OPTIMIZERS, TrainConfig
from core.engine.setting import settings_of
from core.engine.setting import shown as as_typed
from core.errors import ConfigError
from gui.training_panel import INVALID_STYLE, TrainingPanel
from tests.cli.test_train_flags import WithWarmup
from tests.gui.window_driver import LEFT, choose_optimizer, on_screen, type_text


@pytest.fixture
def panel(qtbot):
    return on_screen(qtbot, TrainingPanel("/data/mnist"))


def shown(panel: TrainingPanel, widget) -> bool:
    return panel.form.isRowVisible(widget) and widget.isVisibleTo(panel)


def test_it_opens_with_the_seed_adam_settings(panel):
    assert panel.config() == TrainConfig()
    assert panel.optimizer == "adam" and panel.lr_field.text() == "0.0005"
    assert panel.data_dir() == "/data/mnist"
    assert panel.start_button.isEnabled()
    assert not panel.pause_button.isEnabled() and not panel.stop_button.isEnabled()
    assert panel.progress.format() == "ready"


def test_sgd_fills_in_its_learning_rate_and_hides_the_other_optimizers_fields(qtbot, panel):
    choose_optimizer(qtbot, panel, "sgd")
    assert panel.lr_field.text() == "0.005"
    for widget in (panel.momentum_box, panel.beta1_box, panel.beta2_box, panel.eps_field):
        assert not shown(panel, widget)
    assert panel.config().optimizer == "sgd" and panel.config().lr == 0.005


def test_momentum_fills_in_its_learning_rate_and_beta(qtbot, panel):
    panel.momentum_box.setValue(0.5)
    choose_optimizer(qtbot, panel, "momentum")
    assert panel.lr_field.text() == "0.001"
    assert panel.momentum_box.value() == pytest.approx(0.95)
    assert shown(panel, panel.momentum_box)
    for widget in (panel.beta1_box, panel.beta2_box, panel.eps_field):
        assert not shown(panel, widget)


def test_adam_fills_in_its_settings_again_after_another_optimizer(qtbot, panel):
    type_text(qtbot, panel.lr_field, "0.01")
    panel.beta1_box.setValue(0.5)
    choose_optimizer(qtbot, panel, "sgd")
    choose_optimizer(qtbot, panel, "adam")
    assert panel.lr_field.text() == "0.0005"
    assert panel.beta1_box.value() == pytest.approx(0.9) and panel.beta2_box.value() == pytest.approx(0.999)
    assert float(panel.eps_field.text()) == pytest.approx(1e-7)
    for widget in (panel.beta1_box, panel.beta2_box, panel.eps_field):
        assert shown(panel, widget)
    assert not shown(panel, panel.momentum_box)


def test_choosing_an_optimizer_announces_the_change(qtbot, panel):
    with qtbot.waitSignal(panel.settings_changed, timeout=1000):
        choose_optimizer(qtbot, panel, "momentum")


def test_letters_typed_into_the_learning_rate_are_refused(qtbot, panel):
    panel.lr_field.setFocus()
    panel.lr_field.end(False)
    qtbot.keyClicks(panel.lr_field, "xyz")
    assert panel.lr_field.text() == "0.0005"
    assert panel.lr_field.hasAcceptableInput() and panel.start_button.isEnabled()
    type_text(qtbot, panel.lr_field, "abc")
    assert panel.lr_field.text() == "", "no letter gets in"


@pytest.mark.parametrize("text", ["", "1e-", "20000", "0"])
def test_an_unfinished_or_out_of_range_learning_rate_disables_start(qtbot, panel, text):
    type_text(qtbot, panel.lr_field, text)
    assert not panel.lr_field.hasAcceptableInput()
    assert panel.lr_field.styleSheet() == INVALID_STYLE
    assert not panel.start_button.isEnabled() and not panel.race_button.isEnabled()
    with pytest.raises(ConfigError, match="invalid value"):
        panel.config()
    type_text(qtbot, panel.lr_field, "5e-4")
    assert panel.lr_field.styleSheet() == "" and panel.start_button.isEnabled()
    assert panel.config().lr == 0.0005


def test_an_empty_hidden_layers_field_disables_start(qtbot, panel):
    type_text(qtbot, panel.hidden_field, "")
    assert not panel.hidden_field.hasAcceptableInput() and not panel.start_button.isEnabled()
    qtbot.keyClicks(panel.hidden_field, "64,")
    assert not panel.start_button.isEnabled(), "a trailing comma is unfinished"
    qtbot.keyClicks(panel.hidden_field, "32")
    assert panel.start_button.isEnabled()
    assert panel.config().hidden == (64, 32)


def test_the_hidden_layers_field_refuses_letters_and_zero_sizes(qtbot, panel):
    type_text(qtbot, panel.hidden_field, "1a2,0,b")
    assert panel.hidden_field.text() == "12,"
    type_text(qtbot, panel.hidden_field, "0")
    assert panel.hidden_field.text() == ""


def test_spin_boxes_keep_values_in_their_range(qtbot, panel):
    panel.epochs_box.setValue(0)
    panel.batch_box.setValue(10**6)
    panel.decay_box.setValue(2.0)
    config = panel.config()
    assert config.epochs == 1 and config.batch_size == MAX_BATCH_SIZE and config.lr_decay == 1.0


def limits(widget) -> tuple:
    """The range a field lets through: a spin box's, a typed number's validator's, a choice list."""
    if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        return widget.minimum(), widget.maximum()
    if isinstance(widget, QComboBox):
        return tuple(widget.itemData(index) for index in range(widget.count()))
    if isinstance(widget, QLineEdit) and isinstance(widget.validator(), QDoubleValidator):
        return widget.validator().bottom(), widget.validator().top()
    return None


def spec_limits(spec) -> tuple:
    return spec.choices or ((spec.minimum, spec.maximum) if spec.minimum is not None else None)


@pytest.mark.parametrize("config_class", [TrainConfig, WithWarmup])
def test_every_field_is_made_from_its_setting(qtbot, config_class):
    panel = on_screen(qtbot, TrainingPanel("/data/mnist", config_class=config_class))
    offered = [(field, spec) for field, spec in settings_of(config_class) if spec.label]
    assert list(panel.fields) == ["optimizer", "lr", "epochs"] + [
        field.name for field, _ in offered if field.name not in ("optimizer", "lr", "epochs")]
    for field, spec in offered:
        widget = panel.fields[field.name]
        assert panel.form.labelForField(widget).text() == spec.label
        assert spec.help[1:] in widget.toolTip()
        assert spec.minimum is None or as_typed(spec.maximum) in widget.toolTip()
        if not isinstance(field.default, (bool, tuple)):
            assert limits(widget) == spec_limits(spec), field.name
    assert panel.config() == config_class(), "each field opens at its setting's default"
    assert "Warmup" not in [spec.label for _, spec in offered] or panel.fields["warmup"].value() == 3


def test_the_hidden_field_holds_the_settings_size_and_layer_limits(qtbot, panel):
    spec = next(spec for field, spec in settings_of(TrainConfig) if field.name == "hidden")
    type_text(qtbot, panel.hidden_field, ",".join([str(int(spec.maximum))] * spec.max_count))
    assert panel.config().hidden == (spec.maximum,) * spec.max_count
    type_text(qtbot, panel.hidden_field, ",".join(["8"] * spec.max_count) + ",9")
    assert panel.hidden_field.text() == ",".join(["8"] * spec.max_count) + "9", "no comma past the last layer"


def test_only_the_command_line_offers_the_init_and_the_validation_split(panel):
    assert [field.name for field, spec in settings_of(TrainConfig) if not spec.label] == ["init", "validation"]
    assert not {"init", "validation"} & set(panel.fields)


def test_config_maps_every_field(qtbot, panel):
    choose_optimizer(qtbot, panel, "momentum")
    type_text(qtbot, panel.lr_field, "2.5e-3")
    panel.epochs_box.setValue(7)
    panel.batch_box.setValue(128)
    panel.decay_box.setValue(0.9)
    panel.momentum_box.setValue(0.8)
    panel.seed_box.setValue(42)
    type_text(qtbot, panel.hidden_field, "100,50")
    assert not panel.augment_box.isChecked()
    qtbot.mouseClick(panel.augment_box, LEFT, pos=QPoint(6, panel.augment_box.height() // 2))  # on its box
    assert panel.config() == TrainConfig(optimizer="momentum", lr=0.0025, epochs=7, batch_size=128, lr_decay=0.9,
                                         momentum=0.8, seed=42, hidden=(100, 50), augment=True)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_apply_config_shows_a_config_that_config_gives_back(panel, optimizer):
    config = TrainConfig.for_optimizer(optimizer, lr=0.003, epochs=4, batch_size=16, lr_decay=0.95, momentum=0.5,
                                       beta1=0.8, beta2=0.99, eps=1e-8, seed=9, hidden=(30, 20, 10),
                                       augment=optimizer == "adam")
    panel.apply_config(config)
    assert panel.optimizer == optimizer
    assert panel.config() == config
    assert shown(panel, panel.momentum_box) == (optimizer == "momentum")
    assert shown(panel, panel.eps_field) == (optimizer == "adam")


def test_while_running_the_settings_are_locked_and_pause_stop_enabled(qtbot, panel):
    panel.set_running(True)
    for widget in (panel.optimizer_box, panel.epochs_box, panel.hidden_field, panel.augment_box,
                   panel.patience_box, panel.data_dir_field, panel.start_button, panel.race_button):
        assert not widget.isEnabled()
    assert panel.lr_field.isEnabled() and "Return" in panel.lr_field.toolTip(), "the rate steers the run"
    assert panel.pause_button.isEnabled() and panel.stop_button.isEnabled()
    assert panel.download_button.isEnabled(), "a download (its own thread) may go on beside a run"
    with qtbot.waitSignal(panel.pause_toggled) as blocker:
        qtbot.mouseClick(panel.pause_button, LEFT)
    assert blocker.args == [True] and panel.pause_button.text() == "Resume"
    with qtbot.waitSignal(panel.pause_toggled) as blocker:
        qtbot.mouseClick(panel.pause_button, LEFT)
    assert blocker.args == [False] and panel.pause_button.text() == "Pause"
    qtbot.mouseClick(panel.pause_button, LEFT)
    panel.set_running(False)  # a run that ends while paused leaves the button ready for the next one
    assert not panel.pause_button.isChecked() and panel.pause_button.text() == "Pause"
    assert panel.start_button.isEnabled() and panel.lr_field.isEnabled()


def test_the_buttons_emit_their_requests(qtbot, panel):
    for button, signal in ((panel.start_button, panel.start_requested),
                           (panel.race_button, panel.race_requested),
                           (panel.download_button, panel.download_requested),
                           (panel.browse_button, panel.browse_requested)):
        with qtbot.waitSignal(signal, timeout=1000):
            qtbot.mouseClick(button, LEFT)


def test_show_progress_reads_as_epoch_and_batch(panel):
    panel.show_progress(2, 5, 30, 60, 75.0)
    assert panel.progress.format() == "epoch 2/5 · batch 30/60"
    assert panel.progress.value() == int(1000 * (60 + 30) / 300)
    assert panel.progress_detail.text() == "1:15 left"
    panel.show_progress(1, 5, 1, 60, float("nan"))
    assert panel.progress_detail.text() == "– left"


def test_typing_a_folder_and_pressing_return_reports_it(qtbot, panel):
    with qtbot.waitSignal(panel.data_dir_field.editingFinished, timeout=1000):
        type_text(qtbot, panel.data_dir_field, "/somewhere/else")
        qtbot.keyClick(panel.data_dir_field, Qt.Key.Key_Return)
    assert panel.data_dir() == "/somewhere/else"


def test_a_hidden_size_the_field_accepts_is_one_a_run_takes(qtbot, panel):
    # TrainConfig takes 1-8192 units a layer: the field refuses the keystroke that would go past it.
    type_text(qtbot, panel.hidden_field, "9000")
    assert panel.hidden_field.text() == "900"
    assert panel.config().hidden == (900,)
    type_text(qtbot, panel.hidden_field, "8192,64")
    assert panel.config().hidden == (8192, 64)
    assert "8192" in panel.hidden_field.toolTip()


def test_patience_is_off_by_default_and_goes_into_the_config(qtbot, panel):
    assert panel.patience_box.value() == 0 and panel.patience_box.text() == "off"
    panel.patience_box.setValue(3)
    assert panel.config().patience == 3
    panel.set_running(True)
    assert not panel.patience_box.isEnabled() and panel.lr_field.isEnabled()
    with qtbot.waitSignal(panel.lr_change_requested) as requested:
        panel.lr_field.setText("0.002")
        qtbot.keyClick(panel.lr_field, Qt.Key.Key_Return)
    assert requested.args == [0.002]
