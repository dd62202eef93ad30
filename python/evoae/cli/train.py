"""`evoae train`: train the paper's network (or any evoae network) by backpropagation on the
ten digits (or an IDX file), with the same stop conditions, progress line, checkpoints,
signals and result files as `evoae run` (outputs.py); its options come from the training
settings table (evoae.train.settings.TRAIN_SETTINGS)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import __version__
from ..evo.settings import describe
from ..nn.network import network_from_spec, network_spec, varadi_network
from ..run import Stop
from ..train.settings import TRAIN_SETTINGS
from ..train.trainer import Trainer
from .arguments import writable_folder
from .outputs import EXIT_STATUS, OUTPUT_FILES, run_and_write
from .run_options import add_data_options, add_stop_options, start_system
from .setting_options import add_setting_options

__all__ = ["add_train_command", "command_train", "DEFAULT_STEPS"]

DEFAULT_STEPS = 2000  # Adam's default run on the ten digits (a few seconds on 2 cores)
TRAIN_GROUPS = {
    "training": "training (the defaults: Adam, learning rate 0.01, all images every step)",
    "objective": "what is measured",
    "engine": "engine",
}


def _network(text: str):
    """A network description (evoae.network_spec's JSON), given as text or as a file."""
    path = Path(text)
    try:
        if path.is_file():
            text = path.read_text()
        return network_from_spec(text)
    except (OSError, ValueError) as e:
        raise argparse.ArgumentTypeError(f"{text!r}: {e}") from None


def add_train_command(commands) -> None:
    """Registers `evoae train` on the CLI's subcommands."""
    train = commands.add_parser(
        "train",
        help="train the paper's network by backpropagation, to compare with evolution",
        description=(
            "Train the paper's 1397-parameter autoencoder (or --network) by backpropagation "
            "to reconstruct the ten digits (or --data): each step the optimiser (Adam by "
            "default) moves every network along the gradient of the mean loss over the "
            "step's images (all training images, or a seeded mini-batch of --batch). "
            "--networks N trains N networks at once (per-network settings as "
            "comma-separated lists, e.g. --learning-rate 0.01,0.003); --holdout keeps a "
            "fraction of the images out of training and reports their MAE. Stops at the first "
            f"of --steps, --seconds, --target, --patience (default: {DEFAULT_STEPS} steps). "
            f"Writes {', '.join(OUTPUT_FILES[:-1])} and {OUTPUT_FILES[-1]} (to --resume from) "
            "to --out, also on Ctrl-C or SIGTERM, as `evoae run` does."),
        epilog=EXIT_STATUS,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_stop_options(train, "steps", aliases=("--generations",))
    data = add_data_options(train, "evoae-train", "steps")
    data.add_argument("--network", type=_network, default=None, metavar="SPEC",
                      help="the network to train: its description as evoae.network_spec "
                           "writes it (JSON, e.g. '[[\"input\", 28, 28], [\"dense\", 32], "
                           "[\"dense\", 784], [\"reshape\", 28, 28, 1]]'), or a file holding "
                           "it (default: the paper's network)%(default).0s")
    add_setting_options(train, TRAIN_SETTINGS, TRAIN_GROUPS)
    train.set_defaults(handler=command_train)


def command_train(args: argparse.Namespace) -> int:
    # Resuming without --network takes the checkpoint's network; with it, checks it.
    net = args.network
    if net is None and args.resume is None:
        net = varadi_network()
    with writable_folder(args.out):  # before any work: a run whose files cannot be written
        trainer, images, source = start_system(args, net, Trainer)
    stop = Stop(args.generations, args.seconds, args.target, args.patience)
    if not stop.bounded:
        stop = Stop(generations=DEFAULT_STEPS)
    s = trainer.settings
    resumed = f", resumed at step {trainer.generation}" if args.resume else ""
    held_out = f" + {trainer.num_holdout} held out" if trainer.num_holdout else ""
    print(f"evoae {__version__} train: {trainer.network.num_params} parameters, "
          f"{trainer.num_train} images{held_out}, {s['networks']} network"
          f"{'s' if s['networks'] > 1 else ''}, seed {s['seed']}{resumed}; "
          f"{describe(s, ('seed', 'threads', 'networks'), TRAIN_SETTINGS, 'the defaults')}",
          file=sys.stderr)
    return run_and_write(args, trainer, images, source, stop, _summary, unit="step",
                         error="loss")


def _summary(trainer: Trainer) -> dict:
    """settings.json's entries of a training run: its network, networks, seed, the best's
    loss and MAE on all images and, with held-out images, on each part."""
    s = trainer.settings
    spec = network_spec(trainer.network)
    full = trainer.evaluate()
    summary = {"network": "varadi" if spec == network_spec(varadi_network()) else spec,
               "system": "backprop", "networks": s["networks"], "seed": s["seed"],
               "best_error": full.error, "best_mae": full.metric,
               "step_best_mae": trainer.best_metric}
    if trainer.num_holdout:
        train, held_out = trainer.evaluate(part="train"), trainer.evaluate(part="holdout")
        summary.update(train_images=trainer.num_train, holdout_images=trainer.num_holdout,
                       train_mae=train.metric, holdout_mae=held_out.metric,
                       holdout_error=held_out.error)
    return summary
