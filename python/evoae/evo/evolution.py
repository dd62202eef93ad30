"""Evolution of a population of genomes: the engine of the C++ core, one strategy (the
genetic algorithm, the original loop of Varadi (2021) by default) and one objective
(reconstruction of the images by default; classification with labels).

The generations run in C++ with the GIL released; run() is the one run loop of evoae.run,
which hands control back to Python a few times a second for progress and the stop
conditions. The settings (operators, fitness, mini-batches) are chosen by name from one table
(evoae.evo.settings.SETTINGS); `evoae run --help` says where each comes from.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from .. import _core
from ..nn.network import Network
from ..run import Progress
from ..system import FullEvaluation, System, thread_warnings
from .settings import DEFAULT_SIGMA, OPERATORS, SETTINGS, given_settings

__all__ = ["Evolution", "Progress", "FullEvaluation", "OPERATORS", "DEFAULT_SIGMA"]


class Evolution(System):
    """Evolve genomes of `network` to reconstruct `images` (float32 (S, H, W), already scaled),
    or, with `targets`, to map the images to them (float32 (S, ...) of the network's output
    size), or, with `labels` (int (S,)), to classify them (the network's outputs are one logit
    per class; fitness: softmax cross-entropy; metric: the error rate).

    With the defaults, the original loop: each generation the best agent is copied into all;
    `mutations` indices, drawn once and shared, get U(-1, 1) added in agents 1..population-1;
    agent 0 stays the unchanged best, so `best_error` never rises. Random numbers derive from
    (seed, purpose, generation, agent), so a run is the same for any number of threads
    (`threads=None`: all cores, or OMP_NUM_THREADS).

    Operators (keyword arguments; OPERATORS lists the names):
      mutation: "original" (shared indices, U(-1, 1) added), "per-agent" (own indices),
        "gaussian" (sigma * N(0, 1) on k own indices, Such et al. 2017), "gaussian-all"
        (on every weight, Such et al. 2017), "reset" (k weights get a new U(-1, 1) value),
        "zero" (k weights set to 0, David & Greental 2014). `mutations` is k.
      sigma: the step size (scales U(-1, 1) or N(0, 1)); default DEFAULT_SIGMA[mutation].
      step_control: "fixed"; "schedule" (sigma -> sigma_end geometrically, k -> mutations_end
        linearly, over schedule_generations); "one-fifth" (Rechenberg's 1/5 success rule);
        "self-adaptive" (each agent carries its sigma, children multiply it by
        exp(tau N(0, 1)), Schwefel; tau default 1/sqrt(2 * parameters)).
      crossover: "none", "uniform" (each weight from either parent), "layer" (each layer
        from either parent); needs a selection with more than one parent.
      selection: "copy-best" (every child from the best, the original), "truncation" (each
        child from one of the `truncation` best, Such et al. 2017; default max(2, P/5)),
        "tournament" (best of `tournament_size` random agents, default 3).
      elites: agents passed on unchanged (and not evaluated again); the original keeps 1.
      fitness: "sae" (sum of |error|, the original), "mse", "rmse".
      batch: evaluate each generation on a new seeded random subset of this many images
        (mini-batch fitness); evaluate_best_on_all_images() gives the full measure.
      strategy: "ga" (the genetic algorithm: the operators above), or an evolution strategy
        that samples every agent anew around its `mean` each generation: "cma-es",
        "sep-cma-es", "snes", "openai-es", "lm-ma-es", "xnes", "pgpe" (sigma: the initial
        step size; learning_rate: openai-es's Adam step, pgpe's ClipUp step; weight_decay:
        openai-es's L2). The GA's operators do not apply to them.
      gradient_steps: memetic evolution, each measured agent first takes this many
        gradient steps (gradient_optimizer, gradient_rate, gradient_loss) on the
        generation's samples; memetic: "lamarckian" (the learned weights become the genome)
        or "baldwinian" (only the fitness is theirs; best_genome is the learned weights).
    Every keyword is a setting of evoae.evo.settings.SETTINGS (its help says more); values
    are checked by the core, which raises ValueError naming the setting.

    The images are one (H, W) or many (S, H, W), copied; uint8 pixels, NaN or infinite
    values, and (for reconstruction) targets outside the range of the network's output
    activation (0..255 pixels for a sigmoid) raise ValueError. A UserWarning says when
    nothing can change (population 1; no mutations and no crossover) or when threads exceed
    the machine's cores.
    """

    CHECKPOINT = "evolution"
    TABLE = SETTINGS

    def __init__(
        self,
        network: Network,
        images: np.ndarray,
        population: int = SETTINGS["population"].default,
        mutations: int = SETTINGS["mutations"].default,
        seed: int = SETTINGS["seed"].default,
        threads: Optional[int] = None,
        *,
        targets: Optional[np.ndarray] = None,
        labels: Optional[np.ndarray] = None,
        **settings,
    ):
        if labels is not None:  # a classifier unless told otherwise
            settings.setdefault("objective", "classification")
            settings.setdefault("fitness", "cross-entropy")
        given = given_settings(dict(settings, population=population, mutations=mutations,
                                    seed=seed, threads=threads))
        self._setup(network, images, given, targets, labels, state=None)

    def _setup(self, network: Network, images, settings: dict, targets, labels,
               state: Optional[dict]) -> None:
        self._set_data(network, images, targets, labels)
        self._core = _core.Evolution(network, self.images, settings, targets=self.targets,
                                     labels=self.labels, state=state)
        self._warn(_setting_warnings(self._core.settings))

    # -- state ------------------------------------------------------------------------------
    @property
    def best_genome(self) -> np.ndarray:
        return self._core.best_genome

    @property
    def population(self) -> np.ndarray:
        """All genomes, float32 (population, num_params)."""
        return self._core.population

    @property
    def errors(self) -> np.ndarray:
        """Error of every agent after the last generation."""
        return self._core.errors

    @property
    def sigmas(self) -> np.ndarray:
        """The step size each agent was made with (its own, under self-adaptation)."""
        return self._core.sigmas

    @property
    def sigma(self) -> float:
        """The shared step size of the 1/5 success rule (its initial value otherwise)."""
        return self._core.sigma

    @property
    def mean(self) -> Optional[np.ndarray]:
        """An evolution strategy's distribution mean as a float32 genome (not measured:
        best_genome is the generation's best sample); None for the genetic algorithm."""
        return self._core.mean

    @property
    def improved_at(self) -> int:
        """The generation that reached the lowest best error so far (for patience)."""
        return self._core.improved_at

    @property
    def batch(self) -> np.ndarray:
        """Indices of this generation's images; empty when every generation uses all."""
        return self._core.batch

    @property
    def images_per_generation(self) -> int:
        """Images each generation is measured on: the batch size, or all images."""
        return self._core.images_per_generation

    def step(self) -> None:
        """One generation."""
        self._core.step()


def _setting_warnings(settings: dict) -> list:
    """Warnings for settings under which nothing can change, or that only slow the run."""
    messages = []
    if settings["population"] == 1:
        messages.append("population 1: there are no children, so nothing can change: the "
                        "run keeps its first random genome")
    elif (settings["mutations"] == 0 and not settings.get("mutations_end")
          and settings["mutation"] != "gaussian-all" and settings["crossover"] == "none"):
        messages.append("mutations 0 and no crossover: every child is a copy of its parent, "
                        "so nothing can change")
    return messages + thread_warnings(settings)
