"""`evoae run`: evolve the paper's network on the ten digits (or an IDX file), with a progress
line, optionally live in a window or recorded to frames, and write the results. Every path
(plain, --view, --record) runs through the one loop (evoae.run) with the same stop
conditions; Ctrl-C and SIGTERM stop it after the generations running and everything is
written."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from .. import __version__
from ..evo.curves import fitness_curve
from ..io.atomic import write_text_atomically
from ..evo.settings import describe
from ..nn.network import varadi_network
from ..run import Every, Interrupt, Progress, Stop, stop_on_signals
from .arguments import int_at_least, positive_float, writable_folder
from .run_options import CHECKPOINT_NAME, deferred_interrupts, start_evolution
from .setting_options import add_setting_options

__all__ = ["add_run_command", "command_run", "ProgressLine", "DEFAULT_GENERATIONS"]

DEFAULT_GENERATIONS = 30000  # the length of the reference runs (about 20 s on 2 cores)
RECONSTRUCTIONS_SHOWN = 10  # images in reconstructions.png (the first ones)


def add_run_command(commands) -> None:
    run = commands.add_parser(
        "run",
        help="evolve the paper's network to reconstruct the ten digits",
        description=(
            "Evolve the paper's 1397-parameter autoencoder (28x28 -> 2-D code -> 28x28) with "
            "the original loop: each generation the best agent is copied into all, and "
            "MUTATIONS shared indices get U(-1, 1) added in every agent but the best. Stops at "
            f"the first of --generations, --seconds, --target, --patience (default: "
            f"{DEFAULT_GENERATIONS} generations). Writes result.npz, reconstructions.png, "
            "error_curve.png, settings.json and checkpoint.npz (to --resume from) to --out, "
            "also on Ctrl-C or SIGTERM. Other operators (mutation, step-size control, "
            "crossover, selection, elites, fitness), mini-batches and checkpoints: see the "
            "groups of options below."
        ),
        epilog=("The final line (done or interrupted, and the files written) goes to stdout; "
                "progress and warnings go to stderr. Exit status: 0 done; 2 bad input (one "
                "line on stderr says which); 130 stopped by Ctrl-C (SIGINT) and 143 by "
                "SIGTERM, both after writing every file."),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    stop = run.add_argument_group("stopping (the first that holds)")
    stop.add_argument("--generations", type=int_at_least(0), default=None,
                      help="stop after this many generations%(default).0s")
    stop.add_argument("--seconds", type=positive_float, default=None,
                      help="stop after this many seconds%(default).0s")
    stop.add_argument("--target", type=positive_float, default=None,
                      help="stop when the best mean |error| per pixel is at or below this"
                           "%(default).0s")
    stop.add_argument("--patience", type=int_at_least(1), default=None, metavar="G",
                      help="stop when the best error has not improved for G generations"
                           "%(default).0s")
    data = run.add_argument_group("data and output")
    data.add_argument("--samples", type=int_at_least(1), default=None,
                      help="number of images: digits 0..N-1 of the ten digits (default 10), "
                           "or the first N images of --data (default: all of them)"
                           "%(default).0s")
    data.add_argument("--data", type=Path, default=None,
                      help="an IDX image file (raw or .gz) of 28x28 images to use instead of "
                           "the built-in ten digits, e.g. the 10,000 of the MNIST test set "
                           "t10k-images-idx3-ubyte.gz%(default).0s")
    data.add_argument("--out", type=Path, default=Path("evoae-out"),
                      help="folder for the result files (created if missing)")
    data.add_argument("--quiet", action="store_true", help="no progress line")
    data.add_argument("--checkpoint-every", type=int_at_least(1), default=None, metavar="N",
                      help=f"also write the complete state to OUT/{CHECKPOINT_NAME} every N "
                           "generations (it is always written at the end and on Ctrl-C)"
                           "%(default).0s")
    data.add_argument("--resume", type=Path, default=None, metavar="PATH",
                      help="continue the run saved in a checkpoint, bit for bit as if it had "
                           "not stopped, with its settings and images; --generations counts "
                           "further generations%(default).0s")
    view = run.add_argument_group("watching")
    view.add_argument("--view", action="store_true",
                      help="watch the run live in a window (space pause, s screenshot, a "
                           "image scale, Esc/q stop and write the results); without a display "
                           "it says so and runs on without the window")
    view.add_argument("--record", type=Path, default=None, metavar="DIR",
                      help="write a PNG frame of the live view to DIR every --record-every "
                           "generations (no window needed); `evoae gif DIR` joins them"
                           "%(default).0s")
    view.add_argument("--record-every", type=int_at_least(1), default=100, metavar="N",
                      help="generations between recorded frames")
    add_setting_options(run)
    run.set_defaults(handler=command_run)


class ProgressLine:
    """One status line, rewritten in place on a terminal, printed every few seconds otherwise."""

    def __init__(self, stream=None):
        self.stream = sys.stderr if stream is None else stream  # the one current now
        self.tty = self.stream.isatty()
        self.last = 0.0

    def __call__(self, p: Progress) -> None:
        text = (f"generation {p.generation:>8}  best {p.metric_name} {p.best_metric:.5f}  "
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
    net = varadi_network()
    # Before any work: a run whose files cannot be written is lost.
    with writable_folder(args.out), (writable_folder(args.record, "--record")
                                     if args.record is not None else contextlib.nullcontext()):
        evolution, images, source = start_evolution(args, net)
    stop = Stop(args.generations, args.seconds, args.target, args.patience)
    if not stop.bounded:
        stop = Stop(generations=DEFAULT_GENERATIONS)
    checkpoint = args.out / CHECKPOINT_NAME
    started, seconds_before = time.perf_counter(), source["seconds"]

    def extra() -> dict:  # kept in the checkpoint: where the images came from, time so far
        return {"cli": dict(source, seconds=seconds_before + time.perf_counter() - started)}

    baseline = float(np.abs(images - np.median(images, axis=0)).mean())
    s = evolution.settings
    resumed = f", resumed at generation {evolution.generation}" if args.resume else ""
    mutations = f", {s['mutations']} mutations" if s["strategy"] == "ga" else ""  # GA only
    print(f"evoae {__version__}: {net.num_params} parameters, {len(images)} images, "
          f"population {s['population']}{mutations}, seed {s['seed']}"
          f"{resumed}; {describe(s)}", file=sys.stderr)
    line = None if args.quiet else ProgressLine()
    every = []
    if args.checkpoint_every:
        every.append(Every(args.checkpoint_every, lambda: evolution.save(checkpoint, extra())))
    interrupt = Interrupt()
    with stop_on_signals(interrupt):
        if args.view or args.record is not None:
            from ..viewer import watch  # imports SDL only when a window opens

            final = watch(evolution, stop=stop, callback=line, every=every,
                          stop_event=interrupt, window=args.view, record=args.record,
                          record_every=args.record_every, screenshots=args.out)
        else:
            final = evolution.run(stop.generations, stop.seconds, stop.target, callback=line,
                                  patience=stop.patience, every=every, stop_event=interrupt)
        if line is not None:
            line.close()
    interrupted = interrupt.signal is not None
    with deferred_interrupts():
        settings = write_results(args, evolution, images, source, stop, final, baseline,
                                 interrupted, extra)
    print(f"{'interrupted' if interrupted else 'done'} ({settings['stop_reason']}): "
          f"generation {evolution.generation}, best MAE {settings['best_mae']:.5f} (median "
          f"image: {baseline:.5f}); wrote {args.out}{os.sep}{{result.npz, reconstructions.png, "
          f"error_curve.png, settings.json, {CHECKPOINT_NAME}}}")
    if not interrupted:
        return 0
    return 128 + int(interrupt.signal)  # 130 for Ctrl-C, 143 for SIGTERM, as a shell reports


def write_results(args, evolution, images, source: dict, stop: Stop, final: Progress,
                  baseline: float, interrupted: bool, extra) -> dict:
    """result.npz, checkpoint.npz, error_curve.png, reconstructions.png and settings.json."""
    from ..io.results import save_result
    from ..pictures import save_error_curve, save_reconstructions

    s = evolution.settings
    if s["batch"]:  # the honest number: the best agent on all images
        full = evolution.evaluate_best_on_all_images()
        best_error, best_mae = full.error, full.metric
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
        "stop": {"generations": stop.generations, "seconds": stop.seconds,
                 "target": stop.target, "patience": stop.patience},
        "stop_reason": evolution.stop_reason,
        "interrupted": interrupted,
        "resumed_from": str(args.resume) if args.resume else None,
        "generations_done": evolution.generation,
        "best_error": best_error,
        "best_mae": best_mae,
        "median_image_mae": baseline,
        "evals_per_second": final.evals_per_second,
        "seconds": final.elapsed,
    }
    if s["batch"]:
        settings["batch_best_mae"] = evolution.best_mae
    save_result(args.out / "result.npz", evolution, settings)
    evolution.save(args.out / CHECKPOINT_NAME, extra())
    curve, label = fitness_curve(evolution.history, s, evolution.images_per_generation,
                                 images[0].size)
    # The median image's MAE is a reference only for a curve of MAE values.
    reference = {"median image": baseline} if s["fitness"] == "sae" else {}
    save_error_curve(args.out / "error_curve.png", curve, reference, label=label)
    shown = images[:RECONSTRUCTIONS_SHOWN]  # a picture of 10,000 would take minutes
    save_reconstructions(args.out / "reconstructions.png", shown,
                         evolution.network.forward(evolution.best_genome, shown),
                         title=f"generation {evolution.generation}, MAE {best_mae:.4f}")
    write_text_atomically(args.out / "settings.json", json.dumps(settings, indent=2) + "\n")
    return settings
