"""Throughput of `evoae run` for two installed builds of evoae, side by side in one run: each
round runs both (alternating which goes first), so that load from other processes falls on both
alike. Used to check that a refactoring kept the speed (the engine split: within 3%).

    python bench/engine_throughput.py --old /path/with/old/evoae --rounds 5 --generations 15000

--old is a folder holding an `evoae` package (e.g. a copy of an earlier installed one); the
new one is the evoae this Python imports. Prints each run's evaluations/s (from settings.json)
and the medians and their ratio; --json writes them.
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


def one_run(pythonpath: str | None, generations: int, threads: int | None) -> float:
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ)
        if pythonpath:
            env["PYTHONPATH"] = pythonpath
        command = [sys.executable, "-m", "evoae.cli", "run", "--generations", str(generations),
                   "--quiet", "--out", out]
        if threads:
            command += ["--threads", str(threads)]
        subprocess.run(command, env=env, check=True, capture_output=True)
        return json.loads((Path(out) / "settings.json").read_text())["evals_per_second"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", required=True, help="folder holding the old evoae package")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--generations", type=int, default=15000)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    runs: dict[str, list] = {"old": [], "new": []}
    for r in range(args.rounds):
        order = ("old", "new") if r % 2 == 0 else ("new", "old")
        for which in order:
            rate = one_run(args.old if which == "old" else None, args.generations, args.threads)
            runs[which].append(rate)
            print(f"round {r + 1} {which}: {rate:,.0f} evals/s", flush=True)
    medians = {k: statistics.median(v) for k, v in runs.items()}
    ratio = medians["new"] / medians["old"]
    print(f"median old {medians['old']:,.0f}, new {medians['new']:,.0f} evals/s: "
          f"new/old = {ratio:.3f}")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "medians": medians, "ratio": ratio,
                                         "generations": args.generations,
                                         "threads": args.threads}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
