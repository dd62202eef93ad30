"""Evolutionary GANs as a system the run loop drives: a plain GAN, E-GAN (Wang et al. 2019)
and CE-GAN (Li et al. 2021) on evoae networks, the generators in SIMD lanes against one
discriminator (the core's EvolutionaryGan, gan/evolutionary_gan.h, says what a generation
does). A generation is what the run loop counts; best_error is the discriminator's loss on
its last batch and best_metric D(G(z)), the mean probability it gave that batch's fakes.

    net_g, net_d = toy_networks()
    gan = Gan(net_g, net_d, TOYS["grid"].sample(20000, seed=0), method="egan", seed=1)
    gan.run(generations=2000)
    points = gan.samples(2500, seed=3)

Both networks start Glorot-uniform (biases 0) from the seed; the same seed gives the same
run on any number of threads.
"""
from __future__ import annotations

import time
from typing import Optional

import numpy as np

from .. import _core
from ..data import require_finite
from ..nn.init import glorot_genome
from ..nn.network import Network
from ..system import System

__all__ = ["Gan", "METHODS", "toy_networks", "mnist_networks", "mnist_conv_networks"]

METHODS = ("gan", "egan", "cegan")


def toy_networks(noise: int = 8, width: int = 64) -> tuple:
    """Generator noise -> width -> width -> 2 (relu, then identity) and discriminator
    2 -> width -> width -> 1 logit."""
    g = Network(1, noise)
    g.dense(width, "relu")
    g.dense(width, "relu")
    g.dense(2, "identity")
    d = Network(1, 2)
    d.dense(width, "relu")
    d.dense(width, "relu")
    d.dense(1, "identity")
    return g, d


def mnist_networks(noise: int = 32, width: int = 128) -> tuple:
    """Generator noise -> width -> 784 sigmoid pixels, discriminator 28x28 -> width -> 1
    logit (relu between): small enough for minutes on two cores."""
    g = Network(1, noise)
    g.dense(width, "relu")
    g.dense(784, "sigmoid")
    d = Network(28, 28)
    d.dense(width, "relu")
    d.dense(1, "identity")
    return g, d


def mnist_conv_networks(noise: int = 32) -> tuple:
    """The convolutional pair evoae's layers allow (their convolutions are per channel, as
    in Varadi's network): generator noise -> 160 (relu) -> 4x4x10 -> unpool -> 5x5
    conv_transpose (relu) -> 12x12x10 -> unpool -> 5x5 conv_transpose summing the 10
    channels (sigmoid) -> 28x28; discriminator 28x28 -> 5x5 conv x4 (relu) -> maxpool ->
    5x5 conv x2 (relu) -> maxpool -> 4x4x8 -> 1 logit."""
    g = Network(1, noise)
    g.dense(160, "relu").reshape(4, 4, 10).unpool().conv_transpose(5, 5, 1, "relu")
    g.unpool().conv_transpose(5, 5, 10, "sigmoid")
    d = Network(28, 28)
    d.conv(5, 5, 4, "relu").maxpool().conv(5, 5, 2, "relu").maxpool().dense(1, "identity")
    return g, d


class Gan(System):
    """A GAN, E-GAN or CE-GAN (`method`) training `generator` against `discriminator` on
    `real` samples (S, ...) of the discriminator's input size. Settings (keywords) are those
    of the core's GanSettings: parents (mu), mutations (generator loss names: minimax,
    nonsaturating, least-squares), batch, eval_batch, d_steps, g_learning_rate,
    d_learning_rate, beta1, beta2, diversity_weight (lambda; 0: Fq alone), crossovers,
    comprehensive, threads. Out-of-range values raise ValueError naming the setting."""

    CHECKPOINT = "gan"
    TABLE: dict = {}

    def __init__(self, generator: Network, discriminator: Network, real, *,
                 method: str = "egan", seed: int = 0, threads: Optional[int] = None,
                 **settings):
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        real = np.asarray(real)
        if real.dtype.kind not in "biuf":
            raise TypeError(f"real samples must be numbers, got dtype {real.dtype}")
        real = np.ascontiguousarray(real, dtype=np.float32)
        require_finite(real, "real samples")
        if method == "gan":  # one generator on one loss
            settings.setdefault("mutations", ["nonsaturating"])
        rng = np.random.default_rng([seed, 7])
        g0, d0 = np.split(glorot_genome((generator, discriminator), rng), [generator.num_params])
        self.network, self.discriminator, self.method, self.seed = (generator, discriminator,
                                                                    method, seed)
        self._settings = dict(settings, method=method, seed=seed, threads=threads or 0)
        try:
            self._core = _core.EvolutionaryGan(generator, discriminator, real, g0, d0,
                                               **self._settings)
        except (TypeError, RuntimeError) as e:  # a wrong type of a setting
            raise ValueError(str(e)) from e
        self.records: list = []  # the core's record after each generation
        self.stop_reason: Optional[str] = None

    # -- what the run loop reads --------------------------------------------------------------
    @property
    def settings(self) -> dict:
        return dict(self._settings)

    @property
    def threads(self) -> Optional[int]:
        return self._settings["threads"] or None

    @property
    def generation(self) -> int:
        return self._core.generation

    @property
    def evaluations(self) -> int:
        """Samples generated so far."""
        return self._core.evaluations

    @property
    def record(self) -> dict:
        return self._core.record

    @property
    def best_error(self) -> float:
        return self._core.record["discriminator_loss"]

    @property
    def best_metric(self) -> float:
        return self._core.record["fake_score"]

    @property
    def metric_name(self) -> str:
        return "D(G(z))"

    @property
    def history(self) -> np.ndarray:
        """The discriminator's loss after each generation."""
        return np.array([r["discriminator_loss"] for r in self.records])

    @property
    def best_genome(self) -> np.ndarray:
        """The fittest generator of the last generation."""
        return self._core.generator_genome(0)

    @property
    def selected(self) -> dict:
        """Survivors so far by origin: each mutation's name, then "crossover"."""
        names = list(self._settings.get("mutations",
                                        ["nonsaturating", "least-squares", "minimax"]))
        return dict(zip(names + ["crossover"], self._core.selected))

    def advance(self, max_generations: int, max_seconds: float, target_metric: float = -1.0,
                patience: int = 0) -> tuple:
        """Generations until max_generations or max_seconds (a GAN has no target and no
        patience: its losses do not fall to a goal)."""
        start, done = time.perf_counter(), 0
        while done < max_generations:
            self._core.step(1)
            self.records.append(self._core.record)
            done += 1
            if time.perf_counter() - start >= max_seconds:
                return done, "seconds"
        return done, "generations"

    def samples(self, n: int, seed: int, parent: int = 0) -> np.ndarray:
        """n samples (n, generator output size) of a parent (0: the fittest) from seeded
        N(0, 1) noise."""
        size = int(np.prod(self.network.input_shape))
        noise = np.random.default_rng([seed, 11]).standard_normal((n, size)).astype(np.float32)
        return self._core.generate(parent, noise)

    def state(self) -> dict:
        raise NotImplementedError("GAN runs are not checkpointed")
