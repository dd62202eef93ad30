"""The evoae command line: `evoae run` evolves the paper's network on the ten digits."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from . import __version__, data
from .evolution import Evolution, Progress
from .network import varadi_network
from .tied_cli import add_tied_command

DEFAULT_GENERATIONS = 2000


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evoae",
        description="Train autoencoders by evolution (Varadi 2021) with a C++/OpenMP core.",
    )
    parser.add_argument("--version", action="version", version=f"evoae {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="evolve the paper's network to reconstruct the ten digits",
        description=(
            "Evolve the paper's 1397-parameter autoencoder (28x28 -> 2-D code -> 28x28) with "
            "the original loop: each generation the best agent is copied into all, and "
            "MUTATIONS shared indices get U(-1, 1) added in every agent but the best. Stops at "
            f"the first of --generations, --seconds, --target (default: {DEFAULT_GENERATIONS} "
            "generations). Writes result.npz, reconstructions.png, error_curve.png and "
            "settings.json to --out."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    run.add_argument("--population", type=_positive_int, default=20,
                     help="number of agents (genomes) per generation")
    run.add_argument("--mutations", type=_non_negative_int, default=10,
                     help="parameter indices mutated per generation (shared by all agents)")
    run.add_argument("--generations", type=_non_negative_int, default=None,
                     help="stop after this many generations")
    run.add_argument("--seconds", type=_positive_float, default=None,
                     help="stop after this many seconds")
    run.add_argument("--target", type=_positive_float, default=None,
                     help="stop when the best mean |error| per pixel is at or below this")
    run.add_argument("--seed", type=_non_negative_int, default=0,
                     help="random seed; the same seed gives the same run on any thread count")
    run.add_argument("--samples", type=_positive_int, default=10,
                     help="number of images: digits 0..N-1 of the ten digits, or the first N "
                          "images of --data")
    run.add_argument("--data", type=Path, default=None,
                     help="an IDX image file (raw or .gz) of 28x28 images to use instead of "
                          "the built-in ten digits")
    run.add_argument("--threads", type=_positive_int, default=None,
                     help="OpenMP threads (default: all cores, or OMP_NUM_THREADS)")
    run.add_argument("--out", type=Path, default=Path("evoae-out"),
                     help="folder for the result files (created if missing)")
    run.add_argument("--quiet", action="store_true", help="no progress line")
    run.set_defaults(handler=command_run)
    add_tied_command(commands)
    return parser


def load_images(args: argparse.Namespace) -> np.ndarray:
    """The uint8 images the run uses, (samples, 28, 28)."""
    if args.data is None:
        images = data.ten_digits()
        if args.samples > len(images):
            raise ValueError(f"--samples {args.samples}: the built-in data has "
                             f"{len(images)} digits; use --data for more")
    else:
        images = data.load_idx(args.data)
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise ValueError(f"{args.data}: expected 28x28 images, the file holds an array "
                             f"of shape {images.shape}")
        if args.samples > len(images):
            raise ValueError(f"--samples {args.samples}: {args.data} has {len(images)} images")
    return images[: args.samples]


class ProgressLine:
    """One status line, rewritten in place on a terminal, printed every few seconds otherwise."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.tty = stream.isatty()
        self.last = 0.0

    def __call__(self, p: Progress) -> None:
        text = (f"generation {p.generation:>8}  best MAE {p.best_mae:.5f}  "
                f"error {p.best_error:10.3f}  {p.evals_per_second:>10,.0f} evals/s  "
                f"{p.elapsed:6.1f} s")
        if self.tty:
            self.stream.write("\r" + text)
            self.stream.flush()
        elif p.elapsed - self.last >= 5.0 or self.last == 0.0:
            self.stream.write(text + "\n")
            self.last = p.elapsed

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")


def command_run(args: argparse.Namespace) -> int:
    from .pictures import save_error_curve, save_reconstructions
    from .results import save_result

    images = data.scale(load_images(args))
    net = varadi_network()
    generations = args.generations
    if generations is None and args.seconds is None and args.target is None:
        generations = DEFAULT_GENERATIONS
    args.out.mkdir(parents=True, exist_ok=True)
    evolution = Evolution(net, images, population=args.population, mutations=args.mutations,
                          seed=args.seed, threads=args.threads)
    baseline = float(np.abs(images - np.median(images, axis=0)).mean())
    print(f"evoae {__version__}: {net.num_params} parameters, {len(images)} images, "
          f"population {args.population}, {args.mutations} mutations, seed {args.seed}",
          file=sys.stderr)
    line = ProgressLine()
    interrupted = False
    try:
        final = evolution.run(generations=generations, seconds=args.seconds, target=args.target,
                              callback=None if args.quiet else line)
    except KeyboardInterrupt:
        interrupted = True
    line.close()

    settings = {
        "evoae_version": __version__,
        "network": "varadi",
        "population": args.population,
        "mutations": args.mutations,
        "seed": args.seed,
        "samples": len(images),
        "data": str(args.data) if args.data else "ten digits (built in)",
        "threads": args.threads,
        "stop": {"generations": generations, "seconds": args.seconds, "target": args.target},
        "interrupted": interrupted,
        "generations_done": evolution.generation,
        "best_error": evolution.best_error,
        "best_mae": evolution.best_mae,
        "median_image_mae": baseline,
    }
    if not interrupted:
        settings["evals_per_second"] = final.evals_per_second
        settings["seconds"] = final.elapsed
    save_result(args.out / "result.npz", evolution, settings)
    pixels = len(images) * images[0].size
    save_error_curve(args.out / "error_curve.png", evolution.history / pixels,
                     {"median image": baseline})
    save_reconstructions(args.out / "reconstructions.png", images, evolution.reconstructions(),
                         title=f"generation {evolution.generation}, "
                               f"MAE {evolution.best_mae:.4f}")
    (args.out / "settings.json").write_text(json.dumps(settings, indent=2) + "\n")
    print(f"{'interrupted' if interrupted else 'done'}: generation {evolution.generation}, "
          f"best MAE {evolution.best_mae:.5f} (median image: {baseline:.5f}); "
          f"wrote {args.out}{os.sep}{{result.npz, reconstructions.png, error_curve.png, "
          f"settings.json}}", file=sys.stderr)
    return 130 if interrupted else 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, OSError) as e:
        print(f"evoae: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
