"""The train command's setting flags are made from TrainConfig's fields: one flag a field, its
default the config's (per optimizer where the seed had one), its help showing default and limits."""

import argparse
import dataclasses

import pytest

from cli.parser import build_parser
from cli.train_flags import add_train_flags, config_from_flags
from core.engine.config import OPTIMIZERS, TrainConfig
from core.engine.setting import setting, settings_of, shown
from core.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class WithWarmup(TrainConfig):
    """A config with one setting more, as a new field would add it."""

    warmup: int = setting(3, "epochs at a rising learning rate", minimum=0, maximum=9, label="Warmup")


def train_parser() -> argparse.ArgumentParser:
    return build_parser()._subparsers._group_actions[0].choices["train"]


def flag_actions(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {action.dest: action for action in parser._actions}


def test_every_setting_has_its_flag_with_unchanged_names():
    actions = flag_actions(train_parser())
    flags = {name: actions[name].option_strings[0] for name in (field.name for field, _ in settings_of(TrainConfig))}
    assert flags == {"optimizer": "--optimizer", "lr": "--lr", "batch_size": "--batch-size", "epochs": "--epochs",
                     "lr_decay": "--decay", "momentum": "--momentum", "beta1": "--beta1", "beta2": "--beta2",
                     "eps": "--eps", "seed": "--seed", "hidden": "--hidden", "init": "--init",
                     "validation": "--validation", "augment": "--augment", "patience": "--patience"}


@pytest.mark.parametrize("optimizer", [None, *OPTIMIZERS])
def test_no_flag_gives_the_configs_defaults(optimizer):
    argv = ["train"] + (["--optimizer", optimizer] if optimizer else [])
    expected = TrainConfig.for_optimizer(optimizer) if optimizer else TrainConfig()
    assert config_from_flags(build_parser().parse_args(argv)) == expected


def test_the_help_shows_each_default_and_limit():
    actions = flag_actions(train_parser())
    for field, spec in settings_of(TrainConfig):
        text = actions[field.name].help
        assert text.startswith(spec.help), field.name
        if not isinstance(field.default, bool):
            assert f"default {shown(field.default)}" in text or f"adam {shown(field.default)}" in text, text
        if spec.minimum is not None:
            assert shown(spec.minimum) in text and shown(spec.maximum) in text, text
    assert "sgd 0.005, momentum 0.001, adam 0.0005" in actions["lr"].help


def test_a_flag_at_its_limit_is_taken_and_past_it_refused():
    for field, spec in settings_of(TrainConfig):
        if spec.minimum is None or isinstance(field.default, tuple):
            continue
        flag = spec.flag_name(field.name)
        args = build_parser().parse_args(["train", flag, shown(spec.maximum)])
        assert getattr(config_from_flags(args), field.name) == spec.maximum
        past = shown(spec.maximum + 1 if isinstance(field.default, int) else spec.maximum * 1.01)
        with pytest.raises(ConfigError):
            config_from_flags(build_parser().parse_args(["train", flag, past]))


def test_hidden_sizes_are_parsed_and_checked():
    assert config_from_flags(build_parser().parse_args(["train", "--hidden", "32, 16"])).hidden == (32, 16)
    with pytest.raises(ConfigError, match="hidden"):
        config_from_flags(build_parser().parse_args(["train", "--hidden", "32,x"]))


def test_a_new_setting_gets_its_flag_help_and_default():
    parser = argparse.ArgumentParser()
    add_train_flags(parser, WithWarmup)
    assert "--warmup" in parser.format_help() and "(default 3; 0 to 9)" in parser.format_help()
    assert config_from_flags(parser.parse_args([]), WithWarmup) == WithWarmup()
    assert config_from_flags(parser.parse_args(["--warmup", "9"]), WithWarmup).warmup == 9
    with pytest.raises(ConfigError, match="warmup"):
        config_from_flags(parser.parse_args(["--warmup", "10"]), WithWarmup)
