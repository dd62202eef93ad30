"""`evoae run`: evolve the paper's network on the ten digits (or an IDX file), with a progress
line, optionally live in a window or recorded to frames, and write the results. Every path
(plain, --view, --record) runs through the one loop (evoae.run) with the same stop
conditions; Ctrl-C and SIGTERM stop it after the generations running and everything is
written (outputs.py)."""
from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from .. import __version__
from ..evo.evolution import Evolution
from ..evo.settings import describe
from ..nn.network import varadi_network
from ..run import Stop
from .arguments import int_at_least, writable_folder
from .outputs import EXIT_STATUS, plain_run, run_and_write
from .run_options import add_data_options, add_stop_options, start_system
from .setting_options import add_setting_options

__all__ = ["add_run_command", "command_run", "DEFAULT_GENERATIONS"]

DEFAULT_GENERATIONS = 30000  # the length of the reference runs (about 20 s on 2 cores)


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
        epilog=EXIT_STATUS,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_stop_options(run)
    add_data_options(run, "evoae-out")
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


def command_run(args: argparse.Namespace) -> int:
    net = varadi_network()
    # Before any work: a run whose files cannot be written is lost.
    with writable_folder(args.out), (writable_folder(args.record, "--record")
                                     if args.record is not None else contextlib.nullcontext()):
        evolution, images, source = start_system(args, net, Evolution)
    stop = Stop(args.generations, args.seconds, args.target, args.patience)
    if not stop.bounded:
        stop = Stop(generations=DEFAULT_GENERATIONS)
    s = evolution.settings
    resumed = f", resumed at generation {evolution.generation}" if args.resume else ""
    mutations = f", {s['mutations']} mutations" if s["strategy"] == "ga" else ""  # GA only
    print(f"evoae {__version__}: {net.num_params} parameters, {len(images)} images, "
          f"population {s['population']}{mutations}, seed {s['seed']}"
          f"{resumed}; {describe(s)}", file=sys.stderr)

    def go(evolution, stop, line, every, interrupt):
        if args.view or args.record is not None:
            from ..viewer import watch  # imports SDL only when a window opens

            return watch(evolution, stop=stop, callback=line, every=every,
                         stop_event=interrupt, window=args.view, record=args.record,
                         record_every=args.record_every, screenshots=args.out)
        return plain_run(evolution, stop, line, every, interrupt)

    return run_and_write(args, evolution, images, source, stop, _summary, go=go)


def _summary(evolution) -> dict:
    """settings.json's entries of an evolution: its network, population, mutations, seed and
    the best's error and MAE on all images."""
    s = evolution.settings
    summary = {"network": "varadi", "population": s["population"],
               "mutations": s["mutations"], "seed": s["seed"]}
    if s["batch"]:  # the honest number: the best agent on all images
        full = evolution.evaluate_best_on_all_images()
        return {**summary, "best_error": full.error, "best_mae": full.metric,
                "batch_best_mae": evolution.best_mae}
    return {**summary, "best_error": evolution.best_error, "best_mae": evolution.best_mae}
