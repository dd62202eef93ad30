"""The settings of a run, as the C++ core declares them (evo/settings.h): one table gives each
setting's type, range, default and help. The core checks the values; Evolution's keyword
arguments, `evoae run`'s options and describe() are made from this table. The helpers take
any such table: backpropagation's (evoae.train.settings.TRAIN_SETTINGS) is another."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import _core

__all__ = ["Setting", "SETTINGS", "OPERATORS", "DEFAULT_SIGMA", "bounds", "describe",
           "given_settings", "settings_table"]


@dataclass(frozen=True)
class Setting:
    name: str  # the keyword; the CLI option is --name with '-' for '_'
    type: str  # "int", "float" or "choice"
    group: str  # "strategy", "objective" or "engine"
    min: float  # the smallest value a user may give (exclusive when min_exclusive)
    min_exclusive: bool
    max: float
    choices: tuple  # for "choice": the names, the default first
    default: Any  # None: resolved from the other settings (the help says how)
    metavar: str
    command_line: bool  # offered as a command-line option
    help: str
    per_network: bool = False  # may also be a list: one value per network trained at once

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")


def settings_table(specs: list, per_network: tuple = ()) -> dict[str, Setting]:
    """Every setting of a core's table (a list of spec dicts) by name, in the table's order;
    those named in `per_network` also take a list of one value per network."""
    return {spec["name"]: Setting(**{**spec, "choices": tuple(spec["choices"])},
                                  per_network=spec["name"] in per_network)
            for spec in specs}


#: Every setting of evolution by name, in the table's order.
SETTINGS: dict[str, Setting] = settings_table(_core.setting_specs())

#: The valid names of each kind of operator, the default (the original loop's) first.
OPERATORS: dict[str, list] = {name: list(s.choices) for name, s in SETTINGS.items()
                              if s.type == "choice" and s.group == "strategy"}
OPERATORS["fitness"] = list(SETTINGS["fitness"].choices)

#: sigma when none is given, per mutation kind (reset and zero have no step size).
DEFAULT_SIGMA: dict[str, float] = {m: _core.default_sigma(m) for m in OPERATORS["mutation"]}


def given_settings(values: dict, table: dict[str, Setting] = SETTINGS) -> dict:
    """The settings among `values` that were given (None means not given), their numbers
    checked against what the core can receive; the core refuses unknown names and values
    outside the `table`'s ranges."""
    given = {k: v for k, v in values.items() if v is not None}
    for name, value in given.items():
        if name in table:  # a per-network setting's list: each value
            for one in value if isinstance(value, (list, tuple)) else (value,):
                _check_number(table[name], one)
    return given


#: The core's integers are 64-bit: no setting may exceed this, whatever its table max.
_INT64_MAX = 2**63 - 1


def bounds(spec: Setting) -> tuple:
    """A numeric setting's (smallest, largest) value, as ints for an integer setting (the
    largest is math.inf for a real one without a bound)."""
    if spec.type == "int":
        return int(spec.min), min(int(spec.max), _INT64_MAX)
    return spec.min, spec.max


def _check_number(spec: Setting, value) -> None:
    """Refuses here what the core could not even receive: integers beyond 64 bits, reals
    beyond a double; the core checks everything else and names the setting the same way."""
    if spec.type == "int" and isinstance(value, int) and not isinstance(value, bool):
        low, high = bounds(spec)
        if not low <= value <= high:
            raise ValueError(f"{spec.name} must be >= {low} and <= {high}, got {value}")
    elif spec.type == "float" and isinstance(value, int) and abs(value) > _INT64_MAX:
        try:
            float(value)
        except OverflowError:
            raise ValueError(f"{spec.name} must be finite, got an integer too large for a "
                             f"float") from None


def _text(value) -> str:
    if isinstance(value, (list, tuple)):  # per-network values
        return ",".join(map(_text, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe(settings: dict, skip: tuple = ("seed", "threads", "population", "mutations"),
             table: dict[str, Setting] = SETTINGS, plain: str = "the original loop") -> str:
    """The settings of `table` that differ from their defaults, e.g. 'mutation gaussian, step
    control self-adaptive, tau 0.0189', or `plain` when none does."""
    parts = []
    for name, spec in table.items():
        value = settings.get(name)
        if name in skip or value is None:
            continue
        default = spec.default
        if name == "sigma":
            default = DEFAULT_SIGMA.get(settings.get("mutation"), default)
        if value == default:  # a setting without a default has a value only when it acts
            continue
        parts.append(f"{name.replace('_', ' ')} {_text(value)}")
    return ", ".join(parts) if parts else plain
