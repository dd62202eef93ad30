"""`evoae islands`: the paper's network on the ten digits (or an IDX file) evolved as K islands
that exchange their best genomes every M generations, in this process or on Ray; a progress
line with every island's best, the migrations counted on it and logged in islands.json, and
the usual results of the best island, written also on Ctrl-C or SIGTERM. The islands'
checkpoints (OUT/islands/, saved at each migration) let --resume continue a run whose
driver was lost."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from .. import __version__
from ..evo.curves import MAE_LABEL, fitness_curve
from ..evo.settings import describe
from ..io.atomic import write_text_atomically
from ..io.results import save_result
from ..islands import TOPOLOGIES, Islands
from ..islands.backends import BACKENDS
from ..islands.history import island_history, save_island_history
from ..nn.network import varadi_network
from ..pictures import save_error_curve, save_reconstructions
from ..run import Every, Interrupt, Progress, Stop, stop_on_signals
from .arguments import int_at_least, writable_folder
from .outputs import EXIT_STATUS, RECONSTRUCTIONS_SHOWN, median_image_mae
from .run_options import (add_data_options, add_stop_options, deferred_interrupts,
                          scaled_images)
from .setting_options import add_setting_options, given_setting_options

__all__ = ["add_islands_command", "command_islands", "ISLAND_DEFAULTS", "DEFAULT_GENERATIONS"]

DEFAULT_GENERATIONS = 10000  # per island
#: The island options' defaults (None on the command line, so that --resume can refuse them).
ISLAND_DEFAULTS = {"islands": 4, "migration_interval": 100, "migrants": 1, "topology": "ring"}
CHECKPOINTS = "islands"  # OUT/islands/: the islands' checkpoints and islands.json
OUTPUT_FILES = ("result.npz", "reconstructions.png", "error_curve.png", "settings.json",
                "islands.json", "islands.png")


def add_islands_command(commands) -> None:
    parser = commands.add_parser(
        "islands",
        help="evolve the paper's network as islands that exchange their best (in-process or "
             "on Ray)",
        description=(
            "Evolve the paper's autoencoder on the ten digits as K (--islands) populations, "
            "each with the evolution settings below and its own seed (from --seed), that "
            "exchange their best E (--migrants) genomes every M (--migration-interval) "
            "generations along the --topology, replacing their worst; the result is the same "
            "for any --backend, --workers and --threads. Stops at the first of --generations "
            "(per island), --seconds, --target, --patience (default: "
            f"{DEFAULT_GENERATIONS} generations), looked at after each round of generations "
            "up to the next migration. Writes result.npz, reconstructions.png and "
            "error_curve.png of the best island, settings.json, islands.json and islands.png "
            f"(every island's curve and the migration log) and {CHECKPOINTS}/ (the islands' "
            "checkpoints, saved at each migration; --resume OUT/islands continues the run) "
            "to --out, also on Ctrl-C "
            "or SIGTERM."),
        epilog=EXIT_STATUS,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_stop_options(parser)
    add_data_options(parser, "evoae-islands")
    group = parser.add_argument_group("islands")
    group.add_argument("--islands", type=int_at_least(1), default=None, metavar="K",
                       help=f"populations (default: {ISLAND_DEFAULTS['islands']})"
                            "%(default).0s")
    group.add_argument("--migration-interval", type=int_at_least(1), default=None,
                       metavar="M", help="generations between migrations (default: "
                       f"{ISLAND_DEFAULTS['migration_interval']})%(default).0s")
    group.add_argument("--migrants", type=int_at_least(0), default=None, metavar="E",
                       help="genomes each island sends (its best) and takes, replacing its "
                            f"worst; 0: islands apart (default: {ISLAND_DEFAULTS['migrants']})"
                            "%(default).0s")
    group.add_argument("--topology", choices=TOPOLOGIES, default=None,
                       help="ring: island i sends to i + 1; full: to every other, which keep "
                            f"the best E of what arrives (default: {ISLAND_DEFAULTS['topology']})"
                            "%(default).0s")
    group.add_argument("--backend", choices=BACKENDS, default="in-process",
                       help='where the islands run: threads of this process, or Ray actors '
                            '(pip install "evoae[ray]")')
    group.add_argument("--address", default=None,
                       help="with --backend ray: the address of a running Ray cluster "
                            "(e.g. auto, or HEAD:6379); without it a local Ray is started"
                            "%(default).0s")
    group.add_argument("--workers", type=int_at_least(1), default=None,
                       help="threads or Ray actors holding the islands (default: as many as "
                            "the cores or the cluster's CPUs allow, at most one per island)"
                            "%(default).0s")
    add_setting_options(parser)
    parser.set_defaults(handler=command_islands)


def _start(args) -> Islands:
    settings = given_setting_options(args)
    threads = settings.pop("threads", None)
    options = {key: getattr(args, key) for key in ISLAND_DEFAULTS}
    where = dict(backend=args.backend, workers=args.workers, address=args.address,
                 threads=threads)
    if args.address is not None and args.backend != "ray":
        raise ValueError("--address is for --backend ray")
    if args.resume is None:
        options = {key: ISLAND_DEFAULTS[key] if value is None else value
                   for key, value in options.items()}
        return Islands(varadi_network(), scaled_images(args), **options,
                       checkpoints=args.out / CHECKPOINTS, **settings, **where)
    given = [f"--{name.replace('_', '-')}" for name, value in {**settings, **options}.items()
             if value is not None]
    if given:
        raise ValueError(f"--resume continues with the run's settings: drop {', '.join(given)}")
    images = scaled_images(args) if args.data is not None or args.samples is not None else None
    return Islands.resume(args.resume, images=images, **where)


class IslandProgress:
    """A line per round: the generation, every island's best (the first 8), the migrations
    since the last line and how many of their arrivals became their island's best."""

    SHOWN = 8

    def __init__(self, islands: Islands, stream=None):
        self.islands, self.stream = islands, sys.stderr if stream is None else stream
        self.tty = self.stream.isatty()
        self.last, self.logged = -1.0, len(islands.migrations)

    def __call__(self, p: Progress) -> None:
        if not self.tty and self.last >= 0 and p.elapsed - self.last < 5.0:
            return
        reports = self.islands.reports
        bests = " ".join(f"{r['best_metric']:.4f}" for r in reports[:self.SHOWN])
        more = " ..." if len(reports) > self.SHOWN else ""
        new = self.islands.migrations[self.logged:]
        leads = sum(a["took_lead"] for m in new for a in m["arrivals"])
        self.logged += len(new)
        text = (f"generation {p.generation:>8}  {p.metric_name} by island {bests}{more}  "
                f"best {p.best_metric:.5f}  migrations +{len(new)} ({leads} new bests)  "
                f"{p.evals_per_second:>10,.0f} evals/s  {p.elapsed:6.1f} s")
        self.stream.write(("\r" if self.tty else "") + text + ("" if self.tty else "\n"))
        self.stream.flush()
        self.last = p.elapsed

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")


def command_islands(args: argparse.Namespace) -> int:
    with writable_folder(args.out):
        try:
            islands = _start(args)
        except ImportError as e:  # Ray missing: the message says how to install it
            raise ValueError(str(e)) from None
    with islands:
        stop = Stop(args.generations, args.seconds, args.target, args.patience)
        if not stop.bounded:
            stop = Stop(generations=DEFAULT_GENERATIONS)
        s = islands.settings
        resumed = f", resumed at generation {islands.generation}" if args.resume else ""
        print(f"evoae {__version__}: {s['islands']} islands of population {s['population']}, "
              f"the best {s['migrants']} migrating every {s['migration_interval']} generations "
              f"({s['topology']}); backend {islands.backend_name}, {islands.workers} workers of "
              f"{islands.threads} threads; seed {s['seed']}{resumed}; {describe(s)}",
              file=sys.stderr)
        line = None if args.quiet else IslandProgress(islands)
        every = [Every(args.checkpoint_every, islands.save)] if args.checkpoint_every else []
        interrupt = Interrupt()
        started = time.perf_counter()
        with stop_on_signals(interrupt):
            final = islands.run(stop.generations, stop.seconds, stop.target, callback=line,
                                patience=stop.patience, every=every, stop_event=interrupt)
            if line is not None:
                line.close()
        interrupted = interrupt.signal is not None
        with deferred_interrupts():
            written = _write(args, islands, stop, final, interrupted,
                             time.perf_counter() - started)
    print(f"{'interrupted' if interrupted else 'done'} ({written['stop_reason']}): generation "
          f"{islands.generation}, best MAE {written['best_mae']:.5f} (island "
          f"{written['best_island']}; median image: {written['median_image_mae']:.5f}); wrote "
          f"{args.out}{os.sep}{{{', '.join(OUTPUT_FILES)}}} and the checkpoints to "
          f"{islands.checkpoints}")
    return 128 + int(interrupt.signal) if interrupted else 0


def _write(args, islands: Islands, stop: Stop, final: Progress, interrupted: bool,
           seconds: float) -> dict:
    """The result files of the best island, settings.json, the island history and the
    islands' checkpoints; returns what settings.json holds."""
    s = islands.settings
    images = islands.images
    full = islands.evaluate_best_on_all_images()
    reason = islands.stop_reason
    written = {"evoae_version": __version__, "network": "varadi", "best_island":
               islands.best_island, "best_error": full.error, "best_mae": full.metric,
               "samples": len(images), "data": str(args.data) if args.data else
               "ten digits (built in)", "backend": islands.backend_name,
               "workers": islands.workers, "threads": islands.threads, "operators": s,
               "stop": {"generations": stop.generations, "seconds": stop.seconds,
                        "target": stop.target, "patience": stop.patience},
               "stop_reason": reason, "interrupted": interrupted,
               "resumed_from": str(args.resume) if args.resume else None,
               "generations_done": islands.generation,
               "median_image_mae": median_image_mae(images),
               "evals_per_second": final.evals_per_second, "seconds": seconds}
    save_result(args.out / "result.npz", islands, written)
    islands.save()
    curve, label = fitness_curve(islands.history, s, islands.images_per_generation,
                                 images[0].size)
    reference = {"median image": written["median_image_mae"]} if label == MAE_LABEL else {}
    save_error_curve(args.out / "error_curve.png", curve, reference, label=label)
    shown = images[:RECONSTRUCTIONS_SHOWN]
    save_reconstructions(args.out / "reconstructions.png", shown,
                         islands.network.forward(islands.best_genome, shown),
                         title=f"generation {islands.generation}, MAE {full.metric:.4f}")
    save_island_history(args.out, island_history(islands, s))
    write_text_atomically(args.out / "settings.json", json.dumps(written, indent=2) + "\n")
    return written
