"""The islands one worker holds: a thread of the in-process backend, or a Ray actor (the same
class, made remote). Every call names the generation it is about, and an island behind it
first runs up to it: an island restored from an older checkpoint (a restarted actor) catches
up by itself, and a call repeated after a crash does nothing twice. Runs are deterministic,
so an island that catches up reaches exactly the state it had lost.

With a checkpoint folder, each island is saved there after each migration (and whenever the
driver asks), as island-IIII-GGGGGGGGGGGG.npz (island, generation), with the generation of
its last migration in the checkpoint's extra; the two newest files of each island are kept,
which always include the generation the run's manifest names (model.py).
"""
from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Optional

import numpy as np

from .. import _core
from ..evo.evolution import Evolution
from ..io.checkpoint import read_checkpoint
from ..nn.network import network_from_spec
from .migration import emigrants, immigrate

__all__ = ["IslandGroup", "checkpoint_path", "saved_generations", "KEEP"]

KEEP = 2  # checkpoints kept per island
_NAME = re.compile(r"island-(\d{4,})-(\d{12})\.npz$")


def checkpoint_path(folder, island: int, generation: int) -> Path:
    return Path(folder) / f"island-{island:04d}-{generation:012d}.npz"


def saved_generations(folder, island: int) -> list:
    """The generations island `island` has checkpoints of in `folder`, oldest first."""
    found = []
    for path in Path(folder).glob(f"island-{island:04d}-*.npz"):
        match = _NAME.match(path.name)
        if match and int(match.group(1)) == island:
            found.append(int(match.group(2)))
    return sorted(found)


class IslandGroup:
    """Islands `indices` of a run. `spec`: network (network_spec), settings (the given
    evolution settings but seed and threads), seed (the run's), distribution (an evolution
    strategy, not the GA). Each island starts from its newest checkpoint in `checkpoints` when
    there is one (a restarted actor, a resumed run: Islands.resume removes those past where
    it resumes), and afresh with island_seed(seed, i) otherwise. `threads`: each island's
    evaluation threads."""

    def __init__(self, spec: dict, images: np.ndarray, targets: Optional[np.ndarray],
                 labels: Optional[np.ndarray], indices: list, checkpoints: Optional[str],
                 threads: Optional[int]):
        self.network = network_from_spec(spec["network"])
        self.spec, self.images, self.targets, self.labels = spec, images, targets, labels
        self.checkpoints, self.threads = checkpoints, threads
        self.islands: dict = {}
        self.migrated_at: dict = {}  # island -> generation of its last migration
        self.took_lead: dict = {}  # island -> whether an arrival became its best then
        self.restored_from: dict = {}  # island -> the generation of the checkpoint it began at
        for i in indices:
            saved = saved_generations(checkpoints, i) if checkpoints else []
            if saved:
                self._restore(i, saved[-1])
            else:
                self.islands[i] = Evolution(self.network, images, targets=targets,
                                            labels=labels, threads=threads,
                                            seed=_core.island_seed(spec["seed"], i),
                                            **spec["settings"])
                self.migrated_at[i] = 0

    def _restore(self, island: int, generation: int) -> None:
        saved = read_checkpoint(checkpoint_path(self.checkpoints, island, generation),
                                images=self.images, network=self.network, system="evolution")
        self.islands[island] = Evolution.from_checkpoint(saved, self.threads)
        self.migrated_at[island] = saved.extra["migrated_at"]
        self.took_lead[island] = saved.extra["took_lead"]
        self.restored_from[island] = generation

    # -- what the driver calls ----------------------------------------------------------------
    def advance(self, generation: int, migrants: int = 0) -> tuple:
        """Runs every island to `generation`; returns their reports and, with `migrants`, each
        island's best `migrants` agents (Emigrants), by island."""
        self._catch_up(generation)
        sent = {i: emigrants(e.state(), migrants, i) for i, e in self.islands.items()
                } if migrants else {}
        return self.reports(), sent

    def immigrate(self, generation: int, arrived: dict) -> tuple:
        """The migration at `generation` (past the last): `arrived[i]` (Emigrants, or None
        when nothing migrates) replace the worst agents of island i, which is then saved when
        there is a checkpoint folder. Returns, by island, whether an arrival became its best,
        and the reports."""
        for i, evolution in self.islands.items():
            if self.migrated_at[i] >= generation:
                continue  # a call repeated after a restart: done before the crash
            self._catch_up_one(i, generation)
            if arrived[i] is not None and len(arrived[i].errors):
                state, self.took_lead[i] = immigrate(evolution.state(), arrived[i],
                                                     self.spec["distribution"])
                self.islands[i] = Evolution.restore(self.network, self.images,
                                                    evolution.settings, state, self.threads,
                                                    self.targets, self.labels)
            self.migrated_at[i] = generation
            self._save(i)
        return {i: bool(self.took_lead.get(i, False)) for i in self.islands}, self.reports()

    def save(self, generation: int) -> None:
        """Saves every island at `generation` (a checkpoint folder is needed)."""
        self._catch_up(generation)
        for i in self.islands:
            self._save(i)

    def reports(self) -> list:
        """(island, generation, best_error, best_metric, evaluations, metric_name,
        images_per_generation, population) of each island, in island order."""
        return [dict(island=i, generation=e.generation, best_error=e.best_error,
                     best_metric=e.best_metric, evaluations=e.evaluations,
                     metric_name=e.metric_name, images_per_generation=e.images_per_generation,
                     population=len(e.errors))
                for i, e in sorted(self.islands.items())]

    def histories(self) -> dict:
        """Each island's best fitness per generation."""
        return {i: e.history for i, e in self.islands.items()}

    def best(self, island: int) -> tuple:
        """Island `island`'s best genome (as measured) and its resolved settings."""
        evolution = self.islands[island]
        return evolution.best_genome, evolution.settings

    def measure_all(self, island: int) -> tuple:
        """Island `island`'s best on all samples: (fitness, metric)."""
        full = self.islands[island].evaluate_best_on_all_images()
        return full.error, full.metric

    def pid(self) -> int:
        """The process the islands run in (the Ray test kills it)."""
        return os.getpid()

    def restored(self) -> dict:
        """By island: the generation of the checkpoint it was restored from, if it was."""
        return dict(self.restored_from)

    # -- inside ----------------------------------------------------------------------------
    def _catch_up(self, generation: int) -> None:
        for i in self.islands:
            self._catch_up_one(i, generation)

    def _catch_up_one(self, island: int, generation: int) -> None:
        evolution = self.islands[island]
        if evolution.generation > generation:
            raise ValueError(f"island {island} is at generation {evolution.generation}, past "
                             f"{generation}")
        interval = self.spec["migration_interval"]
        missed = (self.migrated_at[island] // interval + 1) * interval
        if missed < generation:  # running on would skip it: a result no run can have
            raise ValueError(
                f"island {island} would run from generation {evolution.generation} to "
                f"{generation} past the migration at {missed} it has not taken: its "
                f"checkpoint is lost (a Ray cluster of several machines needs a checkpoint "
                f"folder that every node shares: {self.checkpoints})")
        if evolution.generation < generation:
            evolution.advance(generation - evolution.generation, math.inf)

    def _save(self, island: int) -> None:
        if not self.checkpoints:
            return
        evolution = self.islands[island]
        Path(self.checkpoints).mkdir(parents=True, exist_ok=True)
        evolution.save(checkpoint_path(self.checkpoints, island, evolution.generation),
                       {"island": island, "migrated_at": self.migrated_at[island],
                        "took_lead": bool(self.took_lead.get(island, False))})
        for old in saved_generations(self.checkpoints, island)[:-KEEP]:
            checkpoint_path(self.checkpoints, island, old).unlink(missing_ok=True)
