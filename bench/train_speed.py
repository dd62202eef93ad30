"""Training speed of two installed builds of evoae, side by side in one run: the paper's network
on the ten digits, Adam on the full batch (issue 12's workload), for several network counts.
Each round runs every (networks, build) pair in a fresh process, alternating which build goes
first, so that load from other processes falls on both alike. Reports network-image gradient
evaluations per second (forward + backward + Adam step, per network and image), the median
over rounds, and the load average before and after.

    python bench/train_speed.py --old /path/with/old/evoae --networks 1 8 64 --rounds 3

--old is a folder holding an `evoae` package (e.g. a copy of an earlier installed one); the
new one is the evoae this Python imports. --json writes every figure.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

# The child: one Trainer, a short warm-up, then steps for about `seconds`; prints evaluations/s.
CHILD = """
import sys, time
import numpy as np
import evoae
networks, threads, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
x = evoae.data.scale(evoae.data.ten_digits())
genomes = np.random.default_rng(0).uniform(-1, 1, (networks, 1397)).astype(np.float32)
settings = {"networks": networks, "optimizer": "adam", "learning_rate": 0.01, "loss": "mae",
            "threads": threads, "seed": 0}
t = evoae._core.Trainer(evoae.varadi_network(), x, settings, genomes=genomes)
t.advance(20, float("inf"))
steps, elapsed = 10, 0.0
while elapsed < seconds / 4:  # size the run to about `seconds`
    steps *= 2
    t0 = time.perf_counter(); t.advance(steps, float("inf")); elapsed = time.perf_counter() - t0
steps = max(1, int(steps * seconds / elapsed))
e0, t0 = t.evaluations, time.perf_counter()
t.advance(steps, float("inf"))
print((t.evaluations - e0) / (time.perf_counter() - t0))
"""


def one_run(pythonpath: str | None, networks: int, threads: int, seconds: float) -> float:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    out = subprocess.run([sys.executable, "-c", CHILD, str(networks), str(threads), str(seconds)],
                         env=env, check=True, capture_output=True, text=True)
    return float(out.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", required=True, help="folder holding the old evoae package")
    parser.add_argument("--networks", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one timed run")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    load_before = os.getloadavg()
    runs = {(p, which): [] for p in args.networks for which in ("old", "new")}
    for r in range(args.rounds):
        for p in args.networks:
            order = ("old", "new") if r % 2 == 0 else ("new", "old")
            for which in order:
                rate = one_run(args.old if which == "old" else None, p, args.threads,
                               args.seconds)
                runs[p, which].append(rate)
                print(f"round {r + 1} networks {p} {which}: {rate:,.0f}/s", flush=True)
    load_after = os.getloadavg()
    print(f"load average (1, 5, 15 min) before {load_before}, after {load_after}")
    print(f"{'networks':>8} {'old /s':>10} {'new /s':>10} {'new/old':>8}")
    table = []
    for p in args.networks:
        old, new = statistics.median(runs[p, "old"]), statistics.median(runs[p, "new"])
        table.append({"networks": p, "old": old, "new": new, "runs_old": runs[p, "old"],
                      "runs_new": runs[p, "new"]})
        print(f"{p:>8} {old:>10,.0f} {new:>10,.0f} {new / old:>8.2f}")
    if args.json:
        commit = subprocess.run(["git", "-C", str(Path(__file__).parent), "rev-parse", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        args.json.write_text(json.dumps({"old": args.old, "new_commit": commit,
                                         "threads": args.threads, "rounds": args.rounds,
                                         "load_before": load_before, "load_after": load_after,
                                         "time": time.strftime("%Y-%m-%d %H:%M"),
                                         "table": table}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
