"""What a training command (`evoae run`, `evoae train`) does once its system is set up: the
progress line, the run through the one loop with Ctrl-C and SIGTERM as stop events and a
checkpoint every N generations (steps), and the result files (result.npz, checkpoint.npz,
error_curve.png, reconstructions.png, settings.json), written also when a signal stopped it."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Callable

import numpy as np

from .. import __version__
from ..evo.curves import MAE_LABEL, fitness_curve
from ..io.atomic import write_text_atomically
from ..run import Every, Interrupt, Progress, Stop, stop_on_signals
from .run_options import CHECKPOINT_NAME, deferred_interrupts

__all__ = ["ProgressLine", "plain_run", "run_and_write", "write_results", "median_image_mae",
           "RECONSTRUCTIONS_SHOWN", "OUTPUT_FILES", "EXIT_STATUS"]

#: The epilog of a training command's --help.
EXIT_STATUS = ("The final line (done or interrupted, and the files written) goes to stdout; "
               "progress and warnings go to stderr. Exit status: 0 done; 2 bad input (one "
               "line on stderr says which); 130 stopped by Ctrl-C (SIGINT) and 143 by "
               "SIGTERM, both after writing every file.")
RECONSTRUCTIONS_SHOWN = 10  # images in reconstructions.png (the first ones)
OUTPUT_FILES = ("result.npz", "reconstructions.png", "error_curve.png", "settings.json",
                CHECKPOINT_NAME)


class ProgressLine:
    """One status line, rewritten in place on a terminal, printed every few seconds otherwise.
    `unit` names what the loop counts ("generation", "step"), `error` the best's fitness."""

    def __init__(self, stream=None, unit: str = "generation", error: str = "error"):
        self.stream = sys.stderr if stream is None else stream  # the one current now
        self.tty = self.stream.isatty()
        self.last = 0.0
        self.unit, self.error = unit, error

    def __call__(self, p: Progress) -> None:
        text = (f"{self.unit} {p.generation:>8}  best {p.metric_name} {p.best_metric:.5f}  "
                f"{self.error} {p.best_error:10.3f}  {p.evals_per_second:>10,.0f} evals/s  "
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


def plain_run(system, stop: Stop, line, every: list, interrupt: Interrupt) -> Progress:
    """system.run under `stop`, with the progress `line`, the actions `every` and the
    stop event `interrupt`."""
    return system.run(stop.generations, stop.seconds, stop.target, callback=line,
                      patience=stop.patience, every=every, stop_event=interrupt)


def run_and_write(args: argparse.Namespace, system, images: np.ndarray, source: dict,
                  stop: Stop, summary: Callable[[object], dict], unit: str = "generation",
                  error: str = "error", go: Callable = plain_run) -> int:
    """Run `system` until `stop` or a signal, with a progress line (unless --quiet) and a
    checkpoint every --checkpoint-every; then write the results to --out and print the final
    line. `source`: where the images came from and the seconds of running before (kept in
    the checkpoint's extra); `summary(system)`: the system's own settings.json entries, with
    best_error and best_mae measured on all images; `go(system, stop, line, every,
    interrupt)` runs it (by default system.run). Returns the exit status: 0, or 128 + the
    signal."""
    checkpoint = args.out / CHECKPOINT_NAME
    started, seconds_before = time.perf_counter(), source["seconds"]

    def extra() -> dict:  # kept in the checkpoint: where the images came from, time so far
        return {"cli": dict(source, seconds=seconds_before + time.perf_counter() - started)}

    line = None if args.quiet else ProgressLine(unit=unit, error=error)
    every = []
    if args.checkpoint_every:
        every.append(Every(args.checkpoint_every, lambda: system.save(checkpoint, extra())))
    interrupt = Interrupt()
    with stop_on_signals(interrupt):
        final = go(system, stop, line, every, interrupt)
        if line is not None:
            line.close()
    interrupted = interrupt.signal is not None
    with deferred_interrupts():
        settings = write_results(args, system, images, source, stop, final, interrupted,
                                 extra, summary(system), unit)
    held_out = settings.get("holdout_mae")
    held_out = "" if held_out is None else f", held-out MAE {held_out:.5f}"
    print(f"{'interrupted' if interrupted else 'done'} ({settings['stop_reason']}): "
          f"{unit} {system.generation}, best MAE {settings['best_mae']:.5f}{held_out} "
          f"(median image: {settings['median_image_mae']:.5f}); wrote "
          f"{args.out}{os.sep}{{{', '.join(OUTPUT_FILES)}}}")
    if not interrupted:
        return 0
    return 128 + int(interrupt.signal)  # 130 for Ctrl-C, 143 for SIGTERM, as a shell reports


def median_image_mae(images: np.ndarray) -> float:
    """The reference a reconstruction must beat: predicting every image by the per-pixel
    median image."""
    return float(np.abs(images - np.median(images, axis=0)).mean())


def write_results(args, system, images, source: dict, stop: Stop, final: Progress,
                  interrupted: bool, extra, summary: dict, unit: str = "generation") -> dict:
    """result.npz, checkpoint.npz, error_curve.png, reconstructions.png and settings.json;
    returns what settings.json holds."""
    from ..io.results import save_result
    from ..pictures import save_error_curve, save_reconstructions

    s = system.settings
    baseline = median_image_mae(images)
    reason = system.stop_reason
    if reason == "generations":  # the loop's name for the count it runs
        reason = f"{unit}s"
    settings = {
        "evoae_version": __version__,
        **summary,
        "samples": len(images),
        "data": source.get("data") or "ten digits (built in)",
        "threads": args.threads,
        "operators": s,
        "stop": {f"{unit}s": stop.generations, "seconds": stop.seconds,
                 "target": stop.target, "patience": stop.patience},
        "stop_reason": reason,
        "interrupted": interrupted,
        "resumed_from": str(args.resume) if args.resume else None,
        f"{unit}s_done": system.generation,
        "median_image_mae": baseline,
        "evals_per_second": final.evals_per_second,
        "seconds": final.elapsed,
    }
    save_result(args.out / "result.npz", system, settings)
    system.save(args.out / CHECKPOINT_NAME, extra())
    curve, label = fitness_curve(system.history, s, system.images_per_generation,
                                 images[0].size)
    # The median image's MAE is a reference only for a curve of MAE values.
    reference = {"median image": baseline} if label == MAE_LABEL else {}
    save_error_curve(args.out / "error_curve.png", curve, reference, label=label,
                     unit=unit)
    shown = images[:RECONSTRUCTIONS_SHOWN]  # a picture of 10,000 would take minutes
    save_reconstructions(args.out / "reconstructions.png", shown,
                         system.network.forward(system.best_genome, shown),
                         title=f"{unit} {system.generation}, MAE {settings['best_mae']:.4f}")
    write_text_atomically(args.out / "settings.json", json.dumps(settings, indent=2) + "\n")
    return settings
