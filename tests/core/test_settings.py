"""Each TrainConfig field carries its limits (core/engine/setting.py) and validate() holds to them:
the limit itself is accepted, the nearest value past it refused, for every field the metadata lists."""

import dataclasses
import math

import pytest

from core.engine.config import TrainConfig
from core.engine.setting import settings_of
from core.errors import ConfigError

SETTINGS = settings_of(TrainConfig)
NUMBERS = [(field, spec) for field, spec in SETTINGS
           if spec.minimum is not None and not isinstance(field.default, tuple)]


def just_past(value, direction: float):
    return value + int(direction) if isinstance(value, int) else math.nextafter(float(value), direction * math.inf)


def test_every_field_carries_a_setting_whose_default_is_allowed():
    assert [field.name for field, _ in SETTINGS] == [field.name for field in dataclasses.fields(TrainConfig)]
    for field, spec in SETTINGS:
        assert spec.help and spec.problem(field.name, field.default) is None, field.name
        assert getattr(TrainConfig(), field.name) == field.default


@pytest.mark.parametrize(("field", "spec"), NUMBERS, ids=[field.name for field, _ in NUMBERS])
def test_validate_accepts_each_limit_and_refuses_just_past_it(field, spec):
    low, high = (type(field.default)(limit) for limit in (spec.minimum, spec.maximum))
    assert getattr(TrainConfig(**{field.name: low}), field.name) == low
    assert getattr(TrainConfig(**{field.name: high}), field.name) == high
    not_numbers = (math.nan, math.inf) if isinstance(field.default, float) else ()
    for past in (just_past(low, -1), just_past(high, +1), *not_numbers):
        with pytest.raises(ConfigError, match=(spec.noun or field.name.replace("_", " "))):
            TrainConfig(**{field.name: past})


def test_hidden_sizes_and_their_count_have_limits():
    spec = dict((field.name, spec) for field, spec in SETTINGS)["hidden"]
    assert TrainConfig(hidden=(int(spec.maximum),) * spec.max_count).hidden[0] == spec.maximum
    assert TrainConfig(hidden=(int(spec.minimum),)).hidden == (1,)
    for hidden in ((int(spec.maximum) + 1,), (0,), (8,) * (spec.max_count + 1), ()):
        with pytest.raises(ConfigError, match="hidden layers"):
            TrainConfig(hidden=hidden)


@pytest.mark.parametrize(("field", "spec"), [(field, spec) for field, spec in SETTINGS if spec.choices],
                         ids=[field.name for field, spec in SETTINGS if spec.choices])
def test_a_choice_outside_the_list_is_refused(field, spec):
    for choice in spec.choices:
        assert getattr(TrainConfig(**{field.name: choice}), field.name) == choice
    with pytest.raises(ConfigError, match=", ".join(spec.choices)):
        TrainConfig(**{field.name: spec.choices[0] + "x"})


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as raised:
        TrainConfig(epochs=0, seed=-1, augment=1)
    assert str(raised.value).count(";") == 2


@pytest.mark.parametrize("field, value", [("beta2", 0.99999), ("momentum", 0.99995), ("lr", 1e-9),
                                          ("eps", 1e-16), ("lr_decay", 0.0005)])
def test_a_file_written_before_the_limits_still_loads_and_resumes(field, value):
    """The limits are for new input; a saved run's rates need only be in their domain."""
    with pytest.raises(ConfigError):
        TrainConfig(**{field: value})  # typed into the CLI or the window: refused
    saved = {**TrainConfig().to_dict(), field: value}
    loaded = TrainConfig.from_dict(saved)
    assert getattr(loaded, field) == value
    assert getattr(loaded.replace(epochs=40), field) == value  # resumed for more epochs
    with pytest.raises(ConfigError, match="epochs"):
        loaded.replace(epochs=0)  # what the resume changes is checked as new input


@pytest.mark.parametrize("field, value", [("beta2", 1.0), ("lr", 0.0), ("eps", math.inf), ("lr_decay", 1.5)])
def test_a_file_with_a_rate_outside_its_domain_is_refused(field, value):
    with pytest.raises(ConfigError, match="(?i)" + (field.replace("_", " ") if field != "lr" else "learning rate")):
        TrainConfig.from_dict({**TrainConfig().to_dict(), field: value})


def test_what_a_replace_changes_is_checked_against_todays_limits():
    with pytest.raises(ConfigError, match="learning rate"):
        TrainConfig().replace(lr=1e6)
    with pytest.raises(ConfigError, match="beta2"):
        TrainConfig().replace(beta2=0.999999)
    assert TrainConfig().replace(lr=0.01).lr == 0.01
