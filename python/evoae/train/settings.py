"""The settings of training by backpropagation, as the C++ core declares them
(train/settings.h): one table gives each setting's type, range, default and help, as
evoae.evo.settings.SETTINGS does for evolution. The core checks the values; Trainer's keyword
arguments and `evoae train`'s options are made from this table."""
from __future__ import annotations

from .. import _core
from ..evo.settings import Setting, settings_table

__all__ = ["TRAIN_SETTINGS", "PER_NETWORK", "LOSSES"]

#: The settings that take one value for every network or a list of one per network.
PER_NETWORK: tuple = tuple(_core.train_per_network_settings())

#: Every training setting by name, in the table's order.
TRAIN_SETTINGS: dict[str, Setting] = settings_table(_core.train_setting_specs(), PER_NETWORK)

#: The losses a trainer minimises, the default first.
LOSSES: list = list(_core.loss_names())
