"""The train command's setting flags, made from TrainConfig's fields: name, type, choices, help and
the default shown in the help all come from the field and its Setting (core/engine/setting.py)."""

from __future__ import annotations

import argparse

from core.engine.config import OPTIMIZERS, TrainConfig, optimizer_defaults, parse_hidden
from core.engine.setting import settings_of, shown


def add_train_flags(parser: argparse.ArgumentParser, config_class=TrainConfig) -> None:
    """One flag per field of `config_class`; each defaults to None, so that an unset flag leaves the
    optimizer's own default (TrainConfig.for_optimizer) in place."""
    for field, spec in settings_of(config_class):
        options = {"dest": field.name, "default": None, "help": _help(field, spec)}
        if spec.choices:
            options.update(choices=spec.choices)
        elif isinstance(field.default, bool):
            options.update(action="store_true")
        elif isinstance(field.default, tuple):
            options.update(metavar=(spec.flag or field.name).upper())
        else:
            options.update(type=type(field.default), metavar=(spec.flag or field.name).upper())
        parser.add_argument(spec.flag_name(field.name), **options)


def config_from_flags(args: argparse.Namespace, config_class=TrainConfig):
    """The settings the flags give, over the defaults of the optimizer they choose."""
    values = {field.name: getattr(args, field.name) for field, _ in settings_of(config_class)}
    if values.get("hidden") is not None:
        values["hidden"] = parse_hidden(values["hidden"])
    return config_class.for_optimizer(values.pop("optimizer") or config_class().optimizer, **values)


def _help(field, spec) -> str:
    per_optimizer = optimizer_defaults(field.name)
    if isinstance(field.default, bool):
        return spec.help
    if per_optimizer and len(per_optimizer) < len(OPTIMIZERS):
        default = f"{shown(field.default)}; used by {' and '.join(per_optimizer)}"
    elif per_optimizer:
        default = "per optimizer: " + ", ".join(f"{name} {shown(value)}" for name, value in per_optimizer.items())
    else:
        default = shown(field.default)
    if isinstance(field.default, tuple):
        limits = f"; 1 to {spec.max_count} layers of {spec.range_text('-')} units"
    else:
        limits = f"; {spec.range_text(' to ')}" if spec.minimum is not None else ""
    return f"{spec.help} (default {default}{limits})"
