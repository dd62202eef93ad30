"""The options of `evoae run` beyond the original loop: operators, stopping, mini-batches,
checkpoints and resuming, and the pieces of command_run that use them."""
from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from .. import data
from .arguments import int_at_least, positive_float
from ..evo.evolution import DEFAULT_SIGMA, OPERATORS, Evolution, Progress

__all__ = ["add_run_options", "operator_kwargs", "load_images", "start_evolution", "describe",
           "run_callback", "deferred_interrupts", "CHECKPOINT_NAME"]

CHECKPOINT_NAME = "checkpoint.npz"

MUTATION_HELP = (
    "how a child is changed: original = MUTATIONS indices drawn once per generation, shared "
    "by all children, each adds sigma*U(-1,1) (Varadi 2021; sigma 1); per-agent = the same "
    "with each child's own indices; gaussian = sigma*N(0,1) added at MUTATIONS own indices "
    "(Such et al. 2017, Deep Neuroevolution); gaussian-all = sigma*N(0,1) on every weight "
    "(Such et al. 2017 as published); reset = MUTATIONS weights get a new U(-1,1) value "
    "(random resetting); zero = MUTATIONS weights set to 0 (David & Greental 2014)")
STEP_HELP = (
    "step-size control: fixed; schedule = sigma goes geometrically to --sigma-end and "
    "MUTATIONS linearly to --mutations-end over --schedule-generations; one-fifth = "
    "Rechenberg's 1/5 success rule (sigma /= 0.85 when over 1/5 of the children beat their "
    "parent, *= 0.85 when under); self-adaptive = each agent carries its own sigma, a child "
    "multiplies its parent's by exp(tau*N(0,1)) (Schwefel's log-normal self-adaptation)")
CROSSOVER_HELP = (
    "none; uniform = each weight from either of two parents (Syswerda 1989); layer = each "
    "layer's weights and biases from either parent (Montana & Davis 1989's node crossover "
    "at the grain of layers). Needs --selection truncation or tournament")
SELECTION_HELP = (
    "who the children come from: copy-best = all from the best agent (Varadi 2021); "
    "truncation = each from one of the --truncation best, uniformly (Such et al. 2017); "
    "tournament = the best of --tournament-size agents drawn at random (Goldberg & Deb 1991)")
FITNESS_HELP = (
    "what is minimised: sae = sum over images and pixels of |output - target| (Varadi 2021); "
    "mse = mean squared error; rmse = its root. Progress and --target always use the mean "
    "|error| per pixel")




def _add(group, *names, help: str, **kwargs) -> None:
    # "%(default).0s" prints nothing: it keeps ArgumentDefaultsHelpFormatter from adding
    # "(default: None)" after a help text that says what the default is.
    group.add_argument(*names, help=help + "%(default).0s", **kwargs)


def add_run_options(run: argparse.ArgumentParser) -> None:
    """Adds the operator, stopping, data and checkpoint options to `evoae run`."""
    ops = run.add_argument_group(
        "operators (the defaults are the original loop of Varadi 2021)")
    _add(ops, "--mutation", choices=OPERATORS["mutation"], default=None,
                     help=MUTATION_HELP + " (default: original)")
    _add(ops, "--sigma", type=positive_float, default=None,
                     help="step size: scales U(-1,1) or N(0,1); the start value under "
                          "--step-control (default: " +
                          ", ".join(f"{k} {v:g}" for k, v in DEFAULT_SIGMA.items()
                                    if k not in ("reset", "zero")) + ")")
    _add(ops, "--step-control", choices=OPERATORS["step_control"], default=None,
                     help=STEP_HELP + " (default: fixed)")
    _add(ops, "--sigma-end", type=positive_float, default=None,
                     help="schedule: the final sigma (default: --sigma)")
    _add(ops, "--mutations-end", type=int_at_least(0), default=None,
                     help="schedule: the final number of mutated positions (default: "
                          "--mutations)")
    _add(ops, "--schedule-generations", type=int_at_least(1), default=None,
                     metavar="G", help="schedule: generations from the start to the end values")
    _add(ops, "--tau", type=positive_float, default=None,
                     help="self-adaptive: learning rate of log sigma (default: "
                          "1/sqrt(2*parameters), 0.019 for the paper's network)")
    _add(ops, "--crossover", choices=OPERATORS["crossover"], default=None,
                     help=CROSSOVER_HELP + " (default: none)")
    _add(ops, "--selection", choices=OPERATORS["selection"], default=None,
                     help=SELECTION_HELP + " (default: copy-best)")
    _add(ops, "--truncation", type=int_at_least(1), default=None, metavar="T",
                     help="truncation: the number of best agents that are parents "
                          "(default: max(2, population/5))")
    _add(ops, "--tournament-size", type=int_at_least(1), default=None, metavar="K",
                     help="tournament: agents per tournament (default: 3)")
    _add(ops, "--elites", type=int_at_least(0), default=None, metavar="E",
                     help="the E best agents pass on unchanged and are not evaluated again "
                          "(unless --batch changes the images) (default: 1, as the original)")
    _add(ops, "--fitness", choices=OPERATORS["fitness"], default=None,
                     help=FITNESS_HELP + " (default: sae)")

    more = run.add_argument_group("stopping, larger data and checkpoints")
    _add(more, "--patience", type=int_at_least(1), default=None, metavar="G",
                      help="stop when the best error has not improved for G generations")
    _add(more, "--batch", type=int_at_least(1), default=None, metavar="B",
                      help="mini-batch fitness: each generation evaluates on a new seeded "
                           "random subset of B of the images; the best is evaluated on all "
                           "images at the end")
    _add(more, "--checkpoint-every", type=int_at_least(1), default=None, metavar="N",
                      help=f"also write the complete state to OUT/{CHECKPOINT_NAME} every N "
                           "generations (it is always written at the end and on Ctrl-C)")
    _add(more, "--resume", type=Path, default=None, metavar="PATH",
                      help="continue the run saved in a checkpoint, bit for bit as if it had "
                           "not stopped, with its settings and images; --generations counts "
                           "further generations")


_OPERATOR_OPTIONS = ("mutation", "sigma", "step_control", "sigma_end", "mutations_end",
                     "schedule_generations", "tau", "crossover", "selection", "truncation",
                     "tournament_size", "elites", "fitness", "batch")


def operator_kwargs(args: argparse.Namespace) -> dict:
    """The Evolution keyword arguments the options give (unset ones left to the defaults)."""
    return {name: getattr(args, name) for name in _OPERATOR_OPTIONS
            if getattr(args, name) is not None}


def load_images(args: argparse.Namespace) -> np.ndarray:
    """The uint8 images the run uses, (samples, 28, 28): --samples (default 10) of the ten
    digits, or the first --samples (default: all) images of --data."""
    if args.data is None:
        images = data.ten_digits()
        samples = 10 if args.samples is None else args.samples
        if samples > len(images):
            raise ValueError(f"--samples {samples}: the built-in data has {len(images)} "
                             f"digits; use --data for more (e.g. the MNIST test set)")
    else:
        images = data.load_idx(args.data)
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise ValueError(f"{args.data}: expected 28x28 images, the file holds an array "
                             f"of shape {images.shape}")
        samples = len(images) if args.samples is None else args.samples
        if samples > len(images):
            raise ValueError(f"--samples {samples}: {args.data} has {len(images)} images")
    return images[:samples]


def start_evolution(args: argparse.Namespace, net) -> tuple[Evolution, np.ndarray, dict]:
    """A new Evolution from the options, or with --resume the saved one. Returns it, its
    images and what to keep in the checkpoint's extra (data source, seconds so far)."""
    if args.resume is None:
        images = data.scale(load_images(args))
        evolution = Evolution(net, images, population=args.population,
                              mutations=args.mutations, seed=args.seed, threads=args.threads,
                              **operator_kwargs(args))
        source = {"data": str(args.data) if args.data else None, "samples": len(images),
                  "seconds": 0.0}
        return evolution, images, source

    from ..io.checkpoint import read_checkpoint

    given = [f"--{name.replace('_', '-')}" for name in _OPERATOR_OPTIONS
             if getattr(args, name) is not None]
    given += [f"--{name}" for name, default in (("population", 20), ("mutations", 10),
                                                 ("seed", 0))
              if getattr(args, name) != default]
    if given:
        raise ValueError(f"--resume continues with the checkpoint's settings: drop "
                         f"{', '.join(given)}")
    images = None
    if args.data is not None or args.samples is not None:
        images = data.scale(load_images(args))
    try:
        saved = read_checkpoint(args.resume, images=images, network=net)
    except ValueError as e:
        source = _saved_source(args.resume)
        if images is not None or source.get("data") is None or "fingerprint" not in str(e):
            raise
        # Large data: the checkpoint keeps a fingerprint; read the images where they came from.
        images = data.scale(load_images(argparse.Namespace(data=Path(source["data"]),
                                                           samples=source["samples"])))
        saved = read_checkpoint(args.resume, images=images, network=net)
    source = dict(saved.extra.get("cli", {}))
    source.setdefault("seconds", 0.0)
    evolution = Evolution.restore(saved.network, saved.images, saved.settings, saved.state,
                                  args.threads)
    return evolution, evolution.images, source


def _saved_source(path: Path) -> dict:
    """The data source recorded in a checkpoint's extra (read when its images are not in it)."""
    from ..io.archive import read_archive
    from ..io.checkpoint import KIND

    try:
        return read_archive(path, KIND)[0]["extra"].get("cli", {})
    except (ValueError, KeyError, AttributeError):
        return {}


def describe(evolution: Evolution) -> str:
    """The settings that differ from the original loop, e.g. 'mutation gaussian (sigma 0.1)'."""
    s = evolution.settings
    parts = []
    if s["mutation"] != "original" or s["sigma"] != 1.0:
        parts.append(f"mutation {s['mutation']}" +
                     (f" (sigma {s['sigma']:g})" if s["mutation"] not in ("reset", "zero")
                      else ""))
    if s["step_control"] != "fixed":
        parts.append(f"step control {s['step_control']}")
    if s["crossover"] != "none":
        parts.append(f"crossover {s['crossover']}")
    if s["selection"] != "copy-best":
        extra = (f" (T {s['truncation']})" if s["selection"] == "truncation"
                 else f" (size {s['tournament_size']})" if s["selection"] == "tournament" else "")
        parts.append(f"selection {s['selection']}{extra}")
    if s["elites"] != 1:
        parts.append(f"{s['elites']} elites")
    if s["fitness"] != "sae":
        parts.append(f"fitness {s['fitness']}")
    if s["batch"]:
        parts.append(f"batches of {s['batch']}")
    return ", ".join(parts) if parts else "the original loop"


def run_callback(evolution: Evolution, callback: Optional[Callable[[Progress], Optional[bool]]],
                 patience: Optional[int], checkpoint: Path, checkpoint_every: Optional[int],
                 extra: Callable[[], dict]):
    """For runs whose loop is not Evolution.run (the viewer): a callback that also stops
    after `patience` generations without a new lowest best error and saves a checkpoint
    when a multiple of `checkpoint_every` generations has passed (both checked per call)."""
    if patience is None and checkpoint_every is None:
        return callback
    saved = [evolution.generation]

    def wrapped(p: Progress) -> bool:
        stop = bool(callback(p)) if callback is not None else False
        generation = evolution.generation
        if checkpoint_every and generation // checkpoint_every > saved[0] // checkpoint_every:
            evolution.save(checkpoint, extra())
            saved[0] = generation
        return stop or (patience is not None and generation - evolution.improved_at >= patience)
    return wrapped


@contextlib.contextmanager
def deferred_interrupts():
    """Ctrl-C while the results are written waits until they are written (main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda *_: received.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        print("evoae: interrupted again while writing; the files are complete", file=sys.stderr)
