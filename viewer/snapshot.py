"""Snapshots: everything one frame shows, taken from an Evolution (or a saved Result) through
the public API, so the drawing never touches a running evolution.

The reconstructions and the latent plane cost forward passes; `Snapshotter` recomputes them
only when the best genome has changed, and keeps its share of the wall time small (`budget`)
so that watching does not slow evolution down.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

import numpy as np

from evoae.nn.latent import LatentSplit, grid_codes, split_at_bottleneck

__all__ = ["Snapshot", "Snapshotter", "median_image_mae"]


@dataclass(frozen=True, eq=False)  # compared by identity: it holds arrays
class Snapshot:
    generation: int
    best_error: float  # the fitness: by default the sum of |output - target| over images and
    # pixels
    best_mae: float  # the objective's metric: mean |output - target| per pixel
    evals_per_second: float
    elapsed: float  # seconds of evolution (pauses excluded)
    curve: np.ndarray  # the best's error per generation, from generation 0, as curve_label says
    curve_label: str  # e.g. "best MAE per pixel", "best mse (fitness)"
    targets: np.ndarray  # float (S, H, W)
    reconstructions: np.ndarray  # float (S, H, W), the best genome's outputs
    codes: Optional[np.ndarray]  # float (S, 2): the targets' bottleneck codes, or None
    decoded: Optional[np.ndarray]  # float (k*k, H, W) decoded from grid_codes(k), or None
    grid_size: int  # k
    labels: tuple  # a short label per target ("0".."9" for the ten digits)
    baseline_mae: float  # MAE of predicting the per-pixel median image (0: not shown)
    title: str


def median_image_mae(images: np.ndarray) -> float:
    """Mean |error| per pixel of predicting every image by the per-pixel median image."""
    images = np.asarray(images, dtype=np.float32)
    return float(np.abs(images - np.median(images, axis=0)).mean()) if len(images) > 1 else 0.0


class Snapshotter:
    """Makes Snapshots of one network and image set for successive best genomes.

    budget: the largest fraction of wall time spent on the view's forward passes (the
    reconstructions, the codes and the decoded grid: about 110 passes for ten images and a
    10x10 grid, half a generation of population 20). When a new best comes sooner, its
    images wait a moment; the numbers and the curve do not.
    """

    def __init__(self, network, images: np.ndarray, grid: int = 10, budget: float = 0.005,
                 labels=None, title: str = "evoae"):
        self.network = network
        self.images = np.ascontiguousarray(images, dtype=np.float32)
        self.grid = grid
        self.budget = budget
        self.title = title
        self.labels = tuple(str(x) for x in (labels if labels is not None
                                             else range(len(self.images))))
        self.baseline = median_image_mae(self.images)
        try:
            self.split: Optional[LatentSplit] = split_at_bottleneck(network)
        except ValueError:
            self.split = None
        self._grid_codes = grid_codes(grid)
        self._genome = None  # the genome last seen
        self._parts = None  # (genome, outputs, codes, decoded) last computed
        self._next = 0.0  # earliest perf_counter() for the next computation

    def _compute(self, genome: np.ndarray, force: bool):
        """outputs, codes, decoded of `genome`: computed afresh, or those of an earlier genome
        while the budget is spent (for a moment: a later call computes them)."""
        if self._parts is not None and self._parts[0] is genome:
            return self._parts[1:]
        now = time.perf_counter()
        if self._parts is not None and not force and now < self._next:
            return self._parts[1:]
        outputs = self.network.forward(genome, self.images)
        codes = decoded = None
        if self.split is not None:
            codes = self.split.encode(genome, self.images)
            decoded = self.split.decode(genome, self._grid_codes)
        self._parts = (genome, outputs, codes, decoded)
        self._next = now + (time.perf_counter() - now) / self.budget
        return self._parts[1:]

    def take(self, genome: np.ndarray, curve: np.ndarray, generation: int, best_error: float,
             best_mae: float, evals_per_second: float, elapsed: float, force: bool = False,
             curve_label: str = "best MAE per pixel") -> Snapshot:
        """A snapshot of best genome `genome` with fitness `best_error` and metric `best_mae`;
        curve: the best's error per generation, as curve_label names it (evo.curves gives
        both). force: compute the images now, whatever the budget."""
        genome = self._same_or_new(genome)
        outputs, codes, decoded = self._compute(genome, force)
        return Snapshot(
            generation=generation, best_error=best_error, best_mae=best_mae,
            evals_per_second=evals_per_second, elapsed=elapsed, curve=np.asarray(curve),
            curve_label=curve_label, targets=self.images, reconstructions=outputs,
            codes=codes, decoded=decoded, grid_size=self.grid, labels=self.labels,
            baseline_mae=self.baseline, title=self.title)

    def _same_or_new(self, genome: np.ndarray) -> np.ndarray:
        """The previous genome object when the values are equal, so the cached parts are
        reused (they are matched by identity)."""
        if self._genome is not None and np.array_equal(self._genome, genome):
            return self._genome
        self._genome = np.array(genome, dtype=np.float32, copy=True)
        self._genome.flags.writeable = False
        return self._genome
