"""`evoae coevolve`: coevolved encoders and decoders with activation-guided pruning
(Lipizzaner-AE, systems/coevolution.py) and the canonical baseline (systems/canonical.py), for
every chosen method x pruning operator x schedule x seed, on the binary-clustering data or on
MNIST images; writes table.md, report.json (one row per run), runs.json (settings and
per-epoch curves) and curves.png (loss and fraction of weights kept over epochs) to --out."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from .. import __version__, data
from ..io.atomic import write_text_atomically
from ..systems.binary_clustering import binary_clustering
from ..systems.canonical import Canonical
from ..systems.coevolution import COEVO_SETTINGS, Coevolution, autoencoder_network
from .arguments import comma_separated, int_at_least, writable_folder
from .setting_options import add_setting_options, given_setting_options

__all__ = ["add_coevolve_command", "command_coevolve", "DEFAULT_SIZES"]

DEFAULT_SIZES = {"binary": "1000,30,10", "mnist": "784,64,16"}
# Settings the command runs as lists (one run per combination) instead of one value each.
_LISTED = ("method", "pruning", "schedule", "seed")
_GROUPS = {"population": "coevolution's cells (ignored by canonical)",
           "training": "training", "pruning": "pruning", "schedule": "length",
           "engine": "engine", "method": "method"}


def _choices(name: str):
    valid = COEVO_SETTINGS[name].choices

    def parse(text: str) -> str:
        if text not in valid:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(valid)}")
        return text
    return parse


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def add_coevolve_command(commands) -> argparse.ArgumentParser:
    """Registers `evoae coevolve` on the CLI's subcommands."""
    cmd = commands.add_parser(
        "coevolve",
        help="coevolved encoders and decoders with pruning (Lipizzaner-AE) against canonical "
             "training",
        description=(
            "Coevolution of encoders and decoders on a ring (or torus) of cells, each cell "
            "training the pair a tournament picks among its neighbourhood's encoder x decoder "
            "pairs, with pruning operators (random, variance, conjunctive) and schedules; "
            "and the canonical baseline (one autoencoder, Adam, step decay). Runs every "
            "combination of --methods, --pruning, --schedules and --seeds (pruning none once, "
            "whatever the schedules) and writes table.md, report.json, runs.json and "
            "curves.png to --out. Data: the seeded binary-clustering problem (10 centroids of "
            "1,000 bits, 5% noise; 1,000 training and 1,000 test samples) or, with --data "
            "mnist, --train and --test images of an IDX file. The defaults are the papers' "
            "(400 epochs, 10 cells, radius 1, batch 5, learning rate 1e-5)."),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    cmd.add_argument("--data", choices=("binary", "mnist"), default="binary",
                     help="binary = the binary-clustering problem; mnist = 28x28 images of "
                          "--images")
    cmd.add_argument("--images", type=Path, default=None, metavar="IDX",
                     help="mnist: an IDX file of 28x28 images, e.g. MNIST's "
                          "t10k-images-idx3-ubyte.gz%(default).0s")
    cmd.add_argument("--train", type=int_at_least(1), default=1000,
                     help="mnist: training images, the first of a seeded permutation")
    cmd.add_argument("--test", type=int_at_least(1), default=1000,
                     help="mnist: test images, the next of that permutation")
    cmd.add_argument("--data-seed", type=int_at_least(0), default=0,
                     help="seed of the binary-clustering data and of the mnist split (the "
                          "same data for every run)")
    cmd.add_argument("--sizes", default=None,
                     help="the encoder's sizes from the input to the code, the decoder "
                          f"mirrors it (default: {DEFAULT_SIZES['binary']} for binary, "
                          f"{DEFAULT_SIZES['mnist']} for mnist)%(default).0s")
    cmd.add_argument("--methods", type=comma_separated(_choices("method")),
                     default="coevolution,canonical", help="comma-separated")
    cmd.add_argument("--pruning", type=comma_separated(_choices("pruning")),
                     default="none,random,variance,conjunctive", help="operators, "
                     "comma-separated")
    cmd.add_argument("--schedules", type=comma_separated(_choices("schedule")),
                     default="exponential", help="comma-separated: " +
                     ", ".join(COEVO_SETTINGS["schedule"].choices))
    cmd.add_argument("--seeds", type=comma_separated(int_at_least(0)), default="0",
                     help="comma-separated; one run per seed")
    cmd.add_argument("--out", type=Path, default=Path("evoae-coevolve"),
                     help="folder for table.md, report.json, runs.json, curves.png")
    cmd.add_argument("--quiet", action="store_true", help="no progress lines")
    add_setting_options(cmd, {k: v for k, v in COEVO_SETTINGS.items() if k not in _LISTED},
                        _GROUPS)
    cmd.set_defaults(handler=command_coevolve)
    return cmd


def _sizes(text: str) -> tuple:
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise ValueError(f"--sizes: expected comma-separated integers, got {text!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"--sizes: need at least two sizes >= 1, got {text!r}")
    return sizes


def _load(args) -> tuple:
    """(train, test, input shape, what) of --data."""
    if args.data == "binary":
        if args.images is not None:
            raise ValueError("--images applies to --data mnist")
        train, test = binary_clustering(args.data_seed)
        return train, test, (1, 1000), "binary clustering (10 x 100 samples of 1000 bits)"
    if args.images is None:
        raise ValueError("--data mnist needs --images (an IDX file of 28x28 images)")
    images = data.load_idx(args.images)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"{args.images}: expected 28x28 images, the file holds an array of "
                         f"shape {images.shape}")
    if args.train + args.test > len(images):
        raise ValueError(f"--train {args.train} + --test {args.test} is more than the "
                         f"{len(images)} images of {args.images}")
    order = np.random.default_rng(args.data_seed).permutation(len(images))
    scaled = data.scale(images)
    return (scaled[np.sort(order[:args.train])],
            scaled[np.sort(order[args.train:args.train + args.test])], (28, 28),
            f"{args.images.name}: {args.train} training + {args.test} test images")


def _variants(args) -> list:
    """(method, pruning, schedule) of every run but the seeds; pruning none once."""
    out = []
    for method in _as_list(args.methods):
        for pruning in _as_list(args.pruning):
            for schedule in (["none"] if pruning == "none" else _as_list(args.schedules)):
                out.append((method, pruning, schedule))
    return out


def command_coevolve(args: argparse.Namespace) -> int:
    sizes = _sizes(args.sizes or DEFAULT_SIZES[args.data])
    shared = given_setting_options(args, {k: v for k, v in COEVO_SETTINGS.items()
                                          if k not in _LISTED})
    variants, seeds = _variants(args), _as_list(args.seeds)
    with writable_folder(args.out):
        train, test, shape, what = _load(args)
        net, encoder_layers = autoencoder_network(shape, sizes)
        # Every setting checked by the core before hours of work: each variant's system made
        # on one sample (its cells' start only).
        for method, pruning, schedule in variants:
            _make(net, train[:1], encoder_layers, shared, method, pruning, schedule, 0)
    log = (lambda text: None) if args.quiet else (lambda text: print(text, file=sys.stderr))
    total = len(variants) * len(seeds)
    log(f"evoae {__version__} coevolve: {what}; network {'-'.join(map(str, sizes))} + mirror "
        f"({net.num_params:,} parameters); {len(variants)} variants x {len(seeds)} seeds = "
        f"{total} runs")
    rows, runs = [], []
    try:
        for method, pruning, schedule in variants:
            for seed in seeds:
                label = f"run {len(rows) + 1}/{total} {method} {pruning} {schedule} seed {seed}"
                row, run = _one_run(net, train, test, encoder_layers, shared, method, pruning,
                                    schedule, seed, label, log)
                rows.append(row)
                runs.append(run)
                _write(args.out, rows, runs, sizes, what)
    except KeyboardInterrupt:
        log(f"interrupted: {len(rows)} of {total} runs written to {args.out}")
        return 130
    print(_table(rows).split("\n\n")[0])
    print(f"wrote {args.out}/{{table.md, report.json, runs.json, curves.png}}")
    return 0


def _make(net, samples, encoder_layers, shared, method, pruning, schedule, seed):
    settings = dict(shared, pruning=pruning, seed=seed)
    if pruning != "none":
        settings["schedule"] = schedule
    system = Canonical if method == "canonical" else Coevolution
    return system(net, samples, encoder_layers=encoder_layers, **settings)


def _one_run(net, train, test, encoder_layers, shared, method, pruning, schedule, seed, label,
             log) -> tuple:
    started = time.perf_counter()
    system = _make(net, train, encoder_layers, shared, method, pruning, schedule, seed)
    epochs = system.settings["epochs"]
    last = {"t": 0.0}

    def progress(p) -> None:
        if p.elapsed - last["t"] >= 10.0:
            last["t"] = p.elapsed
            kept = system.records["best_kept"][-1]
            log(f"  {label}: epoch {p.generation}/{epochs}  loss {p.best_error:.4f}  kept "
                f"{kept:.3f}  {p.elapsed:.0f} s")

    system.run(generations=epochs, callback=progress, interval=1.0)
    records = system.records
    row = {"method": method, "pruning": pruning, "schedule": schedule, "seed": seed,
           "test_loss": float(system.test_loss(test)),
           "train_loss": float(system.best_error),
           "kept_fraction": float(records["best_kept"][-1]),
           "seconds": time.perf_counter() - started}
    log(f"{label}: test loss {row['test_loss']:.4f}, train loss {row['train_loss']:.4f}, kept "
        f"{row['kept_fraction']:.3f}, {row['seconds']:.1f} s")
    run = {**row, "settings": system.settings,
           "curves": {key: np.asarray(value).tolist() for key, value in records.items()}}
    return row, run


def _write(out: Path, rows: list, runs: list, sizes: tuple, what: str) -> None:
    write_text_atomically(out / "report.json", json.dumps(rows, indent=2) + "\n")
    write_text_atomically(out / "runs.json", json.dumps(
        {"evoae_version": __version__, "data": what, "sizes": list(sizes), "runs": runs},
        indent=1) + "\n")
    write_text_atomically(out / "table.md", _table(rows) + "\n")
    _plot(out / "curves.png", runs)


def _groups(rows: list) -> dict:
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["method"], r["pruning"], r["schedule"]), []).append(r)
    return groups


def _table(rows: list) -> str:
    """Mean +- sd over the seeds of each variant, then every run."""
    def stat(values) -> str:
        values = np.asarray(values, dtype=float)
        sd = values.std(ddof=1) if len(values) > 1 else 0.0
        return f"{values.mean():.4f} ± {sd:.4f}"

    lines = ["| method | pruning | schedule | seeds | test L1 | train L1 | kept | seconds |",
             "|---|---|---|---|---|---|---|---|"]
    for (method, pruning, schedule), group in _groups(rows).items():
        lines.append(f"| {method} | {pruning} | {schedule} | {len(group)} | "
                     f"{stat([r['test_loss'] for r in group])} | "
                     f"{stat([r['train_loss'] for r in group])} | "
                     f"{stat([r['kept_fraction'] for r in group])} | "
                     f"{np.mean([r['seconds'] for r in group]):.1f} |")
    runs = ["| method | pruning | schedule | seed | test L1 | train L1 | kept | seconds |",
            "|---|---|---|---|---|---|---|---|"]
    runs += [f"| {r['method']} | {r['pruning']} | {r['schedule']} | {r['seed']} | "
             f"{r['test_loss']:.4f} | {r['train_loss']:.4f} | {r['kept_fraction']:.4f} | "
             f"{r['seconds']:.1f} |" for r in rows]
    return "\n".join(lines) + "\n\n" + "\n".join(runs)


def _plot(path: Path, runs: list) -> None:
    """The best centre's training loss and fraction of weights kept against epoch, the mean
    over each variant's seeds."""
    from ..pictures import plt, save_figure  # matplotlib with the Agg backend

    fig, (loss_ax, kept_ax) = plt.subplots(1, 2, figsize=(11, 4))
    for (method, pruning, schedule), group in _groups(runs).items():
        label = f"{method} {pruning}" + ("" if pruning == "none" else f" ({schedule})")
        style = "-" if method == "coevolution" else "--"
        for ax, key in ((loss_ax, "best_loss"), (kept_ax, "best_kept")):
            curves = np.array([r["curves"][key] for r in group])
            ax.plot(np.arange(curves.shape[1]), curves.mean(axis=0), style, lw=1.2, label=label)
    loss_ax.set_ylabel("training L1 loss of the best centre")
    kept_ax.set_ylabel("fraction of weights kept (best centre)")
    for ax in (loss_ax, kept_ax):
        ax.set_xlabel("epoch")
        ax.grid(True, lw=0.3)
    loss_ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)
