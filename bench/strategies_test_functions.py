"""The evolution strategies on the test functions, as issue 13's table asks: evaluations until a
generation's best has f <= 1e-8 on the sphere, ellipsoid (condition 1e6), Rosenbrock and
Rastrigin, in 10 and 100 dimensions, each strategy with its
default population (evoae's `population` unset: 4 + floor(3 ln n) for the CMA-ES family and
the NES, 10,000 for OpenAI-ES, 200 for PGPE) and sigma 1 (OpenAI-ES its fixed 0.02), beside
pycma's CMA-ES and sep-CMA-ES (CMA_diagonal) from a start of the same kind where pycma is
installed; and Rastrigin 10-D at equal evaluations with and without IPOP restarts.

    python bench/strategies_test_functions.py --json bench/results/strategies_test_functions.json
    python bench/strategies_test_functions.py --functions sphere --seeds 3   # a quicker look

A strategy that does not reach the target within the budget is reported with the best f it
reached (on Rastrigin, without restarts, every strategy stops in a local minimum). Everything
runs on one thread; the counts do not depend on the machine.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import warnings

import numpy as np

from evoae import _core

STRATEGIES = ["cma-es", "sep-cma-es", "snes", "xnes", "lm-ma-es", "openai-es", "pgpe"]
FUNCTIONS = ["sphere", "ellipsoid", "rosenbrock", "rastrigin"]
TARGET = 1e-8
BUDGETS = {10: 100_000, 100: 1_000_000}  # evaluations per run


def evoae_reach(function: str, strategy: str, n: int, seed: int, budget: int) -> dict:
    """Evaluations to f <= TARGET (None if not within `budget`) and the best f reached."""
    sigma = 0.02 if strategy == "openai-es" else 1.0
    evo = _core.Evolution(function, n, {"strategy": strategy, "sigma": sigma, "seed": seed,
                                        "threads": 1})
    population = evo.settings["population"]
    evo.advance(max(0, budget // population - 1), float("inf"), TARGET)
    reached = evo.best_error <= TARGET
    return {"population": population, "evaluations": evo.evaluations if reached else None,
            "best": float(np.min(evo.history))}


#: pycma's own definitions of the same functions: names in cma.ff (the formulas of
#: test_function.cpp).
PYCMA_FUNCTIONS = {"sphere": "sphere", "ellipsoid": "elli", "rosenbrock": "rosen",
                   "rastrigin": "rastrigin"}


def pycma_reach(cma, function: str, diagonal: bool, n: int, seed: int, budget: int) -> dict:
    x0 = np.random.default_rng(seed).uniform(-1, 1, n)
    options = dict(ftarget=TARGET, seed=seed, verbose=-9, maxfevals=budget,
                   CMA_diagonal=diagonal)
    with warnings.catch_warnings():  # pycma's notes about its own settings
        warnings.simplefilter("ignore")
        es = cma.CMAEvolutionStrategy(x0, 1.0, options)
        es.optimize(getattr(cma.ff, PYCMA_FUNCTIONS[function]))
    reached = es.result.fbest <= TARGET
    return {"population": es.popsize, "evaluations": es.result.evaluations if reached else None,
            "best": float(es.result.fbest)}


def rastrigin(strategy: str, restarts: int, seed: int, budget: int) -> dict:
    """The best f in `budget` evaluations on Rastrigin 10-D, sigma 1, default population."""
    evo = _core.Evolution("rastrigin", 10, {"strategy": strategy, "sigma": 1.0, "seed": seed,
                                            "threads": 1, "restarts": restarts})
    sizes = [evo.population.shape[0]]
    while evo.evaluations + evo.population.shape[0] <= budget:
        evo.step()
        if evo.population.shape[0] != sizes[-1]:
            sizes.append(evo.population.shape[0])
    return {"best": float(np.min(evo.history)), "populations": sizes}


def summary(runs: list) -> dict:
    """The median evaluations over the seeds that reached the target (all must, else None),
    their range, and the median best f."""
    done = [r["evaluations"] for r in runs if r["evaluations"] is not None]
    row = {"population": runs[0]["population"], "reached": f"{len(done)}/{len(runs)}",
           "median_best": statistics.median(r["best"] for r in runs)}
    if len(done) == len(runs):
        row.update(median=statistics.median(done), low=min(done), high=max(done))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 1..N at 10-D")
    parser.add_argument("--seeds-100", type=int, default=3, help="seeds 1..N at 100-D (0: none)")
    parser.add_argument("--functions", nargs="+", choices=FUNCTIONS, default=FUNCTIONS)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    try:
        import cma
    except ImportError:
        cma = None
        print("pycma is not installed: its rows are left out", file=sys.stderr)

    def save(results: dict) -> None:
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)

    results = {"target": TARGET, "budgets": BUDGETS, "functions": {}, "rastrigin_10d": {}}
    for function in args.functions:
        results["functions"][function] = {}
        for n, seeds in ((10, args.seeds), (100, args.seeds_100)):
            if seeds == 0:
                continue
            budget = BUDGETS[n]
            rows = {s: [evoae_reach(function, s, n, seed, budget) for seed in range(1, seeds + 1)]
                    for s in STRATEGIES}
            if cma is not None:
                for name, diagonal in (("pycma CMA-ES", False), ("pycma CMA_diagonal", True)):
                    rows[name] = [pycma_reach(cma, function, diagonal, n, seed, budget)
                                  for seed in range(1, seeds + 1)]
            results["functions"][function][n] = {
                "budget": budget, "seeds": seeds, "rows": {k: summary(v) for k, v in rows.items()}}
            for name, row in results["functions"][function][n]["rows"].items():
                told = (f"{row['median']:,} ({row['low']:,}-{row['high']:,})" if "median" in row
                        else f"{row['reached']} in {budget:,} (median best f "
                             f"{row['median_best']:.3g})")
                print(f"{function} {n}-D {name:18s} population {row['population']:5d}: {told}",
                      flush=True)
            save(results)  # as it goes: the 100-D runs take minutes each

    budget = 50_000
    for strategy in ("cma-es", "sep-cma-es"):
        runs = {r: [rastrigin(strategy, r, seed, budget) for seed in range(1, args.seeds + 1)]
                for r in (0, 9)}
        results["rastrigin_10d"][strategy] = {
            "budget": budget,
            "alone": [r["best"] for r in runs[0]],
            "ipop": [r["best"] for r in runs[9]],
            "ipop_populations": [r["populations"] for r in runs[9]]}
        print(f"rastrigin 10-D {strategy} in {budget:,} evaluations: alone median "
              f"{statistics.median(r['best'] for r in runs[0]):.3g}, with restarts median "
              f"{statistics.median(r['best'] for r in runs[9]):.3g}")
    save(results)


if __name__ == "__main__":
    main()
