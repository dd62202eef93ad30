"""The evoae command line: `evoae run` evolves the paper's network on the ten digits (live in a
window with --view), `evoae train` trains it by backpropagation, `evoae view` shows a saved
result, `evoae gif` joins recorded frames, `evoae compare` races settings, `evoae tied` trains
the tied autoencoder. One file per command group; this one only assembles them."""
from __future__ import annotations

import argparse
import sys

from .. import __version__
from .coevolve import add_coevolve_command
from .compare import add_compare_command
from .evae import add_evae_command
from .islands import add_islands_command
from .gan import add_gan_command
from .run import add_run_command
from .tied import add_tied_command
from .train import add_train_command
from .view import add_view_commands

__all__ = ["build_parser", "main"]


class OneLineErrors(argparse.ArgumentParser):
    """argparse whose errors are one line (exit status 2): the usage block of a command with
    thirty options would bury the line that says what is wrong. Subcommands inherit it."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrors(
        prog="evoae",
        description="Train autoencoders by evolution (Varadi 2021) with a C++/OpenMP core.",
    )
    parser.add_argument("--version", action="version", version=f"evoae {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_run_command(commands)
    add_train_command(commands)
    add_view_commands(commands)
    add_compare_command(commands)
    add_tied_command(commands)
    add_islands_command(commands)
    add_coevolve_command(commands)
    add_evae_command(commands)
    add_gan_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, OSError) as e:
        print(f"evoae: error: {e}", file=sys.stderr)
        return 2

