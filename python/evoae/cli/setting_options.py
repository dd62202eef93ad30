"""Command-line options made from the settings table (evoae.evo.settings.SETTINGS): one
option per setting, with its type, range, choices and help, so that the CLI cannot disagree
with the core's checks or the Python keyword arguments."""
from __future__ import annotations

import argparse

from ..evo.settings import SETTINGS, Setting, bounds
from .arguments import int_at_least, number_at_least, positive_float

__all__ = ["add_setting_options", "given_setting_options"]

_GROUPS = {
    "strategy": "evolution (the defaults are the original loop of Varadi 2021)",
    "objective": "what is measured",
    "engine": "engine",
}


def _type(spec: Setting):
    if spec.type == "int":
        return int_at_least(*bounds(spec))
    if spec.min_exclusive and spec.min == 0:
        return positive_float
    return number_at_least(spec.min)


def add_setting_options(parser: argparse.ArgumentParser) -> None:
    """One option per command-line setting, grouped as the table groups them. Every option
    defaults to None (not given), so that the core resolves it; the help says the default."""
    groups = {key: parser.add_argument_group(title) for key, title in _GROUPS.items()}
    for spec in SETTINGS.values():
        if not spec.command_line:
            continue
        notes = [] if spec.default is None else [f"default: {spec.default}"]
        if spec.type == "int":
            notes.append("{:,} to {:,}".format(*bounds(spec)))
        note = f" ({'; '.join(notes)})" if notes else ""
        kwargs = dict(default=None, help=spec.help + note + "%(default).0s")
        if spec.type == "choice":
            kwargs["choices"] = list(spec.choices)
        else:
            kwargs["type"] = _type(spec)
        if spec.metavar:
            kwargs["metavar"] = spec.metavar
        groups[spec.group].add_argument(spec.option, **kwargs)


def given_setting_options(args: argparse.Namespace) -> dict:
    """The settings given on the command line, as Evolution keyword arguments."""
    return {name: getattr(args, name) for name, spec in SETTINGS.items()
            if spec.command_line and getattr(args, name, None) is not None}
