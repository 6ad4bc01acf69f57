"""Training settings: one frozen dataclass whose defaults are the seed project's values.

The GUI's fields, the CLI's flags and a saved model's metadata all map to `TrainConfig`, and each
field carries its own limits and help: nobody re-types a default or a range.
"""

from __future__ import annotations

import contextvars
import dataclasses
import math
from dataclasses import dataclass

from core.data.dataset import CLASS_COUNT, INPUT_SIZE  # noqa: F401 (the network's shape is the data's)
from core.engine.setting import setting, settings_of
from core.errors import ConfigError

OPTIMIZERS = ("sgd", "momentum", "adam")
INITS = ("he", "asm")  # He-uniform as the seed's README says; sqrt(2/fan_in) as its code does
VALIDATIONS = ("seed", "holdout")  # test 9000-9999 (the seed's, leaks into test) or held-out train

# The seed's per-optimizer settings (asm-mlp-readme.txt, NOTES.md).
OPTIMIZER_DEFAULTS: dict[str, dict[str, float]] = {
    "sgd": {"lr": 0.005},
    "momentum": {"lr": 0.001, "momentum": 0.95},
    "adam": {"lr": 0.0005, "beta1": 0.9, "beta2": 0.999, "eps": 1e-7},
}

SEED_VALIDATION_RANGE = (9000, 10000)
HOLDOUT_SIZE = 5000
MAX_HIDDEN_UNITS = 8192
MAX_EPOCHS = 10000
MAX_HIDDEN_LAYERS = 16
MAX_BATCH_SIZE = 60000  # MNIST's training set
MAX_DECAY_RATE = 0.9999  # momentum and Adam's betas: below 1, and what the window's four decimals show
# What files written before the limits above (which are for new input: the CLI's flags, the
# window's fields) may hold and still load and resume: each rate only in its mathematical domain.
FILE_DOMAINS = {
    "lr": ("a positive number", lambda value: math.isfinite(value) and value > 0),
    "eps": ("a positive number", lambda value: math.isfinite(value) and value > 0),
    "lr_decay": ("in (0, 1]", lambda value: 0 < value <= 1),
    "momentum": ("in [0, 1)", lambda value: 0 <= value < 1),
    "beta1": ("in [0, 1)", lambda value: 0 <= value < 1),
    "beta2": ("in [0, 1)", lambda value: 0 <= value < 1),
}
_from_a_file = contextvars.ContextVar("from_a_file", default=False)  # set while from_dict/replace build one


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run; the defaults reproduce the seed's Adam run.

    Each field's metadata holds its limits and help (core/engine/setting.py): validate() checks
    them, and the command line's flags and the window's fields are made from them.
    """

    optimizer: str = setting("adam", "the update rule; choosing one fills in the seed project's settings for it",
                             choices=OPTIMIZERS, label="Optimizer")
    lr: float = setting(0.0005, "learning rate of the first epoch (e.g. 0.0005 or 5e-4)",
                        minimum=1e-7, maximum=1e4, noun="learning rate", label="Learning rate")
    batch_size: int = setting(64, "images per gradient step; the last partial batch of an epoch is dropped",
                              minimum=1, maximum=MAX_BATCH_SIZE, unit="images", label="Batch size")
    epochs: int = setting(25, "passes over the training set", minimum=1, maximum=MAX_EPOCHS, label="Epochs")
    lr_decay: float = setting(0.97, "the learning rate is multiplied by this after each epoch; 1: no decay",
                              minimum=0.001, maximum=1.0, noun="LR decay", flag="decay", label="LR decay")
    momentum: float = setting(0.95, "momentum's beta: v <- beta v + g",
                              minimum=0.0, maximum=MAX_DECAY_RATE, label="Momentum β")
    beta1: float = setting(0.9, "Adam's decay of the mean gradient",
                           minimum=0.0, maximum=MAX_DECAY_RATE, label="Adam β1")
    beta2: float = setting(0.999, "Adam's decay of the mean squared gradient",
                           minimum=0.0, maximum=MAX_DECAY_RATE, label="Adam β2")
    eps: float = setting(1e-7, "Adam's epsilon, added to the root of v", minimum=1e-12, maximum=1.0, label="Adam ε")
    seed: int = setting(1337, "seed of the LCG that draws the initial weights and shuffles each epoch",
                        minimum=0, maximum=2**31 - 1, label="Seed")
    hidden: tuple[int, ...] = setting((256, 128, 64), "hidden-layer sizes, comma-separated",
                                      minimum=1, maximum=MAX_HIDDEN_UNITS, max_count=MAX_HIDDEN_LAYERS,
                                      noun="hidden layers", label="Hidden layers")
    init: str = setting("he", "he: sqrt(6/fan_in) as the seed's README; asm: sqrt(2/fan_in) as its assembly",
                        choices=INITS)
    validation: str = setting("seed", f"seed: test images {SEED_VALIDATION_RANGE[0]}-{SEED_VALIDATION_RANGE[1] - 1}, "
                                      f"as the seed; holdout: the last {HOLDOUT_SIZE} training images",
                              choices=VALIDATIONS)
    augment: bool = setting(False, "distort the training images afresh each epoch (shifts, rotations, scaling, "
                                   "shear, elastic distortion, stroke thickness): drawn digits then read better",
                            label="Images")  # core/data/augment.py
    patience: int = setting(0, "stop after this many epochs without a better validation accuracy and keep the best "
                               "epoch's weights; 0: off, train every epoch",
                            minimum=0, maximum=MAX_EPOCHS, unit="epochs", zero_means="off", label="Patience")

    @classmethod
    def for_optimizer(cls, optimizer: str, **overrides) -> TrainConfig:
        """The seed's defaults for `optimizer`, then `overrides` (None values are ignored)."""
        optimizer = optimizer.lower()
        if optimizer not in OPTIMIZERS:
            raise ConfigError(f"unknown optimizer {optimizer!r}: choose one of {', '.join(OPTIMIZERS)}")
        values = dict(OPTIMIZER_DEFAULTS[optimizer])
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(optimizer=optimizer, **values)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(size) for size in self.hidden))
        self.validate()

    def validate(self) -> None:
        """Refuse settings that could only fail later, mid-run: each field against its Setting's
        limits (a config read from a file, or derived from one: its rates only within FILE_DOMAINS)."""
        problems = []
        lenient = _from_a_file.get()
        for field, spec in settings_of(type(self)):
            value = getattr(self, field.name)
            if isinstance(field.default, bool) and not isinstance(value, bool):
                problems.append(f"{field.name} must be true or false")
            elif lenient and field.name in FILE_DOMAINS:
                words, allowed = FILE_DOMAINS[field.name]
                if not (isinstance(value, (int, float)) and allowed(value)):
                    problems.append(f"{spec.noun or field.name.replace('_', ' ')} must be {words}")
            elif problem := spec.problem(field.name, value):
                problems.append(problem)
        if problems:
            raise ConfigError("; ".join(problems))

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return (INPUT_SIZE, *self.hidden, CLASS_COUNT)

    def replace(self, **changes) -> TrainConfig:
        """A copy with `changes`: the rates it keeps are checked as a file's (a run saved before
        today's limits can still be resumed for more epochs), the values it changes against
        today's limits."""
        token = _from_a_file.set(True)
        try:
            config = dataclasses.replace(self, **changes)
        finally:
            _from_a_file.reset(token)
        specs = dict((field.name, spec) for field, spec in settings_of(type(self)))
        problems = [problem for name in changes if name in specs
                    and (problem := specs[name].problem(name, getattr(config, name)))]
        if problems:  # what changes is new input: today's limits
            raise ConfigError("; ".join(problems))
        return config

    def to_dict(self) -> dict:
        values = dataclasses.asdict(self)
        values["hidden"] = list(self.hidden)
        return values

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """Settings read from a file: a value of the wrong type (a string, a bool for a number, a
        fraction for a count) is a ConfigError, like one out of range; unknown keys are ignored."""
        if not isinstance(values, dict):
            raise ConfigError(f"settings must be a JSON object, not {type(values).__name__}")
        typed = {field.name: _typed_setting(field.name, values[field.name], field.default)
                 for field in dataclasses.fields(cls) if field.name in values}
        token = _from_a_file.set(True)
        try:
            return cls(**typed)
        finally:
            _from_a_file.reset(token)


def optimizer_defaults(name: str) -> dict[str, float]:
    """The seed's value of setting `name` for each optimizer that has its own ({} if none has)."""
    return {optimizer: values[name] for optimizer, values in OPTIMIZER_DEFAULTS.items() if name in values}


def _typed_setting(name: str, value, default):
    """`value` if it has the type of the setting's default (ints accepted for floats), else ConfigError."""
    def wrong(expected: str) -> ConfigError:
        return ConfigError(f"{name} must be {expected}, not {type(value).__name__} {str(value)[:40]!r}")

    if isinstance(default, bool):  # a switch (augment): true or false, not 0 or "yes"
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if isinstance(value, bool):
        raise wrong("a number" if not isinstance(default, str) else "text")
    if isinstance(default, str):
        if not isinstance(value, str):
            raise wrong("text")
        return value
    if isinstance(default, int):
        if not isinstance(value, int):
            raise wrong("an integer")
        return value
    if isinstance(default, float):
        if not isinstance(value, (int, float)):
            raise wrong("a number")
        try:
            return float(value)
        except OverflowError:
            raise wrong("a number in range") from None
    if isinstance(value, (list, tuple)) and len(value) <= MAX_HIDDEN_LAYERS and all(
            isinstance(size, int) and not isinstance(size, bool) for size in value):
        return tuple(value)
    raise wrong(f"a list of at most {MAX_HIDDEN_LAYERS} integers")


def parse_hidden(text: str) -> tuple[int, ...]:
    """'256,128,64' -> (256, 128, 64), with a message a user can act on."""
    try:
        sizes = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise ConfigError(f"hidden sizes must be comma-separated integers, got {text!r}") from None
    if not sizes:
        raise ConfigError("give at least one hidden layer size, e.g. 256,128,64")
    return sizes
