"""evoae's training by backpropagation side by side with PyTorch's (issue 12): the paper's
network on the ten digits, P networks trained at once, every step a forward and backward pass
of the full batch and an Adam step. Each configuration (implementation x networks x threads x
allocator) runs in a fresh process (measure.py --train P); prints a markdown table and saves it
beside the JSON.

    python bench/train_side_by_side.py             # about 4 minutes on 2 cores
    python bench/train_side_by_side.py --networks 8 --threads 1 --repeats 5
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from side_by_side import HERE, TUNED_MALLOC, machine, run_all, timing_arguments
from workload import LEARNING_RATE, NUM_PARAMS, TRAIN_NETWORKS

GOAL = 5.0  # issue 12: evoae at least 5x PyTorch at each number of networks


def parse_args():
    p = timing_arguments(__doc__.split("\n\n")[0], 3, [os.cpu_count() or 1],
                         HERE / "results" / "train_side_by_side.json")
    p.add_argument("--networks", type=int, nargs="+", default=list(TRAIN_NETWORKS),
                   help="networks trained at once (default: %(default)s)")
    p.add_argument("--allocators", nargs="+", choices=("default", "tuned"),
                   default=["default", "tuned"],
                   help="glibc settings PyTorch runs under (evoae runs as is)")
    return p.parse_args()


def configurations(args) -> list[tuple[int, str, str, int]]:
    """(networks, implementation, allocator, threads): evoae as is, torch under each
    allocator."""
    return [(networks, implementation, allocator, threads)
            for threads in args.threads for networks in args.networks
            for implementation, allocator in [("evoae", "default")]
            + [("torch", a) for a in args.allocators]]


def summary(results: list[dict], repeats: int) -> list[dict]:
    """For each (networks, threads): evoae's evaluations per second, torch's at its best
    allocator, their ratio (None where a side failed), and whether either had fewer than
    `repeats` runs free of other processes (its figure is then low)."""
    rows = []
    for networks, threads in sorted({(r["networks"], r["threads"]) for r in results}):
        ok = [r for r in results if (r["networks"], r["threads"]) == (networks, threads)
              and "error" not in r]
        evoae = next((r for r in ok if r["implementation"] == "evoae"), None)
        torch = max((r for r in ok if r["implementation"] == "torch"), default=None,
                    key=lambda r: r["evals_per_s"])
        rows.append({
            "networks": networks, "threads": threads,
            "evoae_evals_per_s": evoae and evoae["evals_per_s"],
            "torch_evals_per_s": torch and torch["evals_per_s"],
            "torch_allocator": torch and torch["allocator"],
            "ratio": evoae["evals_per_s"] / torch["evals_per_s"] if evoae and torch else None,
            "disturbed": any(r["undisturbed_runs"] < repeats for r in (evoae, torch) if r),
        })
    return rows


def figure(value: float | None) -> str:
    return "failed" if value is None else f"{value:,.0f}"


def markdown(rows: list[dict], results: list[dict], info: dict, settings: dict) -> str:
    """The machine, the summary (one row per networks x threads) and every configuration."""
    build = info.get("evoae_build") or {}
    versions = info["versions"]
    lines = [
        "# Training speed: evoae against PyTorch",
        "",
        f"`{settings['command']}`, evoae commit {info['checkout_commit']}.",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, SIMD {' '.join(info['simd'])}; "
        f"{info['platform']}, glibc {info['glibc']}, Python {info['python']}; "
        f"evoae {versions['evoae']} ({build.get('lanes')} lanes, {build.get('isa')}), "
        f"torch {versions['torch']}, NumPy {versions['numpy']}. Load average "
        f"{settings['load_average'][0]:.1f} before, {settings['load_average'][1]:.1f} after "
        f"(other processes on the machine).",
        "",
        f"The paper's network ({NUM_PARAMS} parameters) on the ten digits; every step one "
        f"forward and backward pass of the full batch and an Adam step (learning rate "
        f"{LEARNING_RATE}) on each network's mean |output - image|. evals/s: network-image "
        f"gradient evaluations per second (networks x 10 x steps / seconds), the median of "
        f"{settings['repeats']} runs of about {settings['seconds']} s each. torch: one batched "
        f"model (bench/torch_train.py), its best of glibc's allocator as is and tuned.",
        "",
        "| networks | threads | evoae evals/s | torch evals/s | torch allocator | evoae / torch |",
        "|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['networks']} | {r['threads']} | {figure(r['evoae_evals_per_s'])} | "
                     f"{figure(r['torch_evals_per_s'])} | {r['torch_allocator'] or '-'} | "
                     f"{'-' if r['ratio'] is None else format(r['ratio'], '.2f') + 'x'}"
                     f"{' *' if r['disturbed'] else ''} |")
    lines += ["", f"Goal (issue 12): at least {GOAL:.0f}x PyTorch at each size. * a side had "
              f"fewer than {settings['repeats']} runs free of other processes: its figure is "
              f"low.", "",
              "Every configuration (others: cores used by other processes during the timed "
              "runs, median; undisturbed: runs during which they used under 0.25 cores):", "",
              "| implementation | allocator | networks | threads | evals/s | steps/s | "
              "undisturbed | others |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        head = f"| {r['implementation']} | {r['allocator']} | {r['networks']} | {r['threads']}"
        if "error" in r:
            lines.append(f"{head} | failed: {r['error']} | | | |")
        else:
            lines.append(f"{head} | {r['evals_per_s']:,.0f} | {r['gens_per_s']:.2f} | "
                         f"{r['undisturbed_runs']}/{len(r['runs'])} | "
                         f"{r['cores_used_by_others']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    args = parse_args()
    info, load = machine(), os.getloadavg()[0]
    print(f"{info['cpu']}, {info['cores']} cores; torch {info['versions']['torch']}, "
          f"evoae {info['versions']['evoae']}; load average {load:.1f}", flush=True)
    start, configs = time.perf_counter(), configurations(args)
    results = run_all(((i, a, t, ("--train", str(n))) for n, i, a, t in configs), args)
    for (networks, *_), r in zip(configs, results):
        r["networks"] = networks  # also in a failed configuration's row
    settings = {"command": " ".join([Path(sys.executable).name, *sys.argv]),
                "seconds": args.seconds, "repeats": args.repeats, "warmup": args.warmup,
                "tuned_allocator": TUNED_MALLOC,
                "load_average": [load, os.getloadavg()[0]]}
    rows = summary(results, args.repeats)
    text = markdown(rows, results, info, settings)
    print("\n" + text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "workload": {"network": f"varadi ({NUM_PARAMS} parameters)", "images": "ten digits",
                     "step": "forward + backward of the full batch, Adam", "loss": "mae",
                     "learning_rate": LEARNING_RATE,
                     "evaluation": "one network's gradient on one image"},
        "settings": settings, "machine": info, "total_seconds": time.perf_counter() - start,
        "results": results, "summary": rows,
    }, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(text)
    print(f"saved {args.out} and {args.out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
