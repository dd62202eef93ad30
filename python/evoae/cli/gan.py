"""`evoae gan`: a plain GAN, E-GAN and CE-GAN on a 2-D toy (8 Gaussians on a ring, 25 on a
grid) or on MNIST, over seeds; writes the measures as table.md and report.json, sample grids
over time and plots of the measures (systems/gan_report.py). add_gan_command() registers it
with the evoae command line."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from .. import __version__, data
from ..run import Every, Interrupt, stop_on_signals
from ..systems.gan import METHODS, Gan, mnist_conv_networks, mnist_networks, toy_networks
from ..systems.gan_measures import (TOYS, class_tvd, frechet_distance, toy_measures,
                                    train_classifier)
from ..systems.gan_report import (MEASURES, save_measure_plot, save_over_time,
                                  save_sample_grid, table_markdown, write_report)
from .arguments import comma_separated, int_at_least, number_at_least, positive_float, \
    writable_folder

__all__ = ["add_gan_command", "command_gan", "QUICK", "LONGER", "LONG_TOY"]

# Generations per run: --quick runs the three methods on two seeds of MNIST in under 10
# minutes on two cores (4 min 16 s measured); the longer setting is the default.
QUICK = {"toy": 2000, "mnist": 400}
LONGER = {"toy": 4000, "mnist": 1500}
# --long, toys only: at 4,000 generations no method covers more than 5 of the grid's 25
# modes; 20,000 generations with the public code's one D step per generation (kD = 1) is
# where they spread (bench/results/gan.md: 3.7 minutes per seed for the three methods).
LONG_TOY = {"generations": 20000, "d_steps": 1}
D_STEPS = 3
# Adam's learning rate: the public code's 2e-4 on MNIST; the toys learn in few enough
# generations only at 2e-3.
LEARNING_RATE = {"toy": 2e-3, "mnist": 2e-4}
SAMPLES = {"toy": 2500, "mnist": 2000}  # generated per measurement


def _seeds(text: str) -> list:
    seeds = comma_separated(int_at_least(0))(text)
    return seeds if isinstance(seeds, list) else [seeds]


def _methods(text: str) -> list:
    names = [m.strip() for m in text.split(",")]
    for m in names:
        if m not in METHODS:
            raise argparse.ArgumentTypeError(f"unknown method {m!r}: use {', '.join(METHODS)}")
    return names


def add_gan_command(commands) -> argparse.ArgumentParser:
    gan = commands.add_parser(
        "gan",
        help="GAN, E-GAN and CE-GAN on a 2-D toy or MNIST, with their measures",
        description=(
            "Train a plain GAN, E-GAN (generators mutated by three losses, selected by "
            "quality and diversity) and CE-GAN (E-GAN's mutants crossed by distillation) "
            "with the same networks, over seeds, on 8 Gaussians on a ring, 25 on a grid, or "
            "MNIST (--images, --labels: IDX files, e.g. the test set: its first 8,000 images "
            "train the GANs, the other 2,000 a classifier). Writes to --out table.md, "
            "report.json, samples-over-time.png, measures.png and samples/ (a grid per "
            "run and snapshot). Toys: modes covered and the share of samples within 3 "
            "standard deviations of a mode; MNIST: the Frechet distance on the classifier's "
            "features and the class-frequency TVD."),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    gan.add_argument("dataset", choices=("ring", "grid", "mnist"),
                     help="8 Gaussians on a ring, 25 on a grid, or MNIST (--images, --labels)")
    gan.add_argument("--images", type=Path, default=None,
                     help="mnist: IDX file of 28x28 images (10,000: split 8,000 / 2,000)"
                          "%(default).0s")
    gan.add_argument("--labels", type=Path, default=None,
                     help="mnist: IDX file of their labels%(default).0s")
    gan.add_argument("--methods", type=_methods, default=list(METHODS),
                     help="comma-separated, of " + ", ".join(METHODS) + "%(default).0s")
    gan.add_argument("--seeds", type=_seeds, default=[0, 1],
                     help="comma-separated seeds, one run per method and seed%(default).0s")
    length = gan.add_mutually_exclusive_group()
    length.add_argument("--quick", action="store_true",
                        help=f"the quick setting: {QUICK['toy']} generations on a toy, "
                             f"{QUICK['mnist']} on MNIST (else {LONGER['toy']} / "
                             f"{LONGER['mnist']})")
    length.add_argument("--long", action="store_true",
                        help=f"toys: {LONG_TOY['generations']} generations and "
                             f"{LONG_TOY['d_steps']} D step per generation (the public "
                             "code's), where the methods cover more than a few grid modes")
    gan.add_argument("--generations", type=int_at_least(1), default=None,
                     help="per run (overrides --quick and --long)%(default).0s")
    gan.add_argument("--networks", choices=("dense", "conv"), default="dense",
                     help="mnist: dense (32-128-784 / 784-128-1) or the convolutional pair "
                          "(systems/gan.py: mnist_conv_networks)")
    gan.add_argument("--snapshots", type=int_at_least(1), default=5,
                     help="measurements and sample grids per run, evenly spaced")
    gan.add_argument("--out", type=Path, default=Path("evoae-gan"), help="output folder")
    gan.add_argument("--threads", type=int_at_least(1), default=None,
                     help="OpenMP threads (default: all cores); results do not depend on it"
                          "%(default).0s")
    gan.add_argument("--view", action="store_true",
                     help="show the samples live in a window (viewer/gan.py)")
    evo = gan.add_argument_group("the GANs (the public code's defaults)")
    evo.add_argument("--parents", type=int_at_least(1), default=1,
                     help="E-GAN's and CE-GAN's surviving generators (mu)")
    evo.add_argument("--diversity-weight", type=number_at_least(0), default=0.1,
                     help="lambda of F = Fq + lambda Fd (0: quality alone)")
    evo.add_argument("--crossovers", type=int_at_least(1), default=3,
                     help="CE-GAN's distillation children per generation")
    evo.add_argument("--children-only", action="store_true",
                     help="CE-GAN keeps only children (default: the best of mutants and "
                          "children)")
    evo.add_argument("--d-steps", type=int_at_least(0), default=None,
                     help=f"discriminator steps per generation (default {D_STEPS}; "
                          f"{LONG_TOY['d_steps']} with --long)%(default).0s")
    evo.add_argument("--batch", type=int_at_least(1), default=64,
                     help="noise vectors and real samples of a step")
    evo.add_argument("--learning-rate", type=positive_float, default=None,
                     help="Adam's, of generators and discriminator (betas 0.5, 0.999; default "
                          f"{LEARNING_RATE['toy']:g} on a toy, {LEARNING_RATE['mnist']:g} on "
                          "MNIST)%(default).0s")
    gan.add_argument("--classifier-steps", type=int_at_least(1), default=600,
                     help="mnist: Adam steps (batches of 64) of the measuring classifier")
    gan.set_defaults(handler=command_gan)
    return gan


def _load_mnist(args) -> dict:
    if args.images is None or args.labels is None:
        raise ValueError("mnist needs --images and --labels (IDX files of 10,000 images, "
                         "e.g. MNIST's t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz)")
    images, labels = data.load_idx(args.images), data.load_idx(args.labels)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"--images must hold 28x28 images, got shape {images.shape}")
    if labels.shape != (len(images),):
        raise ValueError(f"--labels must hold one label per image ({len(images)}), "
                         f"got shape {labels.shape}")
    if len(images) < 2000:
        raise ValueError(f"--images holds {len(images)} images; the split needs 10,000 "
                         "(8,000 / 2,000) or at least 2,000")
    images = data.scale(images)
    train = len(images) * 4 // 5
    return {"train": images[:train], "train_labels": labels[:train].astype(np.int64),
            "held": images[train:], "held_labels": labels[train:].astype(np.int64)}


class _Measure:
    """The measures of one kind of data on a run's samples."""

    def __init__(self, args, mnist: dict | None):
        self.toy = TOYS.get(args.dataset)
        self.kind = "toy" if self.toy is not None else "mnist"
        self.names = MEASURES[self.kind]
        self.extra: dict = {}
        if mnist is None:
            return
        # The classifier learns the 2,000 held-out images and is tested on the 8,000 the GANs
        # learn from; the Frechet reference is the features of those 8,000.
        started = time.perf_counter()
        self.classifier = train_classifier(mnist["held"], mnist["held_labels"], mnist["train"],
                                           mnist["train_labels"], steps=args.classifier_steps,
                                           threads=args.threads)
        self.reference = self.classifier.features(mnist["train"])
        self.labels = mnist["train_labels"]
        floor = frechet_distance(self.classifier.features(mnist["held"]), self.reference)
        self.extra = {"classifier_accuracy": self.classifier.accuracy,
                      "frechet_real_heldout": floor,
                      "classifier_seconds": time.perf_counter() - started}
        print(f"classifier: test accuracy {self.classifier.accuracy:.4f} on the "
              f"{len(mnist['train'])} training images (trained on the {len(mnist['held'])} "
              f"held out); Frechet distance of the held-out real images {floor:.3f}",
              file=sys.stderr)

    def __call__(self, samples: np.ndarray) -> dict:
        if self.toy is not None:
            return toy_measures(self.toy, samples)
        images = samples.reshape(-1, 28, 28)
        return {"frechet": frechet_distance(self.classifier.features(images), self.reference),
                "class_tvd": class_tvd(self.classifier.classes(images), self.labels)}


def command_gan(args: argparse.Namespace) -> int:
    kind = "mnist" if args.dataset == "mnist" else "toy"
    if args.long and kind != "toy":
        raise ValueError("--long is a setting of the toys (ring, grid), not of mnist: "
                         "give --generations instead")
    if args.networks == "conv" and kind == "toy":
        raise ValueError("--networks conv is for mnist: a toy's samples are 2-D points")
    preset = LONG_TOY if args.long else {
        "generations": (QUICK if args.quick else LONGER)[kind], "d_steps": D_STEPS}
    generations = args.generations or preset["generations"]
    d_steps = preset["d_steps"] if args.d_steps is None else args.d_steps
    every = max(1, generations // args.snapshots)
    rate = args.learning_rate or LEARNING_RATE[kind]
    with writable_folder(args.out):
        mnist = _load_mnist(args) if kind == "mnist" else None
        (args.out / "samples").mkdir(exist_ok=True)
    measure = _Measure(args, mnist)
    real = mnist["train"] if mnist else TOYS[args.dataset].sample(20000, seed=0)
    settings = dict(parents=args.parents, diversity_weight=args.diversity_weight,
                    crossovers=args.crossovers, comprehensive=not args.children_only,
                    d_steps=d_steps, batch=args.batch, eval_batch=args.batch,
                    g_learning_rate=rate, d_learning_rate=rate)
    viewer = None
    if args.view:
        from ..viewer.gan import GanViewer
        viewer = GanViewer(measure.toy)
    results: dict = {}
    curves: dict = {}
    frames: dict = {}
    interrupt = Interrupt()
    with stop_on_signals(interrupt):
        for method in args.methods:
            for seed in args.seeds:
                if interrupt.is_set():
                    break
                net_g, net_d = (toy_networks() if kind == "toy" else
                                mnist_conv_networks() if args.networks == "conv" else
                                mnist_networks())
                system = Gan(net_g, net_d, real, method=method, seed=seed,
                             threads=args.threads,
                             **{k: v for k, v in settings.items()
                                if method != "gan" or k not in ("parents", "crossovers")})
                curve = curves.setdefault(method, {}).setdefault(seed, [])
                started = time.perf_counter()

                def snapshot(system=system, curve=curve, method=method, seed=seed):
                    samples = system.samples(SAMPLES[kind], seed=1000 + seed)
                    values = measure(samples)
                    curve.append((system.generation, values))
                    name = f"{method}-seed{seed}-{system.generation:06d}.png"
                    save_sample_grid(args.out / "samples" / name, samples, measure.toy,
                                     f"{method}, seed {seed}, generation {system.generation}")
                    if seed == args.seeds[0]:
                        frames.setdefault(method, []).append((system.generation, samples))
                    shown = ", ".join(f"{k} {v:.4g}" for k, v in values.items())
                    print(f"{method} seed {seed}: generation {system.generation}/{generations}"
                          f" ({time.perf_counter() - started:.1f} s), D loss "
                          f"{system.best_error:.3f}, D(G(z)) {system.best_metric:.3f}: {shown}",
                          file=sys.stderr, flush=True)

                callback = None if viewer is None else viewer.callback(system, method, seed)
                system.run(generations=generations, every=[Every(every, snapshot)],
                           callback=callback, stop_event=interrupt)
                if not curve or curve[-1][0] != system.generation:
                    snapshot()  # the last state measured whatever stopped the run
                results.setdefault(method, {})[seed] = dict(
                    curve[-1][1], generations=system.generation,
                    seconds=time.perf_counter() - started, selected=system.selected)
                if viewer is not None and viewer.closed:  # the window closed: stop all runs
                    interrupt.set()
    if viewer is not None:
        viewer.close()
    if not results:
        raise ValueError("interrupted before any run finished: nothing to write")
    report = {"version": __version__, "dataset": args.dataset, "networks": args.networks,
              "generations": generations, "settings": settings,
              "interrupted": interrupt.is_set(), **measure.extra}
    for method, seeds in results.items():
        report[method] = {str(s): r for s, r in seeds.items()}
    extra = "".join(f"{k}: {v:.4g}\n" for k, v in measure.extra.items())
    write_report(args.out, report, table_markdown(results, measure.names, extra))
    save_measure_plot(args.out / "measures.png", curves, measure.names)
    save_over_time(args.out / "samples-over-time.png", frames, measure.toy)
    print(f"wrote {args.out}/table.md, report.json, measures.png, samples-over-time.png, "
          "samples/", file=sys.stderr)
    return 130 if interrupt.is_set() else 0
