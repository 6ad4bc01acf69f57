"""Training settings: one frozen dataclass whose defaults are the seed project's values.

The GUI's fields, the CLI's flags and a saved model's metadata all map to `TrainConfig`;
nobody re-types a default.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from core.data.dataset import CLASS_COUNT, INPUT_SIZE  # noqa: F401 (the network's shape is the data's)
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
MAX_HIDDEN_LAYERS = 16  # in a file read: the window offers up to 6, the command line more


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run; the defaults reproduce the seed's Adam run."""

    optimizer: str = "adam"
    lr: float = 0.0005
    batch_size: int = 64
    epochs: int = 25
    lr_decay: float = 0.97
    momentum: float = 0.95
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-7
    seed: int = 1337
    hidden: tuple[int, ...] = field(default=(256, 128, 64))
    init: str = "he"
    validation: str = "seed"
    augment: bool = False  # distort the training images afresh each epoch (core/data/augment.py)
    patience: int = 0  # stop after this many epochs without a better validation accuracy (0: never)

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
        if not isinstance(self.augment, bool):
            raise ConfigError("augment must be true or false")
        self.validate()

    def validate(self) -> None:
        """Refuse settings that could only fail later, mid-run."""
        problems = []
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            problems.append("learning rate must be a positive number")
        if not 1 <= self.batch_size <= 60000:
            problems.append("batch size must be between 1 and 60000")
        if not 1 <= self.epochs <= MAX_EPOCHS:
            problems.append(f"epochs must be between 1 and {MAX_EPOCHS}")
        if not (0 < self.lr_decay <= 1):
            problems.append("LR decay must be in (0, 1]")
        for name in ("momentum", "beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                problems.append(f"{name} must be in [0, 1)")
        if not (math.isfinite(self.eps) and self.eps > 0):
            problems.append("eps must be a positive number")
        if not 0 <= self.seed < 2**31:
            problems.append("seed must be between 0 and 2^31 - 1")
        if not self.hidden or any(not 1 <= size <= MAX_HIDDEN_UNITS for size in self.hidden):
            problems.append(f"hidden layers must be 1 to {MAX_HIDDEN_UNITS} units each, at least one layer")
        if self.init not in INITS:
            problems.append(f"init must be one of {', '.join(INITS)}")
        if not 0 <= self.patience <= MAX_EPOCHS:
            problems.append(f"patience must be between 0 (off) and {MAX_EPOCHS} epochs")
        if self.validation not in VALIDATIONS:
            problems.append(f"validation must be one of {', '.join(VALIDATIONS)}")
        if problems:
            raise ConfigError("; ".join(problems))

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return (INPUT_SIZE, *self.hidden, CLASS_COUNT)

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)

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
        return cls(**typed)


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
