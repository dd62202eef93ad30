"""Evolution of a population of genomes, the original loop of Varadi (2021) by default.

The generations run in C++ with the GIL released; `run` hands control back to Python a few
times a second to report progress and check the stop conditions. The operators (mutation,
step-size control, crossover, selection, elites, fitness, mini-batches) are chosen by name;
OPERATORS lists the names and `evoae run --help` says where each comes from.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from .. import _core
from ..nn.network import Network

__all__ = ["Evolution", "Progress", "FullEvaluation", "OPERATORS", "DEFAULT_SIGMA"]

#: The valid names of each kind of operator, the default (the original loop's) first.
OPERATORS: dict = {kind: list(names) for kind, names in _core.operator_names().items()}

#: sigma when none is given: U(-1, 1) steps as in the original for the uniform kinds; for
#: Gaussian noise on a few weights about the same spread (on the ten digits sigma 0.5 on one
#: weight did as well as 1 and better than 0.1 or 0.3 on more); noise on all 1397 weights at
#: once must be far smaller.
DEFAULT_SIGMA = {"original": 1.0, "per-agent": 1.0, "gaussian": 0.5, "gaussian-all": 0.01,
                 "reset": 1.0, "zero": 1.0}


@dataclass(frozen=True)
class Progress:
    """What the run() callback receives after each slice of generations."""

    generation: int
    best_error: float  # the fitness of the best: by default the sum of |output - target| over
    # all images and pixels (the paper's error)
    best_mae: float  # mean |output - target| per pixel of the best (on this generation's images)
    evals_per_second: float  # (genome, image) forward passes per second since run() started
    elapsed: float  # seconds since run() started


@dataclass(frozen=True)
class FullEvaluation:
    """The best agent measured on all images (after mini-batches: the honest number)."""

    error: float  # fitness on all images
    mae: float  # mean |output - target| per pixel on all images


class Evolution:
    """Evolve genomes of `network` to reconstruct `images` (float32 (S, H, W), already scaled).

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
    """

    def __init__(
        self,
        network: Network,
        images: np.ndarray,
        population: int = 20,
        mutations: int = 10,
        seed: int = 0,
        threads: Optional[int] = None,
        *,
        mutation: str = "original",
        sigma: Optional[float] = None,
        step_control: str = "fixed",
        sigma_end: Optional[float] = None,
        mutations_end: Optional[int] = None,
        schedule_generations: Optional[int] = None,
        tau: Optional[float] = None,
        crossover: str = "none",
        selection: str = "copy-best",
        truncation: Optional[int] = None,
        tournament_size: Optional[int] = None,
        elites: int = 1,
        fitness: str = "sae",
        batch: Optional[int] = None,
    ):
        images = _check_images(images)
        if population < 1:
            raise ValueError(f"population must be >= 1, got {population}")
        if mutations < 0:
            raise ValueError(f"mutations must be >= 0, got {mutations}")
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        if mutation not in DEFAULT_SIGMA:
            raise ValueError(f"unknown mutation {mutation!r}: choose "
                             f"{', '.join(OPERATORS['mutation'])}")
        if sigma is not None and mutation in ("reset", "zero"):
            raise ValueError(f"mutation {mutation!r} has no step size: sigma does not apply")
        if sigma is not None and not (sigma > 0 and math.isfinite(sigma)):
            raise ValueError(f"sigma must be > 0, got {sigma}")
        if sigma_end is not None and not (sigma_end > 0 and math.isfinite(sigma_end)):
            raise ValueError(f"sigma_end must be > 0, got {sigma_end}")
        if mutations_end is not None and mutations_end < 0:
            raise ValueError(f"mutations_end must be >= 0, got {mutations_end}")
        if tau is not None and not (tau > 0 and math.isfinite(tau)):
            raise ValueError(f"tau must be > 0, got {tau}")
        for name, value in (("truncation", truncation), ("tournament_size", tournament_size),
                            ("batch", batch), ("schedule_generations", schedule_generations)):
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        settings = dict(
            population=population, mutations=mutations, seed=seed, mutation=mutation,
            sigma=DEFAULT_SIGMA[mutation] if sigma is None else float(sigma),
            step_control=step_control,
            sigma_end=0.0 if sigma_end is None else float(sigma_end),
            mutations_end=-1 if mutations_end is None else mutations_end,
            schedule_generations=0 if schedule_generations is None else schedule_generations,
            tau=0.0 if tau is None else float(tau),
            crossover=crossover, selection=selection,
            truncation=0 if truncation is None else truncation,
            tournament_size=0 if tournament_size is None else tournament_size,
            elites=elites, fitness=fitness, batch=0 if batch is None else batch,
        )
        self._setup(network, images, settings, threads, state=None)

    def _setup(self, network: Network, images: np.ndarray, settings: dict,
               threads: Optional[int], state: Optional[dict]) -> None:
        self.network = network
        self.images = images
        self.population_size = settings["population"]
        self.mutations = settings["mutations"]
        self.seed = settings["seed"]
        self.stop_reason: Optional[str] = None  # why the last run() stopped
        self._core = _core.Evolution(network, images, threads=threads or 0, state=state,
                                     **settings)
        self._pixels = images[0].size

    @classmethod
    def restore(cls, network: Network, images: np.ndarray, settings: dict, state: dict,
                threads: Optional[int] = None) -> "Evolution":
        """The run with these resolved `settings` in `state` (as state() gives it)."""
        self = cls.__new__(cls)
        self._setup(network, _check_images(images), settings, threads, state)
        return self

    # -- state ------------------------------------------------------------------------------
    def state(self) -> dict:
        """What restore() continues from: generation, genomes, errors, sigmas, sigma, history,
        evaluations."""
        return self._core.state()

    @property
    def settings(self) -> dict:
        """The settings with every default resolved (operator names, sigma, truncation, ...)."""
        return self._core.settings

    @property
    def generation(self) -> int:
        return self._core.generation

    @property
    def best_error(self) -> float:
        """Fitness of the best agent on this generation's images: by default the sum over
        images and pixels of |output - target|."""
        return self._core.best_error

    @property
    def best_mae(self) -> float:
        """Mean |output - target| per pixel for the best agent (on this generation's images:
        the mini-batch when there is one)."""
        return self._core.best_mae

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
    def history(self) -> np.ndarray:
        """Best error after each generation, starting with the random population (generation 0)."""
        return self._core.history

    @property
    def sigmas(self) -> np.ndarray:
        """The step size each agent was made with (its own, under self-adaptation)."""
        return self._core.sigmas

    @property
    def sigma(self) -> float:
        """The shared step size of the 1/5 success rule (its initial value otherwise)."""
        return self._core.sigma

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

    @property
    def evaluations(self) -> int:
        """(genome, image) forward passes done so far."""
        return self._core.evaluations

    def reconstructions(self) -> np.ndarray:
        """The best agent's outputs for the images."""
        return self.network.forward(self.best_genome, self.images)

    def evaluate_best_on_all_images(self) -> FullEvaluation:
        """The best agent's fitness and mean |error| per pixel on all images (the same as
        best_error and best_mae unless mini-batches are on)."""
        return FullEvaluation(*self._core.evaluate_best_on_all_images())

    # -- checkpoints ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike, extra: Optional[dict] = None) -> None:
        """Write the complete state to `path` (atomically: the previous file survives a crash
        while writing). Evolution.load(path) continues the run bit for bit. `extra`: a
        JSON-serialisable dict kept with it (e.g. the command line's options)."""
        from ..io.checkpoint import save_checkpoint

        save_checkpoint(path, self, extra)

    @classmethod
    def load(cls, path: str | os.PathLike, images: Optional[np.ndarray] = None,
             network: Optional[Network] = None, threads: Optional[int] = None) -> "Evolution":
        """Continue a run saved with save(). `images` are needed only when the checkpoint
        holds a fingerprint of them instead of the images (large data sets) and must then be
        the same images; `network`, when given, must be the checkpoint's network. Raises
        ValueError for a damaged file, a different network or different images."""
        from ..io.checkpoint import read_checkpoint

        saved = read_checkpoint(path, images=images, network=network)
        return cls.restore(saved.network, saved.images, saved.settings, saved.state, threads)

    # -- running ----------------------------------------------------------------------------
    def step(self) -> None:
        """One generation."""
        self._core.step()

    def run(
        self,
        generations: Optional[int] = None,
        seconds: Optional[float] = None,
        target: Optional[float] = None,
        callback: Optional[Callable[[Progress], Optional[bool]]] = None,
        interval: float = 0.25,
        patience: Optional[int] = None,
        checkpoint: Optional[str | os.PathLike] = None,
        checkpoint_every: Optional[int] = None,
        checkpoint_extra: Optional[Callable[[], dict]] = None,
    ) -> Progress:
        """Run generations until one stop condition holds: `generations` more generations,
        `seconds` of wall time, best MAE per pixel <= `target`, or `patience` generations
        without a new lowest best error. With none given it runs until the callback returns
        True. The callback gets a Progress every `interval` seconds (at the end of the
        generation running then). With `checkpoint` and `checkpoint_every`, save(checkpoint)
        every that many generations (extra from `checkpoint_extra()`). Returns the final
        Progress; `stop_reason` says which condition stopped it."""
        if (generations is None and seconds is None and target is None and patience is None
                and callback is None):
            raise ValueError("give generations, seconds, target, patience or a callback, "
                             "or it never stops")
        if generations is not None and generations < 0:
            raise ValueError(f"generations must be >= 0, got {generations}")
        if seconds is not None and seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {seconds}")
        if patience is not None and patience < 1:
            raise ValueError(f"patience must be >= 1, got {patience}")
        if not interval > 0:
            raise ValueError(f"interval must be > 0, got {interval}")
        if (checkpoint is None) != (checkpoint_every is None):
            raise ValueError("give checkpoint and checkpoint_every together")
        if checkpoint_every is not None and checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be >= 1, got {checkpoint_every}")
        settings = self.settings
        target_error, target_mae = -1.0, -1.0
        if target is not None:
            if settings["fitness"] == "sae" and settings["batch"] == 0:
                target_error = target * len(self.images) * self._pixels
            else:
                target_mae = target
        start, evals0, done = time.perf_counter(), self.evaluations, 0
        self.stop_reason = None

        def progress() -> Progress:
            elapsed = time.perf_counter() - start
            rate = (self.evaluations - evals0) / elapsed if elapsed > 0 else 0.0
            return Progress(self.generation, self.best_error, self.best_mae, rate, elapsed)

        report = progress()
        while True:
            left = float("inf") if seconds is None else seconds - report.elapsed
            gens_left = 2**62 if generations is None else generations - done
            if gens_left <= 0 or left <= 0:
                self.stop_reason = "generations" if gens_left <= 0 else "seconds"
                return report
            chunk = gens_left
            if checkpoint_every is not None:  # stop at the next checkpoint generation
                chunk = min(chunk, checkpoint_every - self.generation % checkpoint_every)
            n, reason = self._core.advance_until(chunk, min(left, interval), target_error,
                                                 target_mae, patience or 0)
            done += n
            if checkpoint_every is not None and n > 0 and self.generation % checkpoint_every == 0:
                self.save(checkpoint, checkpoint_extra() if checkpoint_extra else None)
            report = progress()
            stop = callback is not None and callback(report)
            if reason in ("target", "patience"):
                self.stop_reason = reason
                return report
            if stop:
                self.stop_reason = "callback"
                return report


def _check_images(images) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[None]
    if images.dtype == np.uint8:
        raise ValueError("images are uint8: scale them first with evoae.data.scale(images)")
    return np.ascontiguousarray(images, dtype=np.float32)
