"""Coevolved encoders and decoders with activation-guided pruning (Lipizzaner-AE: Hemberg,
Toutouh and O'Reilly, GECCO 2024; Jorgensen, Hemberg, Toutouh and O'Reilly, GECCO 2025): the
Python face of the core's Coevolution (coevo/coevolution.h), driven by the one run loop
(evoae.run) as a Trainer is: a generation is an epoch.

A ring (or torus) of cells each holds a centre, an encoder and a decoder of one dense
autoencoder. Every epoch each cell evaluates every encoder x decoder pair of its neighbourhood
on a batch, a binary tournament picks a pair, Adam trains it for a pass over the data, a
pruning operator may zero some of its weights (random, variance or conjunctive, with a
schedule), and it becomes the centre. Canonical training (Canonical, systems/canonical.py) is
the one-cell case with a step decay of the learning rate. The answer is the centre with the
lowest loss on the training samples; test_loss() measures it on other samples.
"""
from __future__ import annotations

import inspect
from typing import Optional

import numpy as np

from .. import _core
from ..evo.settings import given_settings, settings_table
from ..nn.network import Network, check_images
from ..system import FullEvaluation, System, thread_warnings

__all__ = ["Coevolution", "COEVO_SETTINGS", "autoencoder_network", "neighbourhood"]

#: Every coevolution setting by name, in the table's order (coevo/settings.h).
COEVO_SETTINGS = settings_table(_core.coevo_setting_specs())


def autoencoder_network(input_shape: tuple, sizes: tuple) -> tuple:
    """(network, encoder_layers): the dense autoencoder of `sizes` (inputs, hidden ..., code),
    e.g. (1000, 30, 10): encoder 1000-30-10 and its mirror decoder 10-30-1000, ReLU inside and
    at the code, a sigmoid at the output (the papers' networks). input_shape: (height, width)
    with height * width == sizes[0]."""
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes must be at least two sizes >= 1, got {sizes}")
    height, width = input_shape
    if height * width != sizes[0]:
        raise ValueError(f"sizes must start with the input size {height * width} "
                         f"({height}x{width}), got {sizes[0]}")
    net = Network(height, width)
    for units in sizes[1:] + sizes[-2:0:-1]:
        net.dense(units, "relu")
    net.dense(sizes[0], "sigmoid")
    return net, len(sizes) - 1


def neighbourhood(cell: int, cells: int, radius: int = 1, topology: str = "ring",
                  torus_rows: int = 0) -> list:
    """The cells of `cell`'s neighbourhood, the centre first (coevo/topology.h)."""
    return list(_core.coevo_neighbourhood(topology, cells, radius, torus_rows, cell))


class Coevolution(System):
    """Coevolution of the dense autoencoder `network` (an input layer and dense layers; the
    first `encoder_layers` dense layers are the encoder, see autoencoder_network) on
    `samples` (S, H, W), each its own target, values in the output's range. Every other
    keyword is a setting of COEVO_SETTINGS (its help says more): method, cells, topology,
    radius, torus_rows, update, epochs (T of the schedules), batch, learning_rate, beta1,
    beta2, adam, lr_mutation, lr_decay, lr_decay_every, pruning, schedule,
    prune_probability, prune_amount, variance_direction, conjunctive_cases,
    conjunctive_threshold, seed, threads. The core checks the values and raises ValueError
    naming the setting."""

    CHECKPOINT = "coevolution"
    TABLE = COEVO_SETTINGS
    METHOD: Optional[str] = None  # a subclass's fixed method

    def __init__(self, network: Network, samples: np.ndarray, *, encoder_layers: int,
                 **settings):
        if self.METHOD is not None:
            if settings.get("method", self.METHOD) != self.METHOD:
                raise ValueError(f"{type(self).__name__} is method '{self.METHOD}', got "
                                 f"method={settings['method']!r}")
            settings["method"] = self.METHOD
        self._set_data(network, samples, None, None)
        self.encoder_layers = encoder_layers
        self._core = _core.Coevolution(network, encoder_layers, self.images,
                                       given_settings(settings, COEVO_SETTINGS))
        self._warn(thread_warnings(self._core.settings))

    # -- state ------------------------------------------------------------------------------
    @property
    def best_genome(self) -> np.ndarray:
        """The centre with the lowest loss on all training samples."""
        return self._core.best_genome()

    def genome(self, cell: int) -> np.ndarray:
        """Cell `cell`'s centre, float32 (num_params,)."""
        return self._core.genome(cell)

    @property
    def cells(self) -> int:
        return self._core.cells

    @property
    def encoder_size(self) -> int:
        """Parameters of the encoder: a genome's first encoder_size values."""
        return self._core.encoder_size

    @property
    def losses(self) -> np.ndarray:
        """Every centre's mean L1 loss on all training samples."""
        return self._core.losses

    @property
    def learning_rates(self) -> np.ndarray:
        """Every cell's learning rate (mutated after each visit in coevolution)."""
        return self._core.learning_rates

    @property
    def records(self) -> dict:
        """Per epoch, the start first: best_loss (the best centre's training loss),
        best_kept (its fraction of nonzero dense parameters), mean_kept (that fraction's
        mean over the centres), prunes (prunes done in the epoch)."""
        return self._core.records()

    def test_loss(self, samples: np.ndarray, genome: Optional[np.ndarray] = None) -> float:
        """The mean L1 loss of `genome` (default: the best centre) on other samples (S, H, W)."""
        samples = check_images(self.network, samples)
        return self._core.loss_on(self.best_genome if genome is None else genome, samples)

    def evaluate_best_on_all_images(self) -> FullEvaluation:
        """The best centre's loss and MAE on all training samples (measured every epoch)."""
        return FullEvaluation(self.best_error, self.best_metric)

    def state(self) -> dict:
        raise NotImplementedError("coevolution runs cannot be checkpointed yet: run them to "
                                  "the end (they are seeded, so a rerun gives the same result)")


def _signature() -> inspect.Signature:
    """The keywords as the table declares them, for help() and inspect."""
    parameters = list(inspect.signature(Coevolution.__init__).parameters.values())[:-1]
    parameters += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=spec.default)
                   for name, spec in COEVO_SETTINGS.items()]
    return inspect.Signature(parameters)


Coevolution.__init__.__signature__ = _signature()
