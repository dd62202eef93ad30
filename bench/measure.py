"""Measure one implementation at one thread count (side_by_side.py runs this in a fresh
process per configuration): check its forward pass against evoae and one generation of its
loop, warm up, then time `repeats` runs of about `seconds` each (a run during which other
processes took the CPU is redone, up to 2x `repeats` runs; the median is of the undisturbed
ones). Prints one JSON line. With --train P (train_side_by_side.py) the loop is training by
backpropagation of P networks at once instead, a generation one Adam step, and torch's first
steps are checked against evoae's.

    python bench/measure.py torch --threads 1 --seconds 2 --repeats 5
    python bench/measure.py torch --threads 2 --train 8
"""
from __future__ import annotations

import argparse
import os
import sys

IMPLEMENTATIONS = ("evoae", "torch", "pygad", "numpy")
TRAINERS = ("evoae", "torch")  # the implementations that train by backpropagation
parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("implementation", choices=IMPLEMENTATIONS)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--seconds", type=float, default=2.0, help="length of one timed run")
parser.add_argument("--repeats", type=int, default=5, help="timed runs; the median is reported")
parser.add_argument("--warmup", type=float, default=1.0, help="seconds of untimed generations")
parser.add_argument("--train", type=int, default=0, metavar="P",
                    help="measure training of P networks at once by backpropagation (evoae, "
                         "torch) instead of the evolution loop")
args = parser.parse_args()
if args.train < 0 or (args.train and args.implementation not in TRAINERS):
    parser.error(f"--train takes a number of networks >= 1 and one of {', '.join(TRAINERS)}")
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(var, str(args.threads))  # before numpy / torch start their pools

import resource  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import evoae  # noqa: E402
import numpy_reference  # noqa: E402
from cpu_load import DISTURBED, cpu_seconds, wait_until_quiet  # noqa: E402
from workload import (MUTATIONS, NUM_PARAMS, POPULATION, SEED, images,  # noqa: E402
                      initial_population, trainer_settings)

TOLERANCE = 1e-5
TRAIN_CHECK_STEPS = 3  # Adam steps of torch and evoae from the same genomes, then compared
TRAIN_TOLERANCE = 1e-4  # on each network's MAE after them


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

        return Timed(torch_batched.Evolution(x)), torch_batched.forward_numpy, \
            net.forward_population
    import pygad_torchga

    loop = pygad_torchga.Evolution(x)
    return loop, lambda g, s: pygad_torchga.forward(loop.model, g, s), net.forward_population


class EvoaeTraining:
    """evoae's Trainer in the shape of torch_train.Training: run(n) takes n steps."""

    def __init__(self, x: np.ndarray, networks: int, threads: int):
        self.t = evoae._core.Trainer(evoae.varadi_network(), x,
                                     trainer_settings(networks, threads),
                                     genomes=initial_population(networks))

    evaluations = property(lambda self: self.t.evaluations)

    def run(self, steps: int) -> None:
        done, reason = self.t.advance(steps, float("inf"))
        if done != steps:
            sys.exit(f"evoae: the trainer stopped after {done} of {steps} steps ({reason})")

    def genomes(self) -> np.ndarray:
        return self.t.genomes()


def setup_training(name: str, x: np.ndarray, threads: int):
    """(the training loop with run(n), evaluations and genomes(), forward(genomes, images) ->
    (P, S, 28, 28) of the network it trains, what that is checked against)."""
    net = evoae.varadi_network()
    if name == "evoae":
        return EvoaeTraining(x, args.train, threads), net.forward_population, \
            numpy_reference.forward
    import torch
    import torch_batched
    import torch_train

    torch.set_num_threads(threads)
    return torch_train.Training(x, args.train), torch_batched.forward_numpy, \
        net.forward_population


def mae(genomes: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Each network's mean |output - image|, by evoae's forward pass, (P,)."""
    out = evoae.varadi_network().forward_population(genomes, x)
    return np.abs(out - x).mean(axis=(1, 2, 3), dtype=np.float64)


def check_training(loop, x: np.ndarray, threads: int) -> dict:
    """The first steps must count P x images evaluations each and lower the MAE; torch's must
    give evoae's networks (the same start, loss and Adam)."""
    before, e0 = mae(loop.genomes(), x), loop.evaluations
    loop.run(TRAIN_CHECK_STEPS)
    per_step, after = (loop.evaluations - e0) / TRAIN_CHECK_STEPS, mae(loop.genomes(), x)
    problems = [text for ok, text in [
        (per_step == args.train * len(x), f"{per_step} evaluations a step, not P x images"),
        (after.mean() < before.mean(), "the mean MAE did not fall"),
    ] if not ok]
    check = {"evals_per_generation": per_step, "mae_before_after": [before.mean(), after.mean()]}
    if args.implementation != "evoae":
        evoae_loop = EvoaeTraining(x, args.train, threads)
        evoae_loop.run(TRAIN_CHECK_STEPS)
        diff = float(np.abs(after - mae(evoae_loop.genomes(), x)).max())
        check["max_mae_diff_from_evoae"] = diff
        if not diff <= TRAIN_TOLERANCE:
            problems.append(f"after {TRAIN_CHECK_STEPS} steps a network's MAE differs from "
                            f"evoae's by {diff:.3g}")
    if problems:
        sys.exit(f"{args.implementation}: not the same training: {'; '.join(problems)}")
    return check


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
    if args.train:
        trainer, forward, reference = setup_training(args.implementation, x, args.threads)
        loop = Timed(trainer)
    else:
        loop, forward, reference = setup(args.implementation, x, args.threads)
    result = {
        "implementation": args.implementation,
        "threads": args.threads,
        "networks": args.train or None,  # None: the evolution loop
        "malloc_mmap_threshold": os.environ.get("MALLOC_MMAP_THRESHOLD_"),
        "max_forward_diff": check_forward(forward, reference, x),
    }
    result.update(check_training(trainer, x, args.threads) if args.train
                  else {"evals_per_generation": check_generation(loop)})
    if args.implementation in ("torch", "pygad"):
        import torch

        result["torch_threads"] = torch.get_num_threads()
    result.update(measure(loop))
    result["load_average_before_after"] = [load, os.getloadavg()[0]]
    result["wall_seconds"] = time.perf_counter() - start
    print(__import__("json").dumps(result))


if __name__ == "__main__":
    main()
