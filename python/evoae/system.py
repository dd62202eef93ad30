"""What the Python faces of evoae's training systems share (evoae.Evolution, evoae.Trainer):
the checks of the objective's data, what every system reports to the run loop, run() through
the one loop (evoae.run) with checkpoints, and save/load through the one checkpoint format.

A system subclasses System: it sets CHECKPOINT (its name in checkpoints) and TABLE (its
settings table), and defines best_genome and _setup(network, images, settings, targets,
labels, state), which calls _set_data() and makes `self._core` (the core's object: settings,
generation, best_error, best_metric, metric_name, history, evaluations, state(), advance(),
evaluate_best_on_all_images()) from the settings, new or continuing from `state`.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

import numpy as np

from .data import require_finite
from .io.checkpoint import CheckpointData, read_checkpoint, save_checkpoint
from .nn.network import Network, check_genomes, check_images
from .run import Every, Progress, Stop
from .run import run as run_loop

__all__ = ["System", "FullEvaluation", "check_targets", "check_labels", "thread_warnings"]


@dataclass(frozen=True)
class FullEvaluation:
    """The best measured on all samples (after mini-batches: the honest number)."""

    error: float  # fitness (loss) on all samples
    metric: float  # the objective's metric on all samples (mean |error| per pixel)

    @property
    def mae(self) -> float:
        return self.metric


class System:
    """The Python face of a system the run loop drives (see the module's text)."""

    CHECKPOINT: str  # the system's name in its checkpoints
    TABLE: dict  # its settings table (name -> evoae.evo.settings.Setting)

    def _set_data(self, network: Network, images, targets, labels) -> None:
        """Checks and keeps the objective's data: the images (S, H, W) for the network's
        input, and the targets (reconstruction of other outputs) or the labels
        (classification) when given."""
        self.network = network
        # Copies: changing the caller's arrays later must not change what is saved.
        self.images = check_images(network, images).copy()
        self.targets = None if targets is None else check_targets(targets)
        self.labels = None if labels is None else check_labels(labels)
        if self.targets is not None:
            _check_reachable(network, self.targets, "the targets")
        elif self.labels is None:
            _check_reachable(network, self.images, "the images to reconstruct")
        self.stop_reason: Optional[str] = None  # why the last run() stopped

    @staticmethod
    def _warn(messages: list) -> None:
        for message in messages:  # at the caller of the constructor (or of load)
            warnings.warn(message, UserWarning, stacklevel=4)

    @classmethod
    def restore(cls, network: Network, images: np.ndarray, settings: dict, state: dict,
                threads: Optional[int] = None, targets: Optional[np.ndarray] = None,
                labels: Optional[np.ndarray] = None) -> "System":
        """The system that continues from `state` (state()) with its resolved `settings`
        (settings) and the same data; it goes on bit for bit as the one saved."""
        from .evo.settings import given_settings  # evoae.evo imports this module

        self = cls.__new__(cls)
        settings = given_settings(dict(settings, threads=threads), cls.TABLE)
        if "genomes" in state:  # from outside: a NaN weight would give finite nonsense
            state = dict(state, genomes=check_genomes(state["genomes"], "the state's genomes"))
        self._setup(network, images, settings, targets, labels, state)
        return self

    # -- what the run loop and the results read ---------------------------------------------
    @property
    def settings(self) -> dict:
        """The settings with every default resolved; None for those that do not act. Without
        threads: they do not change the run."""
        settings = self._core.settings
        settings.pop("threads")
        return settings

    @property
    def threads(self) -> Optional[int]:
        """The threads asked for (None: all cores, or OMP_NUM_THREADS)."""
        return self._core.settings["threads"]

    @property
    def generation(self) -> int:
        """Generations (or steps) done."""
        return self._core.generation

    @property
    def best_error(self) -> float:
        """Fitness (loss) of the best on this generation's (step's) samples."""
        return self._core.best_error

    @property
    def best_metric(self) -> float:
        """The objective's metric of the best on this generation's (step's) samples: mean
        |output - target| per pixel for reconstruction, the error rate for classification."""
        return self._core.best_metric

    @property
    def best_mae(self) -> float:
        """best_metric under its reconstruction name: mean |output - target| per pixel."""
        return self._core.best_metric

    @property
    def metric_name(self) -> str:
        """"MAE" (mean |error| per pixel) or "error rate" (classification)."""
        return self._core.metric_name

    @property
    def history(self) -> np.ndarray:
        """The best's fitness (loss) after each generation (step), the start first."""
        return self._core.history

    @property
    def evaluations(self) -> int:
        """(genome, image) passes done so far."""
        return self._core.evaluations

    def state(self) -> dict:
        """Everything besides the settings and the data that the run continues from."""
        return self._core.state()

    def reconstructions(self) -> np.ndarray:
        """The best's outputs for the images."""
        return self.network.forward(self.best_genome, self.images)

    def evaluate_best_on_all_images(self) -> FullEvaluation:
        """The best's fitness (loss) and metric on all samples."""
        return FullEvaluation(*self._core.evaluate_best_on_all_images())

    # -- checkpoints ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike, extra: Optional[dict] = None) -> None:
        """Write the complete state to `path` (atomically: the previous file survives a crash
        while writing). load(path) continues the run bit for bit. `extra`: a
        JSON-serialisable dict kept with it (e.g. the command line's options)."""
        save_checkpoint(path, self, extra)

    @classmethod
    def load(cls, path: str | os.PathLike, images: Optional[np.ndarray] = None,
             network: Optional[Network] = None, threads: Optional[int] = None) -> "System":
        """Continue a run saved with save(). `images` are needed only when the checkpoint
        holds a fingerprint of them instead of the images (large data sets) and must then be
        the same images; `network`, when given, must be the checkpoint's network. Raises
        ValueError for a damaged file, another system's checkpoint, a different network or
        different images."""
        return cls.from_checkpoint(read_checkpoint(path, images=images, network=network,
                                                   system=cls.CHECKPOINT), threads)

    @classmethod
    def from_checkpoint(cls, saved: CheckpointData, threads: Optional[int] = None) -> "System":
        """The run a checkpoint read with evoae.io.checkpoint.read_checkpoint holds."""
        if saved.system != cls.CHECKPOINT:
            raise ValueError(f"the checkpoint is of {saved.system}, not of {cls.CHECKPOINT}")
        return cls.restore(saved.network, saved.images, saved.settings, saved.state, threads,
                           saved.targets, saved.labels)

    # -- running ----------------------------------------------------------------------------
    def advance(self, max_generations: int, max_seconds: float, target_metric: float = -1.0,
                patience: int = 0) -> tuple:
        """Generations (steps) until one of these holds (checked after each); returns
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
        """Run generations (steps) until one stop condition holds: `generations` more,
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


def check_targets(targets) -> np.ndarray:
    """Targets from outside as float32, refused when not numbers or not finite."""
    targets = np.asarray(targets)
    if targets.dtype.kind not in "biuf":
        raise TypeError(f"targets must be an array of numbers, got dtype {targets.dtype}")
    with np.errstate(over="ignore"):  # beyond float32's range: reported as inf
        targets = np.array(targets, dtype=np.float32)
    require_finite(targets, "targets")
    return targets


def check_labels(labels) -> np.ndarray:
    """Class numbers from outside as int32, refused when not integers."""
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


def thread_warnings(settings: dict) -> list:
    """A warning when the threads asked for exceed the cores: that only slows the run."""
    threads, cores = settings.get("threads"), _cores()
    if threads is not None and threads > cores:
        return [f"threads {threads} is more than the {cores} cores this process may use: "
                f"the run gets slower and uses more memory, not faster"]
    return []
