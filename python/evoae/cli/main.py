"""The evoae command line: `evoae run` evolves the paper's network on the ten digits (live in a
window with --view), `evoae view` shows a saved result, `evoae gif` joins recorded frames."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from .. import __version__
from .arguments import int_at_least, positive_float
from ..evo.evolution import Progress
from ..nn.network import varadi_network
from .compare import add_compare_command
from .tied import add_tied_command
from .run_options import (CHECKPOINT_NAME, add_run_options, deferred_interrupts, describe,
                          run_callback, start_evolution)

DEFAULT_GENERATIONS = 30000  # the length of the reference runs (about 20 s on 2 cores)
RECONSTRUCTIONS_SHOWN = 10  # images in reconstructions.png (the first ones)





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
            "generations). Writes result.npz, reconstructions.png, error_curve.png, "
            "settings.json and checkpoint.npz (to --resume from) to --out, also on Ctrl-C. "
            "Other operators (mutation, step-size control, crossover, selection, elites, "
            "fitness), mini-batches, patience and checkpoints: see the groups of options below."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    run.add_argument("--population", type=int_at_least(1), default=20,
                     help="number of agents (genomes) per generation")
    run.add_argument("--mutations", type=int_at_least(0), default=10,
                     help="k: parameter positions mutated per child (with --mutation "
                          "original, drawn once per generation and shared by all children)")
    run.add_argument("--generations", type=int_at_least(0), default=None,
                     help="stop after this many generations")
    run.add_argument("--seconds", type=positive_float, default=None,
                     help="stop after this many seconds")
    run.add_argument("--target", type=positive_float, default=None,
                     help="stop when the best mean |error| per pixel is at or below this")
    run.add_argument("--seed", type=int_at_least(0), default=0,
                     help="random seed; the same seed gives the same run on any thread count")
    run.add_argument("--samples", type=int_at_least(1), default=None,
                     help="number of images: digits 0..N-1 of the ten digits (default 10), or "
                          "the first N images of --data (default: all of them)")
    run.add_argument("--data", type=Path, default=None,
                     help="an IDX image file (raw or .gz) of 28x28 images to use instead of "
                          "the built-in ten digits, e.g. the 10,000 of the MNIST test set "
                          "t10k-images-idx3-ubyte.gz")
    run.add_argument("--threads", type=int_at_least(1), default=None,
                     help="OpenMP threads (default: all cores, or OMP_NUM_THREADS)")
    run.add_argument("--out", type=Path, default=Path("evoae-out"),
                     help="folder for the result files (created if missing)")
    run.add_argument("--quiet", action="store_true", help="no progress line")
    run.add_argument("--view", action="store_true",
                     help="watch the run live in a window (space pause, s screenshot, a image "
                          "scale, Esc/q stop and write the results); without a display it "
                          "says so and runs on without the window")
    run.add_argument("--record", type=Path, default=None, metavar="DIR",
                     help="write a PNG frame of the live view to DIR every --record-every "
                          "generations (no window needed); `evoae gif DIR` joins them"
                          "%(default).0s")
    run.add_argument("--record-every", type=int_at_least(1), default=100, metavar="N",
                     help="generations between recorded frames")
    add_run_options(run)
    run.set_defaults(handler=command_run)

    view = commands.add_parser(
        "view",
        help="show a saved result in the viewer window",
        description=(
            "Open a result.npz written by `evoae run` in the viewer: targets, "
            "reconstructions, error curve and latent plane (keys: a image scale, "
            "s screenshot, Esc/q close). Without a display it writes the view to a PNG."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    view.add_argument("result", type=Path, metavar="RESULT.npz", help="a saved result")
    view.add_argument("--save", type=Path, default=None, metavar="PNG",
                      help="also write the view to this PNG file (works without a display)"
                           "%(default).0s")
    view.add_argument("--no-window", action="store_true",
                      help="open no window (with --save: only write the PNG)")
    view.set_defaults(handler=command_view)

    gif = commands.add_parser(
        "gif",
        help="join recorded frames into an animated GIF",
        description="Join the frames `evoae run --record DIR` wrote into one looping GIF.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    gif.add_argument("frames", type=Path, metavar="DIR", help="folder of recorded frames")
    gif.add_argument("--out", type=Path, default=None,
                     help="the GIF to write (default: DIR/evolution.gif)%(default).0s")
    gif.add_argument("--fps", type=positive_float, default=8.0, help="frames per second")
    gif.add_argument("--hold", type=float, default=2.0,
                     help="seconds the last frame stays before the loop restarts")
    gif.add_argument("--max-frames", type=int_at_least(1), default=300,
                     help="keep at most this many frames, evenly spaced")
    gif.set_defaults(handler=command_gif)

    add_compare_command(commands)
    add_tied_command(commands)
    return parser



class ProgressLine:
    """One status line, rewritten in place on a terminal, printed every few seconds otherwise."""

    def __init__(self, stream=None):
        self.stream = sys.stderr if stream is None else stream  # the one current now
        self.tty = self.stream.isatty()
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
    from ..pictures import save_error_curve, save_reconstructions
    from ..io.results import save_result

    net = varadi_network()
    evolution, images, source = start_evolution(args, net)
    generations = args.generations
    if (generations is None and args.seconds is None and args.target is None
            and args.patience is None):
        generations = DEFAULT_GENERATIONS
    args.out.mkdir(parents=True, exist_ok=True)
    checkpoint = args.out / CHECKPOINT_NAME
    started, seconds_before = time.perf_counter(), source["seconds"]

    def extra() -> dict:  # kept in the checkpoint: where the images came from, time so far
        return {"cli": dict(source, seconds=seconds_before + time.perf_counter() - started)}

    baseline = float(np.abs(images - np.median(images, axis=0)).mean())
    s = evolution.settings
    resumed = f", resumed at generation {evolution.generation}" if args.resume else ""
    print(f"evoae {__version__}: {net.num_params} parameters, {len(images)} images, "
          f"population {s['population']}, {s['mutations']} mutations, seed {s['seed']}"
          f"{resumed}; {describe(evolution)}", file=sys.stderr)
    line = ProgressLine()
    interrupted, final = False, None
    try:
        if args.view or args.record is not None:
            from ..viewer import watch  # imports SDL only when a window opens

            callback = run_callback(evolution, None if args.quiet else line, args.patience,
                                    checkpoint, args.checkpoint_every, extra)
            final = watch(evolution, generations=generations, seconds=args.seconds,
                          target=args.target, callback=callback,
                          window=args.view, record=args.record,
                          record_every=args.record_every, screenshots=args.out)
        else:
            final = evolution.run(generations=generations, seconds=args.seconds,
                                  target=args.target, callback=None if args.quiet else line,
                                  patience=args.patience,
                                  checkpoint=checkpoint if args.checkpoint_every else None,
                                  checkpoint_every=args.checkpoint_every,
                                  checkpoint_extra=extra)
    except KeyboardInterrupt:  # the generation running has finished: write everything
        interrupted = True
    line.close()

    with deferred_interrupts():
        if s["batch"]:  # the honest number: the best agent on all images
            full = evolution.evaluate_best_on_all_images()
            best_error, best_mae = full.error, full.mae
        else:
            best_error, best_mae = evolution.best_error, evolution.best_mae
        settings = {
            "evoae_version": __version__,
            "network": "varadi",
            "population": s["population"],
            "mutations": s["mutations"],
            "seed": s["seed"],
            "samples": len(images),
            "data": source.get("data") or "ten digits (built in)",
            "threads": args.threads,
            "operators": s,
            "stop": {"generations": generations, "seconds": args.seconds,
                     "target": args.target, "patience": args.patience},
            "stop_reason": "interrupted" if interrupted else evolution.stop_reason,
            "interrupted": interrupted,
            "resumed_from": str(args.resume) if args.resume else None,
            "generations_done": evolution.generation,
            "best_error": best_error,
            "best_mae": best_mae,
            "median_image_mae": baseline,
        }
        if s["batch"]:
            settings["batch_best_mae"] = evolution.best_mae
        if final is not None and not interrupted:
            settings["evals_per_second"] = final.evals_per_second
            settings["seconds"] = final.elapsed
        save_result(args.out / "result.npz", evolution, settings)
        evolution.save(checkpoint, extra())
        if s["fitness"] == "sae":
            pixels = evolution.images_per_generation * images[0].size
            save_error_curve(args.out / "error_curve.png", evolution.history / pixels,
                             {"median image": baseline})
        else:  # the curve of the fitness itself
            save_error_curve(args.out / "error_curve.png", evolution.history)
        shown = images[:RECONSTRUCTIONS_SHOWN]  # a picture of 10,000 would take minutes
        save_reconstructions(args.out / "reconstructions.png", shown,
                             net.forward(evolution.best_genome, shown),
                             title=f"generation {evolution.generation}, MAE {best_mae:.4f}")
        (args.out / "settings.json").write_text(json.dumps(settings, indent=2) + "\n")
    print(f"{'interrupted' if interrupted else 'done'} ({settings['stop_reason']}): "
          f"generation {evolution.generation}, best MAE {best_mae:.5f} (median image: "
          f"{baseline:.5f}); wrote {args.out}{os.sep}{{result.npz, reconstructions.png, "
          f"error_curve.png, settings.json, {CHECKPOINT_NAME}}}", file=sys.stderr)
    return 130 if interrupted else 0


def command_view(args: argparse.Namespace) -> int:
    from ..viewer import view_result

    if args.no_window and args.save is None:
        raise ValueError("--no-window without --save would show nothing")
    if not args.result.is_file():
        raise ValueError(f"{args.result}: no such file")
    save = args.save
    viewer = view_result(args.result, window=not args.no_window, save=save,
                         screenshots=args.result.parent)
    if viewer is None and save is None:  # no display: leave the view as a picture
        save = args.result.with_name(args.result.stem + "-view.png")
        view_result(args.result, window=False, save=save)
    if save is not None:
        print(f"wrote {save}", file=sys.stderr)
    return 0


def command_gif(args: argparse.Namespace) -> int:
    from ..viewer import frame_files, frames_to_gif

    out = frames_to_gif(args.frames, args.out, fps=args.fps, hold_last=args.hold,
                        max_frames=args.max_frames)
    count = min(len(frame_files(args.frames)), args.max_frames)
    print(f"wrote {out} ({count} frames)", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, OSError) as e:
        print(f"evoae: error: {e}", file=sys.stderr)
        return 2

