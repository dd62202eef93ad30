"""Evolution of a population of genomes: the engine of the C++ core, one strategy (the
genetic algorithm, the original loop of Varadi (2021) by default) and one objective
(reconstruction of the images by default; classification with labels).

The generations run in C++ with the GIL released; run() is the one run loop of evoae.run,
which hands control back to Python a few times a second for progress and the stop
conditions. The settings (operators, fitness, mini-batches) are chosen by name from one table
(evoae.evo.settings.SETTINGS); `evoae run --help` says where each comes from.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

import numpy as np

from .. import _core
from ..io.checkpoint import CheckpointData, read_checkpoint, save_checkpoint
from ..data import require_finite
from ..nn.network import Network, check_genomes, check_images
from ..run import Every, Progress, Stop
from ..run import run as run_loop
from .settings import DEFAULT_SIGMA, OPERATORS, SETTINGS, given_settings

__all__ = ["Evolution", "Progress", "FullEvaluation", "OPERATORS", "DEFAULT_SIGMA"]


@dataclass(frozen=True)
class FullEvaluation:
    """The best agent measured on all samples (after mini-batches: the honest number)."""

    error: float  # fitness on all samples
    metric: float  # the objective's metric on all samples (mean |error| per pixel)

    @property
    def mae(self) -> float:
        return self.metric


class Evolution:
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
        self.network = network
        # Copies: changing the caller's arrays later must not change what is saved.
        self.images = check_images(network, images).copy()
        self.targets = None if targets is None else _check_targets(targets)
        self.labels = None if labels is None else _check_labels(labels)
        if self.targets is not None:
            _check_reachable(network, self.targets, "the targets")
        elif self.labels is None:
            _check_reachable(network, self.images, "the images to reconstruct")
        self.stop_reason: Optional[str] = None  # why the last run() stopped
        self._core = _core.Evolution(network, self.images, settings, targets=self.targets,
                                     labels=self.labels, state=state)
        for message in _setting_warnings(self._core.settings):
            warnings.warn(message, UserWarning, stacklevel=3)

    @classmethod
    def restore(cls, network: Network, images: np.ndarray, settings: dict, state: dict,
                threads: Optional[int] = None, targets: Optional[np.ndarray] = None,
                labels: Optional[np.ndarray] = None) -> "Evolution":
        """An Evolution that continues from `state` (state()) with its resolved `settings`
        (settings) and the same data; it goes on bit for bit as the one saved."""
        self = cls.__new__(cls)
        settings = given_settings(dict(settings, threads=threads))
        if "genomes" in state:  # from outside: a NaN weight would give finite nonsense
            state = dict(state, genomes=check_genomes(state["genomes"], "the state's genomes"))
        self._setup(network, images, settings, targets, labels, state)
        return self

    # -- state ------------------------------------------------------------------------------
    @property
    def settings(self) -> dict:
        """The settings with every default resolved (operator names, sigma, truncation, ...);
        None for those that do not act. Without threads: they do not change the run."""
        settings = self._core.settings
        settings.pop("threads")
        return settings

    @property
    def threads(self) -> Optional[int]:
        """The threads asked for (None: all cores, or OMP_NUM_THREADS)."""
        return self._core.settings["threads"]

    @property
    def generation(self) -> int:
        return self._core.generation

    @property
    def best_error(self) -> float:
        """Fitness of the best agent on this generation's images: by default the sum over
        images and pixels of |output - target|."""
        return self._core.best_error

    @property
    def best_metric(self) -> float:
        """The objective's metric of the best agent on this generation's samples (the
        mini-batch when there is one): mean |output - target| per pixel for reconstruction,
        the error rate for classification."""
        return self._core.best_metric

    @property
    def best_mae(self) -> float:
        """best_metric under its reconstruction name: mean |output - target| per pixel."""
        return self._core.best_metric

    @property
    def metric_name(self) -> str:
        """"MAE" (mean |error| per pixel) or "error rate" (classification)."""
        return self._core.metric_name

    def state(self) -> dict:
        """Everything besides the settings and the data that the run continues from: a dict
        of generation, genomes, errors, sigmas, sigma, history, evaluations."""
        return self._core.state()

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

    @property
    def evaluations(self) -> int:
        """(genome, image) forward passes done so far."""
        return self._core.evaluations

    def reconstructions(self) -> np.ndarray:
        """The best agent's outputs for the images."""
        return self.network.forward(self.best_genome, self.images)

    def evaluate_best_on_all_images(self) -> FullEvaluation:
        """The best agent's fitness and metric (mean |error| per pixel) on all samples (the
        same as best_error and best_metric unless mini-batches are on)."""
        return FullEvaluation(*self._core.evaluate_best_on_all_images())

    # -- checkpoints ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike, extra: Optional[dict] = None) -> None:
        """Write the complete state to `path` (atomically: the previous file survives a crash
        while writing). Evolution.load(path) continues the run bit for bit. `extra`: a
        JSON-serialisable dict kept with it (e.g. the command line's options)."""
        save_checkpoint(path, self, extra)

    @classmethod
    def load(cls, path: str | os.PathLike, images: Optional[np.ndarray] = None,
             network: Optional[Network] = None, threads: Optional[int] = None) -> "Evolution":
        """Continue a run saved with save(). `images` are needed only when the checkpoint
        holds a fingerprint of them instead of the images (large data sets) and must then be
        the same images; `network`, when given, must be the checkpoint's network. Raises
        ValueError for a damaged file, a different network or different images."""
        return cls.from_checkpoint(read_checkpoint(path, images=images, network=network),
                                   threads)

    @classmethod
    def from_checkpoint(cls, saved: CheckpointData, threads: Optional[int] = None
                        ) -> "Evolution":
        """The run a checkpoint read with evoae.io.checkpoint.read_checkpoint holds."""
        return cls.restore(saved.network, saved.images, saved.settings, saved.state, threads,
                           saved.targets, saved.labels)

    # -- running ----------------------------------------------------------------------------
    def step(self) -> None:
        """One generation."""
        self._core.step()

    def advance(self, max_generations: int, max_seconds: float, target_metric: float = -1.0,
                patience: int = 0) -> tuple:
        """Generations until one of these holds (checked after each generation); returns
        (generations done, reason). run() is the loop to use; this is its step."""
        return self._core.advance(max_generations, max_seconds, target_metric, patience)

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
        every: Iterable[Every] = (),
        stop_event=None,
    ) -> Progress:
        """Run generations until one stop condition holds: `generations` more generations,
        `seconds` of running, the best's metric (MAE per pixel) <= `target`, or `patience`
        generations without a new lowest best error, or `stop_event` (a threading.Event) is
        set. With none given it runs until the callback returns True. The callback gets a
        Progress every `interval` seconds. With `checkpoint` and `checkpoint_every`,
        save(checkpoint) every that many generations (extra from `checkpoint_extra()`);
        `every`: more evoae.run.Every actions. Returns the final Progress; `stop_reason` says
        which condition stopped it. (evoae.run.run is the loop.)"""
        if (checkpoint is None) != (checkpoint_every is None):
            raise ValueError("give checkpoint and checkpoint_every together")
        actions = list(every)
        if checkpoint_every is not None:
            if checkpoint_every < 1:
                raise ValueError(f"checkpoint_every must be >= 1, got {checkpoint_every}")
            actions.append(Every(checkpoint_every, lambda: self.save(
                checkpoint, checkpoint_extra() if checkpoint_extra else None)))
        return run_loop(self, Stop(generations, seconds, target, patience), callback,
                        interval, actions, stop_event)


def _check_targets(targets) -> np.ndarray:
    targets = np.asarray(targets)
    if targets.dtype.kind not in "biuf":
        raise TypeError(f"targets must be an array of numbers, got dtype {targets.dtype}")
    with np.errstate(over="ignore"):  # beyond float32's range: reported as inf
        targets = np.array(targets, dtype=np.float32)
    require_finite(targets, "targets")
    return targets


def _check_labels(labels) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers (class numbers), got dtype {labels.dtype}")
    if labels.size and labels.max() > np.iinfo(np.int32).max:  # would wrap in int32
        raise ValueError(f"labels must be class numbers, got {labels.max()}")
    return np.array(labels, dtype=np.int32)


# The values each output activation can reach (closed, as float32 rounds onto the ends).
_OUTPUT_RANGE = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, np.inf)}


def _check_reachable(network: Network, targets: np.ndarray, what: str) -> None:
    """Refuse targets outside the range of the network's output activation: they can never be
    reconstructed, and 0..255 pixels given as floats are the usual cause."""
    activations = [layer["activation"] for layer in network.layers if layer["activation"]]
    if not activations or activations[-1] not in _OUTPUT_RANGE:
        return
    low, high = _OUTPUT_RANGE[activations[-1]]
    least, most = float(targets.min()), float(targets.max())
    if least < low or most > high:
        raise ValueError(f"{what} range from {least:g} to {most:g}, but the network's output "
                         f"({activations[-1]}) lies in [{low:g}, {high:g}]: scale 0..255 "
                         f"pixels with evoae.data.scale(images)")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


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
    threads, cores = settings.get("threads"), _cores()
    if threads is not None and threads > cores:
        messages.append(f"threads {threads} is more than the {cores} cores this process may "
                        f"use: the run gets slower and uses more memory, not faster")
    return messages
