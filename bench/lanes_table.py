"""evoae run's evaluations/s for several builds side by side, at populations 20, 64, 256 and
1 and 2 threads, as a fraction of the CPU's FMA peak (peak/fma_peak.sh): the table of issue 11.
Every build runs the same seed, so every build and thread count must end with the same best
genome: the table ends with the largest difference of the best genomes' outputs from the
first build's 1-thread run (0 where they agree bit for bit, as builds of 8 and 16 lanes do).

    python bench/lanes_table.py --build before=/old/bin/python --build after=/new/bin/python \\
        --rounds 5 --json bench/results/lanes_table.json [--load] [--env GOMP_SPINCOUNT=10000]

Each round runs every build once per configuration, alternating the order, so that load from
other processes falls on all alike; medians are reported. --load runs one busy competing
process (cpu_load.py) throughout. A build is NAME=PYTHON[:PYTHONPATH].
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from workload import fma_peak, fraction_of_peak

HERE = Path(__file__).resolve().parent
GENERATIONS = {20: 6000, 64: 1600, 256: 400}  # about 3-6 s each: start-up effects stay small


def one_run(python: str, pythonpath: str | None, population: int, threads: int,
            env_extra: dict[str, str]) -> tuple[float, np.ndarray]:
    """(evaluations/s, best genome) of one `evoae run` in a fresh process."""
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, **env_extra)
        if pythonpath:
            env["PYTHONPATH"] = pythonpath
        command = [python, "-m", "evoae.cli", "run", "--population", str(population),
                   "--generations", str(GENERATIONS[population]), "--quiet", "--threads",
                   str(threads), "--out", out]
        subprocess.run(command, env=env, check=True, capture_output=True)
        rate = json.loads((Path(out) / "settings.json").read_text())["evals_per_second"]
        with np.load(Path(out) / "result.npz") as result:
            return rate, result["genome"]


def output_differences(genomes: dict[str, np.ndarray]) -> dict[str, float]:
    """Per run key, the largest |output difference| of its best genome on the ten digits from
    the first key's (evaluated by this process's evoae)."""
    import evoae

    net, images = evoae.varadi_network(), evoae.data.scale(evoae.data.ten_digits())
    outputs = {key: net.forward_population(g[None, :], images) for key, g in genomes.items()}
    first = next(iter(outputs.values()))
    return {key: float(np.max(np.abs(out - first))) for key, out in outputs.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", action="append", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--populations", type=int, nargs="+", default=[20, 64, 256])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the runs")
    parser.add_argument("--load", action="store_true", help="one busy competing process")
    parser.add_argument("--peak", type=Path, default=None, help="fma_peak.sh's JSON (else run it)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    builds = {}
    for b in args.build:
        name, _, where = b.partition("=")
        python, _, path = where.partition(":")
        builds[name] = (python, path or None)
    env_extra = dict(e.split("=", 1) for e in args.env)
    peak = fma_peak(args.peak)
    load = subprocess.Popen([sys.executable, str(HERE / "cpu_load.py")]) if args.load else None
    runs: dict[str, list[float]] = {}
    genomes: dict[str, np.ndarray] = {}
    try:
        for r in range(args.rounds):
            for p in args.populations:
                for t in args.threads:
                    names = list(builds) if r % 2 == 0 else list(reversed(builds))
                    for name in names:
                        rate, genome = one_run(*builds[name], p, t, env_extra)
                        runs.setdefault(f"{name} p{p} t{t}", []).append(rate)
                        genomes.setdefault(f"{name} p{p} t{t}", genome)
                        print(f"round {r + 1} {name} p{p} t{t}: {rate:,.0f}", flush=True)
    finally:
        if load:
            load.kill()
    print(f"\npeak GFLOP/s: {peak}; load average {os.getloadavg()[0]:.2f}; "
          f"one busy process: {args.load}; env: {env_extra}")
    print(f"{'build':<14}{'pop':>5}{'thr':>4}{'evals/s':>12}{'GFLOP/s':>9}{'of peak':>9}")
    table = []
    for key, values in runs.items():
        name, p, t = key.split()
        median = statistics.median(values)
        gflops, fraction = fraction_of_peak(median, peak)
        table.append(dict(build=name, population=int(p[1:]), threads=int(t[1:]),
                          evals_per_second=median, gflops=gflops, fraction_of_peak=fraction,
                          runs=values))
        print(f"{name:<14}{p[1:]:>5}{t[1:]:>4}{median:>12,.0f}{gflops:>9.1f}{fraction:>9.1%}")
    differences = {}
    for p in args.populations:
        keys = [k for k in genomes if k.split()[1] == f"p{p}"]
        differences.update(output_differences({k: genomes[k] for k in keys}))
    print(f"largest |output difference| of the best genomes from {list(builds)[0]}'s "
          f"{args.threads[0]}-thread run, per population: " + ", ".join(
              f"p{p} {max(v for k, v in differences.items() if k.split()[1] == f'p{p}'):.3g}"
              for p in args.populations))
    if args.json:
        args.json.write_text(json.dumps({"peak": peak, "load": args.load, "env": env_extra,
                                         "rows": table, "output_differences": differences},
                                        indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
