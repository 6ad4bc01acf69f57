"""What one training setting allows, written once beside its default.

TrainConfig's fields carry a `Setting` in their dataclass metadata; `TrainConfig.validate()` checks
each value against it, the command line builds its train flags and help from it (cli/train_flags.py)
and the window its training fields' ranges, defaults and tooltips (gui/training_panel.py). A limit
changed here changes all three.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    """A setting's limits (inclusive) and the words that describe it."""

    help: str  # one line: the command line's help and the window's tooltip
    minimum: float | None = None  # of the value, or of each size in a list of sizes
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""  # printed after a value in the help: "25 epochs"
    noun: str = ""  # how a message names it, when not its field name with spaces ("learning rate")
    flag: str = ""  # the command line's flag when not the field's name with dashes ("decay")
    label: str = ""  # the window's row; empty: only the command line offers the setting
    max_count: int = 0  # for a list of sizes: how many at most
    zero_means: str = ""  # what 0 stands for, when not a number of something ("off")

    def problem(self, name: str, value) -> str | None:
        """Why `value` is not allowed, in words a user can act on; None if it is."""
        noun = self.noun or name.replace("_", " ")
        if self.choices:
            return None if value in self.choices else f"{noun} must be one of {', '.join(self.choices)}"
        if isinstance(value, bool):
            return None
        if isinstance(value, tuple):
            if not 1 <= len(value) <= self.max_count or not all(self.allows(size) for size in value):
                return f"{noun} must be 1 to {self.max_count} layers of {self.range_text('-')} units each"
            return None
        return None if self.allows(value) else f"{noun} must be between {self.range_text()}"

    def allows(self, number) -> bool:
        return (isinstance(number, (int, float)) and math.isfinite(number)
                and self.minimum <= number <= self.maximum)

    def range_text(self, joiner: str = " and ") -> str:
        return f"{shown(self.minimum)}{joiner}{shown(self.maximum)}" + (f" {self.unit}" if self.unit else "")

    def flag_name(self, name: str) -> str:
        return "--" + (self.flag or name.replace("_", "-"))


def shown(value) -> str:
    """A value as a user types it: 2147483647 whole, 1e-07 short, a list of sizes comma-separated."""
    if isinstance(value, tuple):
        return ",".join(shown(size) for size in value)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return str(int(value)) if not isinstance(value, bool) else str(value).lower()
    return f"{value:g}" if isinstance(value, float) else str(value)


def setting(default, help: str, **limits):  # noqa: A002 (the word argparse uses)
    """A dataclass field whose default is `default` and whose metadata is a Setting."""
    return dataclasses.field(default=default, metadata={"setting": Setting(help=help, **limits)})


def settings_of(config_class) -> list[tuple[dataclasses.Field, Setting]]:
    """Every field of `config_class` with its Setting, in the class's order."""
    return [(field, field.metadata["setting"]) for field in dataclasses.fields(config_class)]
