"""Command-line options made from a settings table (evoae.evo.settings.SETTINGS for `evoae
run`, evoae.train.settings.TRAIN_SETTINGS for `evoae train`): one option per setting, with its
type, range, choices and help, so that the CLI cannot disagree with the core's checks or the
Python keyword arguments."""
from __future__ import annotations

import argparse

from ..evo.settings import SETTINGS, Setting, bounds
from .arguments import comma_separated, int_at_least, number_at_least, positive_float

__all__ = ["add_setting_options", "given_setting_options", "EVOLUTION_GROUPS"]

#: The option groups of `evoae run`: the table's group names and their titles.
EVOLUTION_GROUPS = {
    "strategy": "evolution (the defaults are the original loop of Varadi 2021)",
    "objective": "what is measured",
    "engine": "engine",
}


def _type(spec: Setting):
    if spec.type == "int":
        parse = int_at_least(*bounds(spec))
    elif spec.min_exclusive and spec.min == 0:
        parse = positive_float
    else:
        parse = number_at_least(spec.min)
    return comma_separated(parse) if spec.per_network else parse


def add_setting_options(parser: argparse.ArgumentParser,
                        table: dict[str, Setting] = SETTINGS,
                        groups: dict[str, str] = EVOLUTION_GROUPS) -> None:
    """One option per command-line setting of `table`, grouped as the table groups them
    (`groups`: group name -> title). Every option defaults to None (not given), so that the
    core resolves it; the help says the default."""
    groups = {key: parser.add_argument_group(title) for key, title in groups.items()}
    for spec in table.values():
        if not spec.command_line:
            continue
        notes = [] if spec.default is None else [f"default: {spec.default}"]
        if spec.type == "int":
            notes.append("{:,} to {:,}".format(*bounds(spec)))
        if spec.per_network:
            notes.append("or one per network, comma-separated")
        note = f" ({'; '.join(notes)})" if notes else ""
        kwargs = dict(default=None, help=spec.help + note + "%(default).0s")
        if spec.type == "choice":
            kwargs["choices"] = list(spec.choices)
        else:
            kwargs["type"] = _type(spec)
        if spec.metavar:
            kwargs["metavar"] = spec.metavar
        groups[spec.group].add_argument(spec.option, **kwargs)


def given_setting_options(args: argparse.Namespace,
                          table: dict[str, Setting] = SETTINGS) -> dict:
    """The settings of `table` given on the command line, as keyword arguments (of Evolution
    for SETTINGS)."""
    return {name: getattr(args, name) for name, spec in table.items()
            if spec.command_line and getattr(args, name, None) is not None}
