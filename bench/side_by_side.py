"""evoae side by side with what users would pick for the same work: the same network, the same
ten digits, the original loop (population 20, 10 shared mutations), as batched PyTorch,
PyGAD + pygad.torchga, and NumPy. Each configuration (implementation x threads x allocator)
runs in a fresh process (bench/measure.py); prints a table and saves it as JSON.

    python bench/side_by_side.py                      # about 4 minutes on 2 cores
    python bench/side_by_side.py --seconds 1 --repeats 5 --only evoae torch
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, distribution, version
from pathlib import Path

from cpu_load import wait_until_quiet
from workload import fma_peak, fraction_of_peak

HERE = Path(__file__).resolve().parent
PEERS = ("torch", "pygad", "numpy")
# glibc returns large freed blocks to the OS (mmap/munmap), so every big tensor page-faults
# anew; raising both thresholds keeps them in the heap. PyTorch's CPU speed swings with this.
TUNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}


def timing_arguments(description: str, repeats: int, threads: list[int],
                     out: Path) -> argparse.ArgumentParser:
    """The options every side-by-side script takes (how long, how often, how many threads,
    where to), with its defaults."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--seconds", type=float, default=2.0, help="length of one timed run")
    p.add_argument("--repeats", type=int, default=repeats,
                   help="timed runs per configuration (median)")
    p.add_argument("--warmup", type=float, default=1.0, help="untimed seconds before the runs")
    p.add_argument("--threads", type=int, nargs="+", default=threads,
                   help=f"thread counts (default: {' '.join(map(str, threads))})")
    p.add_argument("--wait", type=float, default=10.0,
                   help="seconds to wait, before each configuration, for other processes to "
                        "leave the CPU (0: do not wait)")
    p.add_argument("--out", type=Path, default=out)
    return p


def parse_args() -> argparse.Namespace:
    p = timing_arguments(__doc__.split("\n\n")[0], 5, sorted({1, os.cpu_count() or 1}),
                         HERE / "results" / "side_by_side.json")
    p.add_argument("--only", nargs="+", choices=("evoae",) + PEERS, default=None,
                   help="measure only these implementations (evoae is always measured)")
    p.add_argument("--peak", type=Path, default=None,
                   help="peak/fma_peak.sh's JSON for evoae's fraction of the FMA peak (else "
                        "measured at the end)")
    return p.parse_args()


def configurations(args):
    """(implementation, allocator, threads): evoae as is; each peer as is and tuned."""
    peers = [p for p in PEERS if args.only is None or p in args.only]
    for threads in args.threads:
        yield "evoae", "default", threads
        for peer in peers:
            for allocator in ("default", "tuned"):
                yield peer, allocator, threads


def run_one(implementation: str, allocator: str, threads: int, args,
            extra: tuple[str, ...] = ()) -> dict:
    """measure.py in a fresh process (with `extra` arguments); its JSON line, or the error."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads))
    for var in TUNED_MALLOC:
        env.pop(var, None)
    if allocator == "tuned":
        env.update(TUNED_MALLOC)
    command = [sys.executable, str(HERE / "measure.py"), implementation, "--threads",
               str(threads), "--seconds", str(args.seconds), "--repeats", str(args.repeats),
               "--warmup", str(args.warmup), *extra]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        error = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"implementation": implementation, "allocator": allocator, "threads": threads,
                "error": error}
    return {"allocator": allocator, **json.loads(done.stdout.strip().splitlines()[-1])}


def run_all(configurations, args) -> list[dict]:
    """run_one for each (implementation, allocator, threads, extra arguments), each after
    waiting for a quiet CPU; the results, each printed as it comes."""
    results = []
    for implementation, allocator, threads, extra in configurations:
        busy = wait_until_quiet(args.wait) if args.wait > 0 else None
        r = {**run_one(implementation, allocator, threads, args, extra),
             "busy_cores_before": busy}
        results.append(r)
        rate = f"{r['evals_per_s']:,.0f} evals/s" if "error" not in r else r["error"]
        label = " ".join((f"{threads:>3} threads", *extra))
        print(f"  {implementation:<7}{allocator:<9}{label}: {rate}", flush=True)
    return results


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def evoae_source() -> str | None:
    """Where the installed evoae was built from (pip's direct_url.json), if pip recorded it."""
    try:
        return json.loads(distribution("evoae").read_text("direct_url.json") or "{}").get("url")
    except PackageNotFoundError:
        return None


def evoae_build() -> dict | None:
    try:
        from evoae._core import build_info
    except ImportError:
        return None
    return build_info()


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    fields = dict(line.split(":", 1) for line in cpuinfo.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = set(fields.get("flags", "").split())
    commit = subprocess.run(["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or None
    return {
        "cpu": fields.get("model name", platform.processor()),
        "cpu_mhz": fields.get("cpu MHz"),
        "cores": os.cpu_count(),
        "simd": sorted(flags & {"avx", "avx2", "fma", "avx512f"}),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "glibc": platform.libc_ver()[1],
        "versions": {n: package_version(n) for n in ("evoae", "torch", "pygad", "numpy")},
        "evoae_build": evoae_build(),  # lanes, instruction set, FMA
        "evoae_installed_from": evoae_source(),  # evoae is measured as installed
        "checkout_commit": commit,
    }


def print_table(results: list[dict], repeats: int) -> None:
    evoae = {r["threads"]: r["evals_per_s"] for r in results
             if r["implementation"] == "evoae" and "error" not in r}
    print(f"\n{'implementation':<16}{'allocator':<11}{'threads':>7}{'evals/s':>12}"
          f"{'gens/s':>10}{'evals/gen':>11}{'evoae/this':>12}{'others':>8}")
    for r in results:
        head = f"{r['implementation']:<16}{r['allocator']:<11}{r['threads']:>7}"
        if "error" in r:
            print(f"{head}  failed: {r['error']}")
            continue
        ratio = evoae.get(r["threads"], float("nan")) / r["evals_per_s"]
        mark = "" if r["undisturbed_runs"] >= repeats else " *"
        print(f"{head}{r['evals_per_s']:>12,.0f}{r['gens_per_s']:>10.2f}"
              f"{r['evals_per_generation']:>11}{ratio:>11.2f}x"
              f"{r['cores_used_by_others']:>8.2f}{mark}")
    print(f"evoae/this: evoae's evals/s at the same thread count over this row's. others: cores "
          f"used by other processes\nduring the timed runs (median); * fewer than {repeats} "
          f"runs free of them, so the figure is low.")


def summarise(results: list[dict]) -> list[dict]:
    """evoae on all cores (and at its best) against each peer at its best (any allocator,
    any thread count)."""
    ok = [r for r in results if "error" not in r]
    evoae = [r for r in ok if r["implementation"] == "evoae"]
    if not evoae:
        return []
    top = max(evoae, key=lambda r: r["threads"])
    evoae_best = max(evoae, key=lambda r: r["evals_per_s"])
    summary = []
    for peer in PEERS:
        runs = [r for r in ok if r["implementation"] == peer]
        if runs:
            best = max(runs, key=lambda r: r["evals_per_s"])
            summary.append({"peer": peer, "peer_best": {k: best[k] for k in (
                "allocator", "threads", "evals_per_s", "gens_per_s")},
                "evoae_threads": top["threads"], "evoae_evals_per_s": top["evals_per_s"],
                "ratio": top["evals_per_s"] / best["evals_per_s"],
                "evoae_best_threads": evoae_best["threads"],
                "ratio_evoae_best": evoae_best["evals_per_s"] / best["evals_per_s"]})
    return summary


def main() -> None:
    args = parse_args()
    info = machine()
    load = os.getloadavg()[0]
    print(f"{info['cpu']}, {info['cores']} cores; torch {info['versions']['torch']}, "
          f"pygad {info['versions']['pygad']}, numpy {info['versions']['numpy']}, "
          f"evoae {info['versions']['evoae']}", flush=True)
    if load > 0.5:
        print(f"note: load average {load:.1f} before starting: other processes share the CPU",
              flush=True)
    start = time.perf_counter()
    results = run_all(((*c, ()) for c in configurations(args)), args)
    print_table(results, args.repeats)
    summary = summarise(results)
    peak = fma_peak(args.peak)
    for r in results:
        if r["implementation"] == "evoae" and "evals_per_s" in r:
            r["gflops"], r["fraction_of_peak"] = fraction_of_peak(r["evals_per_s"], peak)
            print(f"evoae on {r['threads']} threads: {r['gflops']:.1f} GFLOP/s, "
                  f"{r['fraction_of_peak']:.1%} of the {peak['cores']}-core FMA peak")
    for s in summary:
        b = s["peer_best"]
        print(f"evoae ({s['evoae_threads']} threads) / {s['peer']} at its best "
              f"({b['allocator']} allocator, {b['threads']} threads, {b['evals_per_s']:,.0f} "
              f"evals/s): {s['ratio']:.2f}x")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "workload": {"network": "varadi (1397 parameters)", "images": "ten digits",
                     "population": 20, "mutations": 10,
                     "evaluation": "one genome on one image; evals/s counts what each loop "
                                   "actually evaluates (P-1 genomes x S images per generation "
                                   "when the elite's error is cached)"},
        "settings": {"seconds": args.seconds, "repeats": args.repeats, "warmup": args.warmup,
                     "tuned_allocator": TUNED_MALLOC},
        "machine": info,
        "fma_peak": peak,
        "load_average_before": load,
        "total_seconds": time.perf_counter() - start,
        "results": results,
        "summary": summary,
    }, indent=1) + "\n")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
