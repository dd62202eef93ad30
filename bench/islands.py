"""The island model's figures (issue 17), written to bench/results/islands.json and .md:

  overhead   the Ray backend against the in-process one on the same island run (4 islands of
             population 64 on 2 workers, migration every 100 generations): evaluations per
             second of the run loop, medians of --repeats runs, the backends interleaved
  digits     on the ten digits, 4 islands of 16 against one population of 64 for the same
             seconds: the best MAE on all images, over --seeds seeds
  migration  what a migration costs the driver and the workers with many islands (16 to
             256 of population 8 on 2 workers, ring and full): seconds per migration

    python bench/islands.py                      # all three, about 12 minutes on 2 cores
    python bench/islands.py --only overhead --repeats 3

Each figure records the load averages (`uptime`) before and after it: the machine is shared.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path


import evoae
from evoae.islands import Islands
from evoae.islands.migration import arrivals

RESULTS = Path(__file__).parent / "results"


def loads() -> list:
    return [round(v, 2) for v in os.getloadavg()]


def island_run(backend: str, generations: int, checkpoints=None) -> dict:
    net, images = evoae.varadi_network(), evoae.data.scale(evoae.data.ten_digits())
    start = time.perf_counter()
    with Islands(net, images, islands=4, migration_interval=100, population=64,
                 backend=backend, workers=2, threads=1, checkpoints=checkpoints) as run:
        ready = time.perf_counter() - start
        final = run.run(generations=generations)
        return {"evals_per_second": final.evals_per_second, "seconds": final.elapsed,
                "startup": ready, "best_error": final.best_error}


def overhead(repeats: int, generations: int) -> dict:
    import tempfile

    import ray

    before = loads()
    os.environ.setdefault("RAY_worker_niceness", "0")  # as evoae's own local Ray (backends.py)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    runs = {"in-process": [], "in-process + checkpoints": [], "ray": []}
    try:
        for _ in range(repeats):
            runs["in-process"].append(island_run("in-process", generations))
            with tempfile.TemporaryDirectory() as folder:
                runs["in-process + checkpoints"].append(
                    island_run("in-process", generations, folder))
            runs["ray"].append(island_run("ray", generations))  # checkpoints in a temporary
    finally:
        ray.shutdown()
    same = len({r["best_error"] for rs in runs.values() for r in rs}) == 1
    medians = {k: statistics.median(r["evals_per_second"] for r in rs) for k, rs in runs.items()}
    return {"generations": generations, "repeats": repeats, "runs": runs, "medians": medians,
            "ray_worker_niceness": os.environ["RAY_worker_niceness"],
            "ray_overhead": 1 - medians["ray"] / medians["in-process"],
            "same_result": same, "load_before": before, "load_after": loads()}


def digits(seeds: int, seconds: float) -> dict:
    net, images = evoae.varadi_network(), evoae.data.scale(evoae.data.ten_digits())
    before, rows = loads(), []
    for seed in range(seeds):
        one = evoae.Evolution(net, images, population=64, seed=seed, threads=2)
        one.run(seconds=seconds)
        row = {"seed": seed, "one_mae": one.evaluate_best_on_all_images().mae,
               "one_generations": one.generation, "one_evaluations": one.evaluations}
        with Islands(net, images, islands=4, population=16, migration_interval=100,
                     workers=2, threads=1, seed=seed) as run:
            run.run(seconds=seconds)
            row.update(islands_mae=run.evaluate_best_on_all_images().mae,
                       islands_generations=run.generation, islands_evaluations=run.evaluations)
        rows.append(row)
    return {"seconds": seconds, "rows": rows, "load_before": before, "load_after": loads(),
            "one_median": statistics.median(r["one_mae"] for r in rows),
            "islands_median": statistics.median(r["islands_mae"] for r in rows)}


def migration(generations: int = 10) -> dict:
    """Seconds per migration: rounds of 1 generation with a migration after each, less the
    same rounds without one (migrants 0), per island count and topology; and the driver's
    share (ranking and gathering the arrivals) alone."""
    net, images = evoae.varadi_network(), evoae.data.scale(evoae.data.ten_digits()[:2])
    before, rows = loads(), []
    for count in (16, 64, 256):
        times = {}
        for topology, migrants in (("none", 0), ("ring", 1), ("full", 1)):
            with Islands(net, images, islands=count, population=8, migration_interval=1,
                         migrants=migrants, topology="ring" if topology == "none" else topology,
                         workers=2, threads=1) as run:
                start = time.perf_counter()
                run.run(generations=generations)
                times[topology] = (time.perf_counter() - start) / generations
                if topology == "full":
                    states = run.backend.call("advance", [(run.generation, 1)] * 2)
        sent = {}
        for _, group in states:
            sent.update(group)
        sent = [sent[i] for i in range(count)]
        driver = {}
        for topology in ("ring", "full"):
            start = time.perf_counter()
            arrivals(sent, topology, 1)
            driver[topology] = time.perf_counter() - start
        rows.append({"islands": count, "round_without": times["none"],
                     "ring_per_migration": times["ring"] - times["none"],
                     "full_per_migration": times["full"] - times["none"],
                     "driver_ring": driver["ring"], "driver_full": driver["full"],
                     "bytes_each_way": count * emigrants_bytes(sent[0])})
    return {"generations": generations, "rows": rows, "load_before": before,
            "load_after": loads()}


def ray_call_ms(calls: int = 50) -> float:
    """The median round trip of a call to 2 actors at once (a local Ray of 2 CPUs), ms."""
    import ray

    net, images = evoae.varadi_network(), evoae.data.scale(evoae.data.ten_digits()[:2])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        with Islands(net, images, islands=2, population=8, backend="ray", workers=2) as run:
            times = []
            for _ in range(calls):
                start = time.perf_counter()
                run.backend.call("reports", [(), ()])
                times.append(time.perf_counter() - start)
    finally:
        ray.shutdown()
    return 1000 * statistics.median(times)


def emigrants_bytes(sent) -> int:
    return sent.genomes.nbytes + sent.errors.nbytes + sent.sigmas.nbytes


def markdown(results: dict) -> str:
    lines = ["# Islands of evolution: figures", "",
             "`python bench/islands.py`, evoae commits "
             + ", ".join(f"{name} {results[name]['commit']}" for name in
                         ("overhead", "digits", "migration") if name in results)
             + f"; {results['machine']}. No device machine (16 cores) was lent to this task, so "
             "the throughput with 1, 2, 4, 8 and 16 workers is not measured.", ""]
    if "overhead" in results:
        o = results["overhead"]
        lines += ["## The Ray backend's overhead", "",
                  f"4 islands of population 64 (the original loop) on the ten digits, 2 workers "
                  f"of 1 thread, migration of the best every 100 generations (ring); "
                  f"{o['generations']} generations per run; evaluations per second of the run "
                  f"loop (actors' start-up not counted), median of {o['repeats']} runs, the "
                  f"backends interleaved. Load average before {o['load_before']}, after "
                  f"{o['load_after']}; Ray's workers at niceness "
                  f"{o.get('ray_worker_niceness', 15)}. Every run gave the same best: "
                  f"{o['same_result']}.", "",
                  "| backend | evals/s (median) | runs | start-up s (median) |",
                  "|---|---:|---|---:|"]
        for name, runs in o["runs"].items():
            each = ", ".join(f"{r['evals_per_second']:,.0f}" for r in runs)
            lines.append(f"| {name} | {o['medians'][name]:,.0f} | {each} | "
                         f"{statistics.median(r['startup'] for r in runs):.2f} |")
        faster = " (Ray's runs were the faster)" if o["ray_overhead"] < 0 else ""
        lines += ["", f"Ray's overhead: {100 * o['ray_overhead']:.1f}%{faster} (goal: at most "
                  "10%); the Ray runs save every island's checkpoint at each migration. Each "
                  "actor is a process of its own, while the in-process workers are two "
                  "threads of one process; on a machine this loaded the spread of the runs is "
                  "larger than the difference.", ""]
        earlier = results.get("overhead_niceness_15")
        if earlier:  # the same figure before evoae's local Ray ran its workers at niceness 0
            lines += [f"The same figure at commit {earlier['commit']} with Ray's default "
                      f"worker niceness 15 (load average {earlier['load_before']} before, "
                      f"{earlier['load_after']} after): in-process "
                      f"{earlier['medians']['in-process']:,.0f}, Ray "
                      f"{earlier['medians']['ray']:,.0f} evals/s, overhead "
                      f"{100 * earlier['ray_overhead']:.1f}%. At niceness 15 the actors yield "
                      "to every other process: at load average 12 (a build of the C++ tests "
                      "beside them) an island ran 10 times slower in an actor than in the "
                      "driver, which is why evoae's own local Ray now runs them at 0.", ""]
    if "digits" in results:
        d = results["digits"]
        lines += ["## Islands against one population on the ten digits", "",
                  f"{d['seconds']:g} s each, 2 cores: one population of 64 (2 threads) against "
                  "4 islands of 16 (2 workers of 1 thread; the best migrating every 100 "
                  "generations along a ring), the original loop; best MAE per pixel on all 10 "
                  f"images. Load average before {d['load_before']}, after {d['load_after']}.",
                  "", "| seed | one population: MAE | generations | islands: MAE | "
                  "generations |", "|---:|---:|---:|---:|---:|"]
        for r in d["rows"]:
            lines.append(f"| {r['seed']} | {r['one_mae']:.4f} | {r['one_generations']:,} | "
                         f"{r['islands_mae']:.4f} | {r['islands_generations']:,} |")
        wins = sum(r["islands_mae"] < r["one_mae"] for r in d["rows"])
        lines += ["", f"Median: one population {d['one_median']:.4f}, islands "
                  f"{d['islands_median']:.4f}; the islands were better for {wins} of "
                  f"{len(d['rows'])} seeds.", ""]
    if "migration" in results:
        m = results["migration"]
        lines += ["## What a migration costs with many islands", "",
                  "Islands of population 8 on 2 in-process workers (2 of the ten digits), a "
                  f"migration after every generation, {m['generations']} generations: seconds "
                  "per migration (rounds with one less rounds without), the driver's ranking "
                  "and gathering alone, and the genomes moved each way. Load average before "
                  f"{m['load_before']}, after {m['load_after']}.", "",
                  "| islands | round without migration s | ring: s per migration | full: s per "
                  "migration | driver ring s | driver full s | bytes each way |",
                  "|---:|---:|---:|---:|---:|---:|---:|"]
        for r in m["rows"]:
            lines.append(f"| {r['islands']} | {r['round_without']:.4f} | "
                         f"{r['ring_per_migration']:.4f} | {r['full_per_migration']:.4f} | "
                         f"{r['driver_ring']:.4f} | {r['driver_full']:.4f} | "
                         f"{r['bytes_each_way']:,} |")
        lines += ["", f"A call to 2 Ray actors at once (a local Ray of 2 CPUs) takes "
                  f"{m['ray_call_ms']:.2f} ms (median of 50).", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=("overhead", "digits", "migration"),
                        default=("overhead", "digits", "migration"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--generations", type=int, default=500)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "islands.json")
    parser.add_argument("--markdown", action="store_true",
                        help="only write the .md again from the .json")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=Path(__file__).parent).stdout.strip()
    # Figures run before and not now are kept: each records its own load and commit.
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    if args.markdown:
        args.out.with_suffix(".md").write_text(markdown(results))
        return
    results["machine"] = (f"{os.cpu_count()} cores, evoae {evoae.__version__} "
                          f"({evoae._core.build_info()['lanes']} lanes)")
    if "overhead" in args.only:
        results["overhead"] = dict(overhead(args.repeats, args.generations), commit=commit)
    if "digits" in args.only:
        results["digits"] = dict(digits(args.seeds, args.seconds), commit=commit)
    if "migration" in args.only:
        results["migration"] = dict(migration(), ray_call_ms=ray_call_ms(), commit=commit)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
