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
