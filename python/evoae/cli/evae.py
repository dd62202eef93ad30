"""`evoae evae`: the evolutionary VAE against five baselines (VAE, beta-VAE, linear and cyclical
KL annealing, a ControlVAE-style PI controller) on the same networks, data and budget
(evoae.systems.evae), for one or more seeds; writes table.md, report.json, curves.png,
samples.png and traversal.png. Its options come from the settings table
(evoae.systems.evae.EVAE_SETTINGS)."""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from .. import __version__
from ..io.atomic import write_text_atomically
from ..run import Every, Interrupt, stop_on_signals
from ..systems.evae import EVAE_SETTINGS, METHODS, EvaeRun
from ..systems.evae_pictures import save_curves, save_samples, save_traversal
from .arguments import int_at_least, writable_folder
from .run_options import deferred_interrupts, load_images
from .setting_options import add_setting_options, given_setting_options

__all__ = ["add_evae_command", "command_evae", "PRESETS", "OUTPUTS", "COLUMNS"]

#: The two settings of the issue: quick (all six methods within 10 minutes on 2 cores on the
#: 8,000 MNIST training images) and full. Options given on the command line override them.
PRESETS = {"quick": {"steps": 1200, "hidden": 200, "latent": 16},
           "full": {"steps": 3000, "hidden": 256, "latent": 16}}
OUTPUTS = ("table.md", "report.json", "curves.png", "samples.png", "traversal.png")
#: The table's columns: report.json's keys and their headers.
COLUMNS = (("elbo", "held-out ELBO (nats, higher is better)"),
           ("reconstruction", "reconstruction"), ("kl", "KL (nats)"),
           ("active_units", "active units"), ("kl_target", "KL target"), ("beta", "final beta"))
GROUPS = {"training": "training (every method alike)", "model": "the VAE",
          "evae": "eVAE (and the target the controller shares)", "baselines": "baselines",
          "engine": "engine"}


def add_evae_command(commands) -> None:
    """Registers `evoae evae` on the CLI's subcommands."""
    p = commands.add_parser(
        "evae",
        help="the evolutionary VAE (eVAE) against VAE, beta-VAE, annealing, cyclical "
             "annealing and a PI controller",
        description=(
            "Train six VAE methods side by side on the same networks, mini-batches, noise "
            "and steps, one VAE per SIMD lane: eVAE (Wu, Cao & Qi 2025: a population whose KL "
            "weights beta evolve by SBX crossover, Cauchy V-mutation and selection on the "
            "ELBO's improvement and the KL's closeness to --kl-target, the selected networks "
            "copied), a VAE (beta 1), a beta-VAE (beta 4), linear KL annealing, cyclical "
            "annealing (Fu et al. 2019) and a ControlVAE-style PI controller steering the KL "
            "to the same target (Shao et al. 2020). The last --holdout of the images is held "
            "out; the table measures every method there. Default data: the built-in ten "
            "digits (a quick look); --data t10k-images-idx3-ubyte.gz for the issue's 8,000 / "
            "2,000 split. --quick: the quick setting (" +
            ", ".join(f"{k} {v}" for k, v in PRESETS["quick"].items()) + "), else the full ("
            + ", ".join(f"{k} {v}" for k, v in PRESETS["full"].items()) + "). Writes " +
            ", ".join(OUTPUTS) + " to --out, also after Ctrl-C (the steps done so far)."),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    data = p.add_argument_group("data and output")
    data.add_argument("--data", type=Path, default=None,
                      help="an IDX file of 28x28 images (raw or .gz), e.g. MNIST's "
                           "t10k-images-idx3-ubyte.gz (default: the ten built-in digits)"
                           "%(default).0s")
    data.add_argument("--samples", type=int_at_least(2), default=None,
                      help="use the first N images (default: all)%(default).0s")
    data.add_argument("--out", type=Path, default=Path("evoae-evae"),
                      help="folder for the result files (created if missing)")
    data.add_argument("--quick", action="store_true",
                      help="the quick setting (steps, network size) instead of the full one")
    data.add_argument("--seeds", type=int_at_least(1), default=1, metavar="N",
                      help="runs with seeds --seed, --seed + 1, ...: the table gives their "
                           "mean and spread")
    data.add_argument("--pictures-every", type=int_at_least(1), default=None, metavar="N",
                      help="also rewrite samples.png every N steps of the first seed's run, "
                           "to watch the samples live in any image viewer%(default).0s")
    data.add_argument("--view", action="store_true",
                      help="show every method's samples, beta and KL live in a window "
                           "(viewer/evae.py); q, Esc or closing it stops the run as Ctrl-C does")
    data.add_argument("--quiet", action="store_true", help="no progress lines")
    add_setting_options(p, EVAE_SETTINGS, GROUPS)
    p.set_defaults(handler=command_evae)


def _images(args: argparse.Namespace) -> np.ndarray:
    """The images as intensities in [0, 1]: --samples of --data (or of the ten digits)."""
    if args.data is None and args.samples is None:
        args.samples = 10
    pixels = load_images(args)
    if pixels.dtype.kind not in "iu" or pixels.min() < 0 or pixels.max() > 255:
        raise ValueError(f"{args.data}: expected integer pixels 0..255, got {pixels.dtype} "
                         f"from {pixels.min()} to {pixels.max()}")
    return pixels.astype(np.float32) / np.float32(255.0)


def _settings(args: argparse.Namespace, images: int) -> dict:
    """The preset updated by the options given; a batch larger than the training images
    (the ten digits) shrinks to all of them unless --batch was given."""
    settings = dict(PRESETS["quick" if args.quick else "full"])
    settings.update(given_setting_options(args, EVAE_SETTINGS))
    if "batch" not in settings:
        holdout = settings.get("holdout", EVAE_SETTINGS["holdout"].default)
        train = images - round(holdout * images)
        settings["batch"] = max(1, min(EVAE_SETTINGS["batch"].default, train))
    return settings


def command_evae(args: argparse.Namespace) -> int:
    images = _images(args)
    settings = _settings(args, len(images))
    first_seed = settings.get("seed", 0)
    seeds = [first_seed + i for i in range(args.seeds)]
    with writable_folder(args.out):  # the settings checked before any work
        runs = [EvaeRun(images, **dict(settings, seed=first_seed))]
    print(f"evoae {__version__} evae: {runs[0].num_train} training + {runs[0].num_holdout} "
          f"held-out images, {len(METHODS) - 1} baselines + {runs[0].settings['population']} "
          f"eVAE networks of {runs[0].encoder.num_params + runs[0].decoder.num_params:,} "
          f"parameters, {runs[0].settings['steps']} steps, seeds {seeds}", file=sys.stderr)
    viewer = None
    if args.view:
        from ..viewer.evae import EvaeViewer
        viewer = EvaeViewer(runs[0].settings["latent"])
    interrupt = Interrupt()
    tables, seconds = [], []
    with stop_on_signals(interrupt):
        for i, seed in enumerate(seeds):
            run = runs[0] if i == 0 else EvaeRun(images, **dict(settings, seed=seed))
            started = time.perf_counter()
            every = []
            if args.pictures_every and i == 0:
                every.append(Every(args.pictures_every,
                                   lambda r=run: save_samples(args.out / "samples.png", r)))
            callback = _progress(args, seed, run)
            if viewer is not None:
                callback = _both(callback, viewer.callback(run, seed))
            run.run(generations=run.settings["steps"], callback=callback,
                    interval=0.5, every=every, stop_event=interrupt)
            run.finish()
            seconds.append(time.perf_counter() - started)
            tables.append(run.results())
            if i == 0:
                first = run
            if viewer is not None and viewer.closed:  # the window closed: stop all runs
                interrupt.set()
            if interrupt.is_set():
                break
    if viewer is not None:
        viewer.close()
    with deferred_interrupts():
        _write(args.out, first, tables, seeds[:len(tables)], seconds, settings, args)
    state = "interrupted" if interrupt.is_set() else "done"
    print(f"{state}: {len(tables)} seed(s) in {sum(seconds):.1f} s; wrote "
          f"{', '.join(OUTPUTS)} to {args.out}")
    if interrupt.is_set():
        return 128 + (interrupt.signal or 2)
    return 0


def _progress(args, seed: int, run: EvaeRun):
    """A progress line every 5 seconds: eVAE's leader and the controller, beta and KL."""
    last = [0.0]

    def line(p) -> None:
        if args.quiet or (p.elapsed - last[0] < 5.0 and last[0] > 0.0):
            return
        last[0] = p.elapsed
        betas, kl = run.beta_history[-1], run.kl_history[-1]
        e, c = run.member("evae"), run.member("control")
        print(f"seed {seed} step {p.generation:>6}/{run.settings['steps']}  eVAE beta "
              f"{betas[e]:.3g} KL {kl[e]:.2f}  control beta {betas[c]:.3g} KL {kl[c]:.2f}  "
              f"(target {run.settings['kl_target']:g})  {p.elapsed:.0f} s", file=sys.stderr)
    return line


def _both(progress, view):
    """One run-loop callback of the progress lines and the view's (which may stop the run)."""
    def callback(p) -> bool:
        progress(p)
        return view(p)
    return callback


def _summary(tables: list) -> dict:
    """Per method: each column's mean over the seeds, and the per-seed values."""
    report = {}
    for method in METHODS:
        entry, per_seed = {}, {}
        for key, _ in COLUMNS:
            values = [t[method][key] for t in tables if key in t[method]]
            if values:
                entry[key] = float(np.mean(values))
                per_seed[key] = values
        entry["per_seed"] = per_seed
        report[method] = entry
    return report


def _cell(values: list, key: str) -> str:
    if not values:
        return ""
    digits = 0 if key == "active_units" and len(values) == 1 else 2
    mean = f"{np.mean(values):.{digits}f}" if key != "beta" else f"{np.mean(values):.3g}"
    return mean + (f" ± {np.std(values):.2f}" if len(values) > 1 else "")


def _write(out: Path, run: EvaeRun, tables: list, seeds: list, seconds: list, settings: dict,
           args: argparse.Namespace) -> None:
    report = _summary(tables)
    report.update(seeds=seeds, seconds=seconds, settings=run.settings,
                  images={"source": str(args.data) if args.data else "ten built-in digits",
                          "train": run.num_train, "holdout": run.num_holdout},
                  steps_done=run.generation, evoae=__version__,
                  machine=platform.machine())
    write_text_atomically(out / "report.json", json.dumps(report, indent=1) + "\n")
    header = "| method | " + " | ".join(title for _, title in COLUMNS) + " |"
    lines = [f"eVAE and baselines, {len(seeds)} seed(s) {seeds} (mean ± sd over seeds), "
             f"{run.num_holdout} held-out images, {run.generation} steps:", "", header,
             "|" + "---|" * (len(COLUMNS) + 1)]
    for method in METHODS:
        cells = [_cell([t[method][key] for t in tables if key in t[method]], key)
                 for key, _ in COLUMNS]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    write_text_atomically(out / "table.md", "\n".join(lines) + "\n")
    save_curves(out / "curves.png", run, f"seed {seeds[0]}: beta and KL over training")
    save_samples(out / "samples.png", run)
    save_traversal(out / "traversal.png", run)
