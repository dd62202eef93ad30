"""Training by backpropagation: the Python face of the core's Trainer (train/trainer.h), driven
by the one run loop (evoae.run) as an Evolution is: a step is what a generation is there.

Every step the optimiser (Adam, AdamW or SGD with momentum) moves every network along the
gradient of the mean loss over the last step's images (all training images, or a seeded
mini-batch), and the new weights are measured on the next step's images. Several networks
train at once, one per SIMD lane, each with its own initial weights and its own per-network
settings (learning rate, momentum, betas, weight decay); best_genome is the one with the
lowest loss. A held-out part of the images (`holdout`) is never trained on.
"""
from __future__ import annotations

import inspect
from typing import Optional

import numpy as np

from .. import _core
from ..evo.settings import given_settings
from ..nn.network import Network, check_genomes
from ..system import FullEvaluation, System, thread_warnings
from .settings import TRAIN_SETTINGS

__all__ = ["Trainer", "PARTS"]

#: The parts of the images evaluate() measures on.
PARTS = ("all", "train", "holdout")


class Trainer(System):
    """Train `network` by backpropagation to reconstruct `images` (float32 (S, H, W), already
    scaled), or, with `targets`, to map the images to them (float32 (S, ...) of the network's
    output size), or, with `labels` (int (S,)), to classify them (one output, a logit, per
    class; the loss defaults to softmax-ce and the metric is the error rate).

    `genomes`: (networks, num_params) to start from (e.g. an evolution's population, or a
    result's genome as one row); by default `init` draws them from the seed. Every other
    keyword is a setting of evoae.train.settings.TRAIN_SETTINGS (its help says more):
      networks: trained at once, one per SIMD lane, all on the same images.
      loss: "mae" (mean |error| per value, the default), "sae" (its sum over an image's
        values, the paper's fitness), "mse", "bce", "softmax-ce"; a mean over the images.
      optimizer: "adam" (default), "adamw", "sgd" (with momentum); learning_rate, momentum,
        beta1, beta2, epsilon, weight_decay: its settings; learning_rate, momentum, beta1,
        beta2 and weight_decay take one value, or a list of one per network.
      batch: images per step, a new seeded subset of the training images each step (default:
        all of them); holdout: the fraction of the images held out of training (a seeded
        choice), measured by evaluate(part="holdout").
      init: "uniform" (U(-1, 1), as an evolution's agents) or "glorot".
      seed, threads: the same seed gives the same run on any number of threads.
    Values are checked by the core, which raises ValueError naming the setting. The images,
    targets and labels are checked as Evolution checks them.
    """

    CHECKPOINT = "backprop"
    TABLE = TRAIN_SETTINGS

    def __init__(self, network: Network, images: np.ndarray, *,
                 targets: Optional[np.ndarray] = None, labels: Optional[np.ndarray] = None,
                 genomes: Optional[np.ndarray] = None, **settings):
        if labels is not None:  # a classifier unless told otherwise
            settings.setdefault("loss", "softmax-ce")
        self._setup(network, images, given_settings(settings, TRAIN_SETTINGS), targets, labels,
                    None, genomes)

    def _setup(self, network: Network, images, settings: dict, targets, labels,
               state: Optional[dict], genomes=None) -> None:
        self._set_data(network, images, targets, labels)
        if genomes is not None:  # from outside: a NaN weight would give finite nonsense
            genomes = check_genomes(genomes, "genomes")
        self._core = _core.Trainer(network, self.images, settings, targets=self.targets,
                                   labels=self.labels, genomes=genomes, state=state)
        self._warn(thread_warnings(self._core.settings))

    # -- state ------------------------------------------------------------------------------
    @property
    def best_genome(self) -> np.ndarray:
        """The parameters of the network with the lowest loss on the last step's images."""
        return self._core.best_genome()

    @property
    def genomes(self) -> np.ndarray:
        """Every network's parameters, float32 (networks, num_params)."""
        return self._core.genomes()

    @property
    def best_index(self) -> int:
        """The network with the lowest loss on the last step's images (ties: the first)."""
        return self._core.best_index

    @property
    def losses(self) -> np.ndarray:
        """Every network's mean loss on the last step's images."""
        return self._core.losses

    @property
    def metrics(self) -> np.ndarray:
        """Every network's metric (MAE per pixel, or error rate) on the last step's images."""
        return self._core.metrics

    @property
    def improved_at(self) -> int:
        """The step that reached the lowest best loss so far (for patience)."""
        return self._core.improved_at

    @property
    def num_train(self) -> int:
        """Images trained on: all but the held-out ones."""
        return self._core.num_train

    @property
    def num_holdout(self) -> int:
        """Images held out of training."""
        return self._core.num_holdout

    @property
    def images_per_generation(self) -> int:
        """Images each step is measured on: the batch size, or all training images."""
        return self.settings["batch"] or self.num_train

    def evaluate(self, genome: Optional[np.ndarray] = None, part: str = "all"
                 ) -> FullEvaluation:
        """The mean loss (FullEvaluation.error) and the metric of `genome` (num_params,)
        (default: the best) on the "all", "train" or "holdout" images."""
        if part not in PARTS:
            raise ValueError(f"part must be one of {', '.join(PARTS)}, got {part!r}")
        if part == "holdout" and not self.num_holdout:
            raise ValueError("part 'holdout': no images are held out (setting holdout)")
        if genome is not None:
            genome = check_genomes(genome)
        return FullEvaluation(*self._core.evaluate(genome, part))

    def evaluate_best_on_all_images(self) -> FullEvaluation:
        """The best's mean loss and metric on all images (held-out ones included)."""
        return self.evaluate()

    # -- running ----------------------------------------------------------------------------
    def step(self) -> None:
        """One optimiser step of every network."""
        self._core.step()


def _signature() -> inspect.Signature:
    """Trainer's keywords as the table declares them, for help() and inspect: the data, then
    every setting with its default (None: resolved by the core)."""
    parameters = list(inspect.signature(Trainer.__init__).parameters.values())[:-1]
    parameters += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=spec.default)
                   for name, spec in TRAIN_SETTINGS.items()]
    return inspect.Signature(parameters)


Trainer.__init__.__signature__ = _signature()
