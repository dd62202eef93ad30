"""Measure one implementation at one thread count (side_by_side.py runs this in a fresh
process per configuration): check its forward pass against evoae and one generation of its
loop, warm up, then time `repeats` runs of about `seconds` each (a run during which other
processes took the CPU is redone, up to 2x `repeats` runs; the median is of the undisturbed
ones). Prints one JSON line.

    python bench/measure.py torch --threads 1 --seconds 2 --repeats 5
"""
from __future__ import annotations

import argparse
import os
import sys

IMPLEMENTATIONS = ("evoae", "torch", "pygad", "numpy")
parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("implementation", choices=IMPLEMENTATIONS)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--seconds", type=float, default=2.0, help="length of one timed run")
parser.add_argument("--repeats", type=int, default=5, help="timed runs; the median is reported")
parser.add_argument("--warmup", type=float, default=1.0, help="seconds of untimed generations")
args = parser.parse_args()
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(var, str(args.threads))  # before numpy / torch start their pools

import resource  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import evoae  # noqa: E402
import numpy_reference  # noqa: E402
from cpu_load import DISTURBED, cpu_seconds, wait_until_quiet  # noqa: E402
from workload import MUTATIONS, NUM_PARAMS, POPULATION, SEED, images  # noqa: E402

TOLERANCE = 1e-5


class Timed:
    """run(n) for a loop with run(n), evaluations and state(): (seconds, evaluations) of n
    generations, and with record=True the (genomes, errors) states before and after."""

    def __init__(self, evolution):
        self.evolution = evolution

    def run(self, generations: int, record: bool = False):
        before = self.evolution.state() if record else None
        e0, t0 = self.evolution.evaluations, time.perf_counter()
        self.evolution.run(generations)
        t1, e1 = time.perf_counter(), self.evolution.evaluations
        return (t1 - t0, e1 - e0) if not record else (t1 - t0, e1 - e0, before,
                                                      self.evolution.state())


class EvoaeLoop:
    """evoae.Evolution in the shape of the other loops."""

    def __init__(self, x: np.ndarray, threads: int):
        self.e = evoae.Evolution(evoae.varadi_network(), x, population=POPULATION,
                                 mutations=MUTATIONS, seed=SEED, threads=threads)

    evaluations = property(lambda self: self.e.evaluations)

    def run(self, generations: int) -> None:
        self.e.run(generations=generations)

    def state(self):
        return self.e.population, np.asarray(self.e.errors, dtype=np.float64)


def setup(name: str, x: np.ndarray, threads: int):
    """(the loop with run(n), forward(genomes, images) -> (P, S, 28, 28), what it is checked
    against)."""
    net = evoae.varadi_network()
    if name == "evoae":  # evoae itself is checked against the NumPy reference
        return Timed(EvoaeLoop(x, threads)), net.forward_population, numpy_reference.forward
    if name == "numpy":
        return Timed(numpy_reference.Evolution(x)), numpy_reference.forward, net.forward_population
    import torch

    torch.set_num_threads(threads)
    if name == "torch":
        import torch_batched

        def forward(g, s):
            return torch_batched.forward(torch.from_numpy(g), torch.from_numpy(s)).numpy()

        return Timed(torch_batched.Evolution(x)), forward, net.forward_population
    import pygad_torchga

    loop = pygad_torchga.Evolution(x)
    return loop, lambda g, s: pygad_torchga.forward(loop.model, g, s), net.forward_population


def check_forward(forward, reference, x: np.ndarray) -> float:
    genomes = np.random.default_rng(1).uniform(-1, 1, (7, NUM_PARAMS)).astype(np.float32)
    diff = float(np.abs(forward(genomes, x) - reference(genomes, x)).max())
    if not diff <= TOLERANCE:
        sys.exit(f"{args.implementation}: forward differs from the reference by {diff:.3g}")
    return diff


def check_generation(loop) -> int:
    """One generation must be the original one; returns the evaluations it made."""
    _, evaluations, (g0, e0), (g1, e1) = loop.run(1, record=True)
    best = int(np.argmin(e0))
    mutated = np.flatnonzero((g1 != g1[0]).any(axis=0))
    problems = [text for ok, text in [
        (np.array_equal(g1[0], g0[best]), "agent 0 is not a copy of the best"),
        ((g1 != g1[0]).any(axis=1)[1:].all(), "an agent 1..P-1 was not mutated"),
        (len(mutated) <= MUTATIONS, f"{len(mutated)} indices mutated, not shared"),
        (e1.min() <= e0.min() + 1e-3, "the best error rose"),
    ] if not ok]
    if problems:
        sys.exit(f"{args.implementation}: not the original loop: {'; '.join(problems)}")
    return evaluations


def measure(loop) -> dict:
    spent, generations, n = 0.0, 0, 1
    while spent < args.warmup or generations < 2:  # warm up; find the rate
        spent += loop.run(n)[0]
        generations += n
        n *= 2
    per_run = max(1, round(args.seconds * generations / spent))
    runs = []  # until `repeats` runs undisturbed by other processes, at most 2x as many
    while sum(not r["disturbed"] for r in runs) < args.repeats and len(runs) < 2 * args.repeats:
        faults, (busy, own) = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, cpu_seconds()
        seconds, evaluations = loop.run(per_run)
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
        busy2, own2 = cpu_seconds()
        others = max(0.0, (busy2 - busy) - (own2 - own)) / seconds
        runs.append({"seconds": seconds, "generations": per_run, "evaluations": evaluations,
                     "page_faults": faults,  # minor faults: fresh pages from the OS
                     "cores_used": round((own2 - own) / seconds, 2),
                     "cores_used_by_others": round(others, 2), "disturbed": others > DISTURBED})
        if runs[-1]["disturbed"]:
            wait_until_quiet(2.0)
    used = [r for r in runs if not r["disturbed"]] or runs
    return {
        "undisturbed_runs": sum(not r["disturbed"] for r in runs),
        "cores_used_by_others": statistics.median(r["cores_used_by_others"] for r in used),
        "evals_per_s": statistics.median(r["evaluations"] / r["seconds"] for r in used),
        "gens_per_s": statistics.median(r["generations"] / r["seconds"] for r in used),
        "runs": runs,
    }


def main() -> None:
    x = images()
    start, load = time.perf_counter(), os.getloadavg()[0]
    loop, forward, reference = setup(args.implementation, x, args.threads)
    result = {
        "implementation": args.implementation,
        "threads": args.threads,
        "malloc_mmap_threshold": os.environ.get("MALLOC_MMAP_THRESHOLD_"),
        "max_forward_diff": check_forward(forward, reference, x),
        "evals_per_generation": check_generation(loop),
    }
    if args.implementation in ("torch", "pygad"):
        import torch

        result["torch_threads"] = torch.get_num_threads()
    result.update(measure(loop))
    result["load_average_before_after"] = [load, os.getloadavg()[0]]
    result["wall_seconds"] = time.perf_counter() - start
    print(__import__("json").dumps(result))


if __name__ == "__main__":
    main()
