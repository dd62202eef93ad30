"""`evoae compare`: several settings, the same time budget each, on the ten digits (or the
images of an IDX file), several seeds each: evolution's presets and strategies and
backpropagation (evoae.Trainer) side by side; a table of the final mean |error| per pixel
(median, min, max) and a plot of error against time, next to the reference points of the
paper's network (predicting the per-pixel median image: 0.097; backpropagation as the
reference system measured it: about 0.05)."""
from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from ..evo.settings import SETTINGS, bounds
from ..io.atomic import write_text_atomically
from .arguments import int_at_least, positive_float, probe_writable
from .outputs import median_image_mae
from .run_options import scaled_images

__all__ = ["PRESETS", "BACKPROP", "SYSTEMS", "parse_setting", "run_one", "compare", "Interrupted", "summarise",
           "format_table", "save_plot", "add_compare_command", "command_compare"]

BACKPROP_MAE = 0.050  # the same network trained by Adam (reference-system.md)

#: Named settings: Evolution keyword arguments. The first three are the default comparison.
#: Population 20 throughout; the Gaussian ones mutate one weight per child with sigma 0.5,
#: which did best among the few-weight steps tried on the ten digits.
PRESETS: dict[str, dict] = {
    # Varadi 2021 as evoae runs it by default: copy the best, 10 shared U(-1,1) mutations.
    "original": dict(population=20, mutations=10),
    # Per-agent Gaussian mutation whose sigma each agent carries and adapts (log-normal).
    "gaussian-sa": dict(population=20, mutations=1, mutation="gaussian", sigma=0.5,
                        step_control="self-adaptive"),
    # Such et al. 2017: the T best are the parents, one elite, fixed Gaussian noise.
    "truncation": dict(population=20, mutations=1, mutation="gaussian", sigma=0.5,
                       selection="truncation", truncation=4),
    # The original loop with one mutation per generation (the paper's 12-hour run used 1).
    "original-m1": dict(population=20, mutations=1),
    # Each child its own index and U(-1, 1) value.
    "per-agent": dict(population=20, mutations=1, mutation="per-agent"),
    # Per-agent Gaussian with a fixed sigma.
    "gaussian": dict(population=20, mutations=1, mutation="gaussian", sigma=0.5),
    # Gaussian with the 1/5 success rule on a shared sigma.
    "one-fifth": dict(population=20, mutations=1, mutation="gaussian", sigma=0.5,
                      step_control="one-fifth"),
    # Tournament selection, uniform crossover, per-agent U(-1, 1) mutation, two elites.
    "tournament-uniform": dict(population=20, mutations=1, mutation="per-agent",
                               selection="tournament", crossover="uniform", elites=2),
    # Such et al. 2017 as published: Gaussian noise on every weight, truncation selection.
    "gaussian-all": dict(population=20, mutation="gaussian-all", sigma=0.01,
                         selection="truncation", truncation=4),
    # A new U(-1, 1) value for one weight per child.
    "reset": dict(population=20, mutations=1, mutation="reset"),
    # Evolution strategies: every agent a new sample around a mean, population = lambda, each
    # strategy's default sigma. CMA-ES with full covariance (Hansen 2016): O(n^2) per sample
    # and an O(n^3) eigendecomposition every 13 generations at n = 1,397.
    "cma-es": dict(population=20, strategy="cma-es"),
    # Diagonal covariance (Ros & Hansen 2008): O(n) per sample.
    "sep-cma-es": dict(population=20, strategy="sep-cma-es"),
    # Separable natural evolution strategy (Schaul et al. 2011).
    "snes": dict(population=20, strategy="snes"),
    # Salimans et al. 2017: antithetic pairs, centred ranks, Adam, weight decay, fixed sigma.
    "openai-es": dict(population=20, strategy="openai-es"),
    # Limited-memory matrix adaptation (Loshchilov et al. 2019): O(n log n) per sample.
    "lm-ma-es": dict(population=20, strategy="lm-ma-es"),
    # Exponential NES (Glasmachers et al. 2010): full shape, O(n^3) each generation, seconds
    # per generation at n = 1,397.
    "xnes": dict(population=20, strategy="xnes"),
    # PGPE with ClipUp (Sehnke et al. 2010; Toklu et al. 2020): symmetric pairs, one sigma per
    # parameter, clipped momentum steps on the mean.
    "pgpe": dict(population=20, strategy="pgpe"),
    # Evolution with gradients (Lamarckian memetic GA): every child learns 30 Adam steps (rate
    # 0.003) on the generation's images before it is measured and keeps what it learned;
    # population 17 = 16 children (one lane group) and the elite.
    "memetic": dict(population=17, mutations=1, mutation="gaussian", sigma=0.5,
                    step_control="self-adaptive", gradient_steps=30, gradient_rate=0.003),
}
#: Backpropagation, as evoae.Trainer keyword arguments with "system" naming it: the trainer's
#: defaults (Adam, learning rate 0.01, one network, every image every step).
BACKPROP: dict[str, dict] = {"backprop": dict(system="backprop")}
#: What the "system" of a setting names (default: evolution).
SYSTEMS = ("evolution", "backprop")
DEFAULT_SETTINGS = ["original", "gaussian-sa", "truncation", "backprop"]


def _value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_setting(text: str) -> tuple[str, dict]:
    """A preset name (PRESETS, BACKPROP), or NAME:key=value,key=value (Evolution keyword
    arguments, e.g. 'mine:mutation=gaussian,sigma=0.05,population=30'; Trainer keyword
    arguments with system=backprop), or PRESET+key=value,... to change a preset
    ('original+mutations=1', 'backprop+learning_rate=0.003')."""
    presets = {**PRESETS, **BACKPROP}
    if ":" in text:
        name, _, body = text.partition(":")
        base: dict = {}
    elif "+" in text:
        name, _, body = text.partition("+")
        if name not in presets:
            raise ValueError(f"unknown preset {name!r}: choose {', '.join(presets)}")
        base, name = dict(presets[name]), text
    else:
        if text not in presets:
            raise ValueError(f"unknown setting {text!r}: choose {', '.join(presets)}, or give "
                             "NAME:key=value,... (Evolution keyword arguments, or Trainer's "
                             "with system=backprop)")
        return text, dict(presets[text])
    for item in filter(None, body.split(",")):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"setting {text!r}: {item!r} is not key=value")
        base[key.strip().replace("-", "_")] = _value(value.strip())
    if not name:
        raise ValueError(f"setting {text!r} has no name")
    return name, base


def ten_digits() -> np.ndarray:
    """The ten digits, scaled as the paper's network reads them."""
    from .. import data

    return data.scale(data.ten_digits())


def _start(kwargs: dict, images: np.ndarray, seed: int, threads: Optional[int]):
    """The system a setting names (an Evolution, or with system=backprop a Trainer) on
    `images` (scaled)."""
    from ..evo.evolution import Evolution
    from ..nn.network import varadi_network
    from ..train.trainer import Trainer

    kwargs = dict(kwargs)
    system = kwargs.pop("system", "evolution")
    if system not in SYSTEMS:
        raise ValueError(f"system must be one of {', '.join(SYSTEMS)}, got {system!r}")
    cls = Trainer if system == "backprop" else Evolution
    return cls(varadi_network(), images, seed=seed, threads=threads, **kwargs)


def run_one(name: str, kwargs: dict, seed: int, seconds: float, threads: Optional[int],
            images: Optional[np.ndarray] = None, interval: float = 0.5) -> dict:
    """One run: `seconds` of evolution (or backpropagation) on `images` (scaled; default the
    ten digits). Returns the curve (seconds, generation (step), best MAE; with mini-batches
    the best on the batch) and the final MAE of the best on all images."""
    evo = _start(kwargs, ten_digits() if images is None else images, seed, threads)
    curve = [(0.0, 0, evo.best_mae)]
    evo.run(seconds=seconds, interval=interval,
            callback=lambda p: curve.append((p.elapsed, p.generation, p.best_mae)) and False)
    final = evo.evaluate_best_on_all_images()
    return {"setting": name, "system": evo.CHECKPOINT, "seed": seed, "kwargs": kwargs,
            "settings": evo.settings,
            "generations": evo.generation, "evaluations": evo.evaluations,
            "final_mae": final.mae, "curve": curve}


def compare(settings: list[tuple[str, dict]], seeds: list[int], seconds: float,
            threads: Optional[int] = 1, jobs: int = 1, images: Optional[np.ndarray] = None,
            log=sys.stderr,
            interval: Optional[float] = None, earlier: Sequence[dict] = (),
            saved: Optional[Callable[[list[dict]], None]] = None) -> list[dict]:
    """Runs every setting with every seed; returns run_one's results in that order. The
    curves get a point every `interval` seconds (default: about 500 points a run). A run in
    `earlier` (run_one's results, of the same seconds, threads and images) with the same
    setting name, keyword arguments and seed is kept, not run again. `saved(finished runs)` is
    called after each run finishes, so that a long comparison can be written as it goes."""
    if interval is None:
        interval = min(1.0, max(0.02, seconds / 500))
    tasks = [(name, kwargs, seed) for name, kwargs in settings for seed in seeds]
    kept = {(r["setting"], json.dumps(r.get("kwargs"), sort_keys=True), r["seed"]): r
            for r in earlier}
    results: list[Optional[dict]] = [
        kept.get((name, json.dumps(kwargs, sort_keys=True), seed)) for name, kwargs, seed in tasks]
    to_run = [i for i, r in enumerate(results) if r is None]
    if log:
        print(f"evoae compare: {len(settings)} settings x {len(seeds)} seeds, {seconds:g} s "
              f"each, {len(to_run)} to run ({len(tasks) - len(to_run)} kept), {jobs} at a time "
              f"({threads or 'all'} threads each): about "
              f"{len(to_run) * seconds / jobs / 60:.1f} min", file=log)

    def report(i: int, r: dict) -> None:
        results[i] = r
        if saved:
            saved([x for x in results if x is not None])
        if log:
            done = sum(x is not None for x in results)
            print(f"[{done}/{len(tasks)}] {r['setting']} seed {r['seed']}: MAE "
                  f"{r['final_mae']:.4f} after {r['generations']} "
                  f"{'steps' if r.get('system') == 'backprop' else 'generations'}", file=log,
                  flush=True)

    try:
        if jobs <= 1:
            for i in to_run:
                report(i, run_one(*tasks[i], seconds, threads, images, interval))
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = {pool.submit(run_one, *tasks[i], seconds, threads, images,
                                       interval): i for i in to_run}
                try:
                    for future in as_completed(futures):
                        report(futures[future], future.result())
                except KeyboardInterrupt:
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
    except KeyboardInterrupt:
        done = [r for r in results if r is not None]
        raise Interrupted(done) from None
    return results  # type: ignore[return-value]


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during compare(): `results` holds the runs that finished."""

    def __init__(self, results: list[dict]):
        super().__init__()
        self.results = results


def summarise(results: list[dict]) -> list[dict]:
    """Per setting, in first-seen order: its system, runs, median generations (steps), MAE
    median/min/max."""
    rows: dict[str, list[dict]] = {}
    for r in results:
        rows.setdefault(r["setting"], []).append(r)
    table = []
    for name, runs in rows.items():
        maes = np.array([r["final_mae"] for r in runs])
        table.append({"setting": name, "system": runs[0].get("system", "evolution"),
                      "runs": len(runs),
                      "generations": int(np.median([r["generations"] for r in runs])),
                      "median": float(np.median(maes)), "min": float(maes.min()),
                      "max": float(maes.max())})
    return table


def format_table(table: list[dict], seconds: float, median_image: float,
                 images: Optional[str] = None) -> str:
    """The table; `images` names other data than the ten digits, whose measured references
    (backpropagation, the original loop) then do not apply."""
    width = max(len("setting"), *(len(row["setting"]) for row in table))
    lines = [f"final mean |error| per pixel after {seconds:g} s (best agent, "
             f"{images or 'ten digits'})",
             f"{'setting':<{width}}  runs  generations  median     min     max",
             "-" * (width + 45)]
    for row in table:
        lines.append(f"{row['setting']:<{width}}  {row['runs']:>4}  {row['generations']:>11}  "
                     f"{row['median']:.4f}  {row['min']:.4f}  {row['max']:.4f}")
    lines.append(f"reference: median image {median_image:.4f}" + ("" if images else
                 f", backpropagation in the reference system ~{BACKPROP_MAE:.3f}, original "
                 f"loop after 30,000 generations 0.09-0.11"))
    if any(row["system"] == "backprop" for row in table):
        lines.append("(backprop's generations are optimiser steps of one network on every "
                     "image)")
    return "\n".join(lines)


def save_plot(path: Path, results: list[dict], median_image: float, seconds: float,
              images: Optional[str] = None) -> None:
    """Best MAE against seconds, one line per run, one colour per setting; `images` as in
    format_table."""
    from ..pictures import plt, save_figure  # matplotlib with the Agg backend

    fig, ax = plt.subplots(figsize=(7, 4.2))
    colours: dict[str, str] = {}
    for r in results:
        curve = np.array(r["curve"], dtype=float)
        first = r["setting"] not in colours
        colour = colours.setdefault(r["setting"], f"C{len(colours) % 10}")
        ax.plot(np.maximum(curve[:, 0], 1e-2), curve[:, 2], color=colour, lw=1.0, alpha=0.8,
                label=r["setting"] if first else None)
    references = [("median image", median_image, "--")]
    if images is None:
        references.append(("backprop, reference system", BACKPROP_MAE, ":"))
    for name, value, style in references:
        ax.axhline(value, ls=style, lw=0.9, color="gray")
        ax.annotate(name, (1e-2, value), fontsize=7, color="gray", va="bottom")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(1e-2, seconds * 1.05)
    ax.set_xlabel("seconds")
    ax.set_ylabel("best mean |error| per pixel (with mini-batches: on the batch)", fontsize=8)
    ax.set_title(f"evoae compare: {images or 'the ten digits'}, the paper's network",
                 fontsize=9)
    ax.grid(True, which="both", lw=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def add_compare_command(commands) -> None:
    """Registers `evoae compare` on the CLI's subcommands."""
    presets = "; ".join(f"{name}: " + ", ".join(f"{k}={v}" for k, v in kw.items())
                        for name, kw in {**PRESETS, **BACKPROP}.items())
    p = commands.add_parser(
        "compare",
        help="compare evolution's settings and backpropagation for the same time budget on "
             "the ten digits or an IDX file",
        description=(
            "Run several settings for the same time budget on the ten digits (or --data), with "
            "several seeds each: evolution's operators and strategies, and backpropagation (the "
            "preset backprop: evoae train's defaults, Adam); print a table of the final mean "
            "|error| per pixel (median, min, max over seeds) and write compare.png (error against "
            "time) and compare.json (every curve) to --out. Reference points: the per-pixel "
            "median image 0.097, backpropagation in the reference system about 0.05, the "
            "original loop after 30,000 generations 0.09-0.11 (on the ten digits). Mini-batch "
            "fitness is a setting: PRESET+batch=B. "
            f"Presets: {presets}."),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("settings", nargs="*", default=DEFAULT_SETTINGS, metavar="SETTING",
                   help="a preset name, PRESET+key=value,... (a changed preset, e.g. "
                        "backprop+learning_rate=0.003) or NAME:key=value,... (Evolution "
                        "keyword arguments, or Trainer's with system=backprop)")
    p.add_argument("--seconds", type=positive_float, default=60.0,
                   help="time budget of every run")
    p.add_argument("--seeds", type=int_at_least(1), default=3, help="seeds 0..N-1 per setting")
    p.add_argument("--threads", type=int_at_least(1, bounds(SETTINGS["threads"])[1]), default=1,
                   help="OpenMP threads per run (the same for every setting, for fairness)")
    p.add_argument("--jobs", type=int_at_least(1), default=1,
                   help="runs at the same time (each with --threads threads: keep "
                        "jobs x threads at most the number of cores)")
    p.add_argument("--samples", type=int_at_least(1), default=None,
                   help="number of images: digits 0..N-1 of the ten digits (default 10), or "
                        "the first N images of --data (default: all of them)%(default).0s")
    p.add_argument("--data", type=Path, default=None,
                   help="an IDX image file (raw or .gz) of 28x28 images instead of the ten "
                        "digits, e.g. the MNIST test set t10k-images-idx3-ubyte.gz"
                        "%(default).0s")
    p.add_argument("--out", type=Path, default=Path("evoae-compare"),
                   help="folder for compare.png and compare.json (written after every run)")
    p.add_argument("--resume", action="store_true",
                   help="keep the runs already in OUT/compare.json (same seconds, threads, "
                        "data and samples) and run only the missing ones: a long comparison "
                        "in parts")
    p.set_defaults(handler=command_compare)


def command_compare(args: argparse.Namespace) -> int:
    images = scaled_images(args)  # refuses a bad file or too many samples before any run
    args.samples = len(images)
    args.data = str(args.data.resolve()) if args.data else None
    described = f"{args.samples} images of {Path(args.data).name}" if args.data else None
    settings = [parse_setting(text) for text in args.settings]
    names = [name for name, _ in settings]
    if len(set(names)) != len(names):
        raise ValueError(f"settings named twice: {', '.join(names)}")
    for name, kwargs in settings:  # fail now, not after an hour of the others
        _check_setting(name, kwargs, images)
    median_image = median_image_mae(images)
    earlier = _earlier_runs(args.out / "compare.json", args) if args.resume else []
    probe_writable(args.out)
    started = time.perf_counter()

    def save(results: list[dict]) -> None:
        write_text_atomically(args.out / "compare.json", json.dumps(
            {"seconds": args.seconds, "seeds": args.seeds, "threads": args.threads,
             "jobs": args.jobs, "data": args.data, "samples": args.samples,
             "median_image_mae": median_image,
             "backprop_mae": BACKPROP_MAE, "table": summarise(results), "runs": results,
             "wall_seconds": time.perf_counter() - started}, indent=1) + "\n")

    try:
        results, interrupted = compare(settings, list(range(args.seeds)), args.seconds,
                                       args.threads, args.jobs, images,
                                       earlier=earlier, saved=save), False
    except Interrupted as e:  # Ctrl-C: report the runs that finished
        results, interrupted = e.results, True
        print(f"interrupted: {len(results)} runs finished", file=sys.stderr)
        if not results:
            return 130
    save(results)
    print(format_table(summarise(results), args.seconds, median_image, described))
    save_plot(args.out / "compare.png", results, median_image, args.seconds, described)
    print(f"wrote {args.out / 'compare.png'} and {args.out / 'compare.json'}")
    return 130 if interrupted else 0


def _earlier_runs(path: Path, args: argparse.Namespace) -> list[dict]:
    """The runs of an earlier `compare --out` to keep; refused if they ran otherwise."""
    if not path.exists():
        return []
    try:
        report = json.loads(path.read_text())
        runs = report["runs"]
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"--resume: {path} is not a compare.json ({e})") from None
    for key in ("seconds", "threads", "data", "samples"):
        if report.get(key) != getattr(args, key):
            raise ValueError(f"--resume: {path} ran with {key} {report.get(key)}, this "
                             f"comparison with {getattr(args, key)}: use another --out")
    return runs


def _check_setting(name: str, kwargs: dict, images: np.ndarray) -> None:
    try:
        _start(kwargs, images, 0, 1)
    except TypeError as e:
        raise ValueError(f"setting {name!r}: {e}") from e
    except ValueError as e:
        raise ValueError(f"setting {name!r}: {e}") from e
