"""Evolution of a population of genomes, the original loop of Varadi (2021) by default.

The generations run in C++ with the GIL released; `run` hands control back to Python a few
times a second to report progress and check the stop conditions.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from . import _core
from .network import Network

__all__ = ["Evolution", "Progress"]



@dataclass(frozen=True)
class Progress:
    """What the run() callback receives after each slice of generations."""

    generation: int
    best_error: float  # sum of |output - target| over all images and pixels (the paper's error)
    best_mae: float  # the same, as a mean per pixel
    evals_per_second: float  # (genome, image) forward passes per second since run() started
    elapsed: float  # seconds since run() started


class Evolution:
    """Evolve genomes of `network` to reconstruct `images` (float32 (S, H, W), already scaled).

    The original loop: each generation the best agent is copied into all; `mutations` indices,
    drawn once and shared, get U(-1, 1) added in agents 1..population-1; agent 0 stays the
    unchanged best, so `best_error` never rises. Random numbers derive from (seed, generation,
    agent), so a run is the same for any number of threads (`threads=None`: all cores, or
    OMP_NUM_THREADS).
    """

    def __init__(
        self,
        network: Network,
        images: np.ndarray,
        population: int = 20,
        mutations: int = 10,
        seed: int = 0,
        threads: Optional[int] = None,
    ):
        images = np.asarray(images)
        if images.ndim == 2:
            images = images[None]
        if images.dtype == np.uint8:
            raise ValueError("images are uint8: scale them first with evoae.data.scale(images)")
        if population < 1:
            raise ValueError(f"population must be >= 1, got {population}")
        if mutations < 0:
            raise ValueError(f"mutations must be >= 0, got {mutations}")
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.network = network
        self.images = np.ascontiguousarray(images, dtype=np.float32)
        self.population_size = population
        self.mutations = mutations
        self.seed = seed
        self._core = _core.Evolution(network, self.images, population, mutations, seed, threads or 0)
        self._pixels = self.images[0].size

    # -- state ------------------------------------------------------------------------------
    @property
    def generation(self) -> int:
        return self._core.generation

    @property
    def best_error(self) -> float:
        """Sum over images and pixels of |output - target| for the best agent."""
        return self._core.best_error

    @property
    def best_mae(self) -> float:
        """Mean |output - target| per pixel for the best agent."""
        return self.best_error / (len(self.images) * self._pixels)

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
    def evaluations(self) -> int:
        """(genome, image) forward passes done so far."""
        return self._core.evaluations

    def reconstructions(self) -> np.ndarray:
        """The best agent's outputs for the images."""
        return self.network.forward(self.best_genome, self.images)

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
    ) -> Progress:
        """Run generations until one stop condition holds: `generations` more generations,
        `seconds` of wall time, or best MAE per pixel <= `target`. With none given it runs until
        the callback returns True. The callback gets a Progress every `interval` seconds (at the
        end of the generation running then). Returns the final Progress."""
        if generations is None and seconds is None and target is None and callback is None:
            raise ValueError("give generations, seconds, target or a callback, or it never stops")
        if generations is not None and generations < 0:
            raise ValueError(f"generations must be >= 0, got {generations}")
        if seconds is not None and seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {seconds}")
        if not interval > 0:
            raise ValueError(f"interval must be > 0, got {interval}")
        target_error = -1.0 if target is None else target * len(self.images) * self._pixels
        start, evals0, done = time.perf_counter(), self.evaluations, 0

        def progress() -> Progress:
            elapsed = time.perf_counter() - start
            rate = (self.evaluations - evals0) / elapsed if elapsed > 0 else 0.0
            return Progress(self.generation, self.best_error, self.best_mae, rate, elapsed)

        report = progress()
        while True:
            left = float("inf") if seconds is None else seconds - report.elapsed
            gens_left = 2**62 if generations is None else generations - done
            if gens_left <= 0 or left <= 0 or self.best_error <= target_error:
                return report
            done += self._core.advance(gens_left, min(left, interval), target_error)
            report = progress()
            if callback is not None and callback(report):
                return report
