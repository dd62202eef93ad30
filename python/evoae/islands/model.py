"""The island model: K populations (islands), each an evoae.Evolution of any strategy with
its own seed (island_seed(seed, i), from the keyed streams), that evolve apart and exchange
their best genomes every `migration_interval` generations (migration.py). Migrations happen
at fixed generations, in a fixed order, from states taken all at once, so a run gives the
same result whatever the backend, the number of workers and their threads.

The driver here runs rounds: every island runs to the next migration (or to where the run
stops), then the islands' best are exchanged. The islands live in groups (group.py), one per
worker, in this process or as Ray actors (backends.py). With a checkpoint folder every island
is saved at each migration and the driver writes islands.json (the run's settings, the
generation all islands were saved at, the migration log), from which Islands.resume continues
a run whose driver was lost. Stop conditions (seconds, target, patience, a stop event) are
looked at between rounds.
"""
from __future__ import annotations

import json
import math
import numbers
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable, Iterable, Optional

import numpy as np

from ..evo.settings import SETTINGS, given_settings
from ..io.atomic import write_text_atomically
from ..io.checkpoint import read_checkpoint
from ..nn.network import Network, check_images, network_from_spec, network_spec
from ..run import Every, Progress, Stop
from ..run import run as run_loop
from ..system import FullEvaluation, _cores, check_labels, check_targets
from .backends import BACKENDS, InProcess, OnRay, connect_ray, import_ray
from .group import checkpoint_path, saved_generations
from .migration import TOPOLOGIES, arrivals

__all__ = ["Islands", "MANIFEST"]

MANIFEST = "islands.json"
_KIND = "evoae-islands"


def _count(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


class Islands:
    """`islands` populations of `network` evolving on the same data (images, and targets or
    labels as for evoae.Evolution), each with the evolution `settings` (keyword arguments of
    evoae.Evolution: strategy, population, ...; seed is the run's). Every
    `migration_interval` generations each island's best `migrants` genomes go to the islands
    `topology` names ("ring": to the next island; "full": to every other, which each keep
    the best `migrants` of what arrives), replacing their worst.

    backend: "in-process" (threads of this process) or "ray" (Ray actors; `address`: a
    running cluster's, or None for a local Ray, or the one this process is connected to).
    workers: the threads or actors, each holding islands i with i % workers == its number
    (default: as many as the cores allow, at most one per island). threads: each island's
    evaluation threads (default: the cores shared among the workers; on Ray 1, each actor
    asking for that many CPUs). checkpoints: a folder for the islands' checkpoints (needed
    to recover from a lost actor or driver; new runs need it empty or missing; on Ray a
    temporary folder when not given, on a shared file system for a cluster of several
    machines).
    """

    def __init__(self, network: Network, images: np.ndarray, islands: int = 4,
                 migration_interval: int = 100, migrants: int = 1, topology: str = "ring",
                 backend: str = "in-process", workers: Optional[int] = None,
                 address: Optional[str] = None, checkpoints: Optional[str | os.PathLike] = None,
                 threads: Optional[int] = None, *, targets: Optional[np.ndarray] = None,
                 labels: Optional[np.ndarray] = None, **settings):
        count = _count("islands", islands, 1)
        options = dict(islands=count, migration_interval=_count(
            "migration_interval", migration_interval, 1), migrants=_count("migrants", migrants, 0),
            topology=topology)
        if topology not in TOPOLOGIES:
            raise ValueError(f"unknown topology {topology!r}: choose {', '.join(TOPOLOGIES)}")
        if "threads" in settings:
            raise ValueError("threads is Islands' own argument (each island's threads)")
        settings = given_settings(settings)
        seed = settings.pop("seed", SETTINGS["seed"].default)
        given_settings({"seed": seed})
        if checkpoints is not None and _holds_a_run(Path(checkpoints)):
            raise ValueError(f"checkpoints {checkpoints}: it holds a run already: continue it "
                             f"with Islands.resume, or choose an empty folder")
        spec = dict(network=network_spec(network), settings=settings, seed=seed,
                    distribution=settings.get("strategy", "ga") != "ga", **options)
        images = check_images(network, images).copy()
        targets = None if targets is None else check_targets(targets)
        labels = None if labels is None else check_labels(labels)
        self._start(network, images, targets, labels, spec, backend, workers, address,
                    checkpoints, threads, migrations=[])

    @classmethod
    def resume(cls, checkpoints: str | os.PathLike, backend: str = "in-process",
               workers: Optional[int] = None, address: Optional[str] = None,
               threads: Optional[int] = None, images: Optional[np.ndarray] = None) -> "Islands":
        """The run whose checkpoints are in `checkpoints`, continued from the generation its
        islands.json names (where all its islands were saved), on any backend and workers;
        it goes on as the run would have. `images`: needed only when the checkpoints hold a
        fingerprint of them (large data sets)."""
        folder = Path(checkpoints)
        manifest = read_manifest(folder)
        spec, generation = manifest["spec"], manifest["generation"]
        network = network_from_spec(spec["network"])
        for island in range(spec["islands"]):  # files a lost driver saved past the manifest
            for later in (g for g in saved_generations(folder, island) if g > generation):
                checkpoint_path(folder, island, later).unlink()
        saved = read_checkpoint(checkpoint_path(folder, 0, generation), images=images,
                                network=network, system="evolution")
        self = cls.__new__(cls)
        self._start(network, saved.images, saved.targets, saved.labels, spec, backend,
                    workers, address, folder, threads, manifest["migrations"])
        return self

    def _start(self, network, images, targets, labels, spec: dict, backend: str, workers,
               address, checkpoints, threads, migrations: list) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}: choose {', '.join(BACKENDS)}")
        self.network, self.images, self.targets, self.labels = network, images, targets, labels
        self.spec, self.backend_name = spec, backend
        self.migrations = migrations  # the log: one entry per migration
        self.stop_reason: Optional[str] = None
        self._temporary = None  # a checkpoint folder made here, removed by close()
        if backend == "ray":
            started = connect_ray(address)
            cores = int(import_ray().cluster_resources().get("CPU", 1))
            if checkpoints is None:  # a restarted actor needs its islands' checkpoints
                checkpoints = self._temporary = tempfile.mkdtemp(prefix="evoae-islands-")
        else:
            cores = _cores()
        self.checkpoints = None if checkpoints is None else Path(checkpoints)  # made at a save
        self.workers, self.threads = _workers_and_threads(workers, threads, spec["islands"],
                                                          cores, backend == "ray")
        arguments = [(spec, images, targets, labels, list(range(w, spec["islands"], self.workers)),
                      None if self.checkpoints is None else str(self.checkpoints), self.threads)
                     for w in range(self.workers)]
        self.backend = (OnRay(arguments, self.threads, started) if backend == "ray"
                        else InProcess(arguments))
        try:  # the first call: the islands' set-up errors show here
            self._set_reports(sum(self.backend.call("reports", [()] * self.workers), []))
            population = min(r["population"] for r in self.reports)
            if spec["migrants"] >= population:
                raise ValueError(f"migrants must be < the population ({population}), got "
                                 f"{spec['migrants']}")
        except BaseException:
            self.close()
            raise
        self._best_ever, self._improved_at = math.inf, self.generation
        self._note_best()

    # -- what the run loop reads -----------------------------------------------------------
    def _set_reports(self, reports: list) -> None:
        self.reports = sorted(reports, key=lambda r: r["island"])  # one per island

    @property
    def islands(self) -> int:
        return self.spec["islands"]

    @property
    def generation(self) -> int:
        """Generations every island has done."""
        return self.reports[0]["generation"]

    @property
    def evaluations(self) -> int:
        """(genome, sample) passes of all islands."""
        return sum(r["evaluations"] for r in self.reports)

    @property
    def best_island(self) -> int:
        """The island with the lowest best fitness (ties to the lowest number)."""
        return min(range(self.islands), key=lambda i: (self.reports[i]["best_error"], i))

    @property
    def best_error(self) -> float:
        return self.reports[self.best_island]["best_error"]

    @property
    def best_metric(self) -> float:
        """The best island's metric (mean |error| per pixel for reconstruction)."""
        return self.reports[self.best_island]["best_metric"]

    best_mae = best_metric

    @property
    def metric_name(self) -> str:
        return self.reports[0]["metric_name"]

    @property
    def images_per_generation(self) -> int:
        return self.reports[0]["images_per_generation"]

    def _ask_one(self, island: int, method: str):
        return self.backend.call_one(island % self.workers, method, island)

    @property
    def best_genome(self) -> np.ndarray:
        """The best island's best genome."""
        return self._ask_one(self.best_island, "best")[0]

    @property
    def settings(self) -> dict:
        """Island 0's resolved settings with the run's seed, and the island settings."""
        settings = dict(self._ask_one(0, "best")[1], seed=self.spec["seed"])
        return {**settings, **{key: self.spec[key] for key in (
            "islands", "migration_interval", "migrants", "topology")}}

    def island_histories(self) -> np.ndarray:
        """Each island's best fitness per generation: (islands, generation + 1)."""
        merged = {}
        for histories in self.backend.call("histories", [()] * self.workers):
            merged.update(histories)
        return np.array([merged[i] for i in range(self.islands)])

    @property
    def history(self) -> np.ndarray:
        """The lowest best fitness over the islands after each generation."""
        return self.island_histories().min(axis=0)

    def evaluate_best_on_all_images(self) -> FullEvaluation:
        """The best island's best on all samples."""
        return FullEvaluation(*self._ask_one(self.best_island, "measure_all"))

    def reconstructions(self) -> np.ndarray:
        return self.network.forward(self.best_genome, self.images)

    # -- running ---------------------------------------------------------------------------
    def advance(self, max_generations: int, max_seconds: float, target_metric: float = -1.0,
                patience: int = 0) -> tuple:
        """Rounds until one of these holds (checked before each round and after the last;
        seconds after at least one round); returns (generations done, reason). run() is
        the loop to use; this is its step."""
        start, done = time.perf_counter(), 0
        while True:
            if done >= max_generations:
                return done, "generations"
            if target_metric >= 0 and self.best_metric <= target_metric:
                return done, "target"
            if patience > 0 and self.generation - self._improved_at >= patience:
                return done, "patience"
            if done and time.perf_counter() - start >= max_seconds:
                return done, "seconds"
            before = self.generation
            interval = self.spec["migration_interval"]
            self._round(min(before + max_generations - done,
                            (before // interval + 1) * interval))
            done += self.generation - before

    def _round(self, generation: int) -> None:
        """Every island to `generation`, then the migration when one is due there."""
        due = generation % self.spec["migration_interval"] == 0
        count = self.spec["migrants"] if due and self.islands > 1 else 0
        answers = self.backend.call("advance", [(generation, count)] * self.workers)
        self._set_reports(sum((reports for reports, _ in answers), []))
        if due:
            sent = {}
            for _, emigrants in answers:
                sent.update(emigrants)
            self._migrate(generation, [sent[i] for i in range(self.islands)] if count else [])
        self._note_best()

    def _migrate(self, generation: int, sent: list) -> None:
        topology, count = self.spec["topology"], self.spec["migrants"]
        taken = dict(enumerate(arrivals(sent, topology, count))) if sent else {}
        answers = self.backend.call("immigrate", [
            (generation, {i: taken.get(i) for i in range(w, self.islands, self.workers)})
            for w in range(self.workers)])
        took_lead, reports = {}, []
        for lead, group_reports in answers:
            took_lead.update(lead)
            reports += group_reports
        self._set_reports(reports)
        self.migrations.append({
            "generation": generation,
            "arrivals": [{"island": i, "from": [int(o) for o in taken[i].origins],
                          "errors": [float(e) for e in taken[i].errors],
                          "took_lead": bool(took_lead[i])} for i in sorted(taken)]})
        self._write_manifest()

    def _note_best(self) -> None:
        if self.best_error < self._best_ever:
            self._best_ever, self._improved_at = self.best_error, self.generation

    def run(self, generations: Optional[int] = None, seconds: Optional[float] = None,
            target: Optional[float] = None,
            callback: Optional[Callable[[Progress], Optional[bool]]] = None,
            interval: float = 0.25, patience: Optional[int] = None, every: Iterable[Every] = (),
            stop_event=None) -> Progress:
        """Run rounds through the one loop (evoae.run.run) until a condition of evoae.run.Stop
        holds; arguments as evoae.Evolution.run's (the checkpoints are the islands')."""
        return run_loop(self, Stop(generations, seconds, target, patience), callback,
                        interval, every, stop_event)

    # -- checkpoints -----------------------------------------------------------------------
    def save(self) -> None:
        """Saves every island at the current generation and the manifest (a checkpoint
        folder is needed): Islands.resume continues from here."""
        if self.checkpoints is None:
            raise ValueError("give Islands a checkpoints folder to save the islands in")
        self.backend.call("save", [(self.generation,)] * self.workers)
        self._write_manifest()

    def _write_manifest(self) -> None:
        if self.checkpoints is None:
            return
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        manifest = {"kind": _KIND, "version": 1, "generation": self.generation,
                    "spec": self.spec, "migrations": self.migrations}
        write_text_atomically(self.checkpoints / MANIFEST, json.dumps(manifest) + "\n")

    def close(self) -> None:
        """Stops the workers (and a Ray this run started); removes a temporary checkpoint
        folder."""
        self.backend.close()
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)

    def __enter__(self) -> "Islands":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _workers_and_threads(workers, threads, islands: int, cores: int, ray: bool) -> tuple:
    """The workers (default: as many as the cores allow, at most one per island) and each
    island's threads (default: on Ray 1, in-process the cores shared among the workers)."""
    workers = None if workers is None else _count("workers", workers, 1)
    threads = None if threads is None else _count("threads", threads, 1)
    if workers is None:
        workers = max(1, cores // (threads or 1))
    workers = min(workers, islands)
    if threads is None:
        threads = 1 if ray else max(1, cores // workers)
    if ray and workers * threads > cores:
        warnings.warn(f"{workers} workers x {threads} threads is more than the {cores} CPUs of "
                      f"the Ray cluster: actors wait for CPUs", UserWarning, stacklevel=4)
    return workers, threads


def read_manifest(folder: Path) -> dict:
    """A checkpoint folder's islands.json, checked (ValueError naming the folder)."""
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{folder}: no {MANIFEST}: not an island run's checkpoint folder"
                         ) from None
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: damaged ({e})") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != _KIND:
        raise ValueError(f"{path}: not an island run's manifest")
    if manifest.get("version") != 1 or not {"generation", "spec", "migrations"} <= set(manifest):
        raise ValueError(f"{path}: damaged or of another version")
    return manifest


def _holds_a_run(folder: Path) -> bool:
    return folder.is_dir() and ((folder / MANIFEST).exists()
                                or any(folder.glob("island-*.npz")))
