"""pycma's CMA-ES and sep-CMA-ES driving evoae's own population evaluation, against evoae's
strategies in its core, for the same seconds on the ten digits: the comparison issue 13 asks
for. pycma asks for a population, evoae's Network.forward_population measures it (sum of
|error| per genome, the paper's fitness), pycma is told; evoae's runs are `Evolution(...,
strategy=NAME)` on one thread as well.

    pip install cma && python bench/pycma_side_by_side.py --seconds 60 --json out.json
    python bench/pycma_side_by_side.py --seconds 600 --jobs 2 \
        --runs "pycma cma-es" "pycma sep-cma-es"

Prints the final mean |error| per pixel of each (pycma: its best sample so far; evoae: the
best agent) and the evaluations per second. A pycma run whose samples leave float32's range
(its step size grows without bound on this landscape) stops there and keeps its best.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one thread each, as pycma's own work is

import numpy as np  # noqa: E402

import evoae  # noqa: E402

POPULATION = 20  # both sides alike (evoae's own ES default is 4 + 3 ln n = 25 on this network)


def pycma_run(seconds: float, separable: bool, seed: int) -> dict:
    import cma

    # pycma's sep variant warns every generation about its step-size rule's float rounding
    # (TPA); the warnings say nothing about the comparison.
    warnings.filterwarnings("ignore", category=UserWarning, module="cma")

    net = evoae.varadi_network()
    images = evoae.data.scale(evoae.data.ten_digits())
    start = np.random.default_rng(seed).uniform(-1, 1, net.num_params)
    options = {"seed": seed + 1, "verbose": -9, "CMA_diagonal": separable, "popsize": POPULATION}
    es = cma.CMAEvolutionStrategy(start, 0.1, options)
    began, evaluations, best, best_at, diverged = time.perf_counter(), 0, np.inf, 0.0, None
    while time.perf_counter() - began < seconds:
        with np.errstate(over="ignore"):
            samples = np.asarray(es.ask(), dtype=np.float32)
        if not np.isfinite(samples).all():  # pycma's steps outgrew float32: the run is over
            diverged = time.perf_counter() - began
            break
        outputs = net.forward_population(samples, images)  # (P, S, 28, 28)
        fitness = np.abs(outputs - images).sum(axis=(1, 2, 3))
        es.tell(list(samples.astype(np.float64)), fitness.tolist())
        evaluations += len(samples) * len(images)
        if fitness.min() < best:
            best, best_at = float(fitness.min()), time.perf_counter() - began
    elapsed = time.perf_counter() - began
    return {"mae": best / images.size, "evals_per_second": evaluations / elapsed,
            "generations": es.countiter, "best_at_seconds": best_at,
            "diverged_after_seconds": diverged, "final_sigma": float(es.sigma)}


def evoae_run(seconds: float, strategy: str, seed: int) -> dict:
    images = evoae.data.scale(evoae.data.ten_digits())
    evo = evoae.Evolution(evoae.varadi_network(), images, seed=seed, threads=1,
                          strategy=strategy, population=POPULATION)
    final = evo.run(seconds=seconds)
    return {"mae": final.best_metric, "evals_per_second": final.evals_per_second,
            "generations": evo.generation}


RUNS = {
    "pycma cma-es": (pycma_run, False),
    "pycma sep-cma-es": (pycma_run, True),
    "evoae cma-es": (evoae_run, "cma-es"),
    "evoae sep-cma-es": (evoae_run, "sep-cma-es"),
    "evoae pgpe": (evoae_run, "pgpe"),
}


def run_named(name: str, seconds: float, seed: int) -> dict:
    run, variant = RUNS[name]
    return run(seconds, variant, seed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", nargs="+", choices=list(RUNS), default=list(RUNS),
                        metavar="RUN", help=f"which runs (default: all of {', '.join(RUNS)})")
    parser.add_argument("--jobs", type=int, default=1,
                        help="runs at the same time, one thread each (at most the cores)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    results = {}
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {name: pool.submit(run_named, name, args.seconds, args.seed)
                   for name in args.runs}
        for name, future in futures.items():
            results[name] = r = future.result()
            print(f"{name:18s} MAE {r['mae']:.4f}  {r['evals_per_second']:>9,.0f} evals/s  "
                  f"{r['generations']:>7,} generations"
                  + (f"  (samples beyond float32 after {r['diverged_after_seconds']:.0f} s: "
                     "stopped)" if r.get("diverged_after_seconds") else ""), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"seconds": args.seconds, "seed": args.seed,
                                         "jobs": args.jobs, "results": results},
                                        indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
