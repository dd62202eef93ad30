"""What `evoae run` and `evoae train` start from: their shared options (stopping, data and
output), the images (the ten digits or an IDX file), a new system (Evolution, Trainer) from
the options or the one saved in a checkpoint (--resume), and a guard for writing the
results."""
from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import warnings
from pathlib import Path

import numpy as np

from .. import data
from .arguments import int_at_least, positive_float
from .setting_options import given_setting_options

__all__ = ["add_stop_options", "add_data_options", "load_images", "scaled_images",
           "start_system", "deferred_interrupts", "CHECKPOINT_NAME"]

CHECKPOINT_NAME = "checkpoint.npz"


def add_stop_options(parser: argparse.ArgumentParser, unit: str = "generations",
                     aliases: tuple = ()) -> None:
    """The stop conditions of the one loop, the first that holds; `unit` names what it counts
    (--generations, or --steps with `aliases` ("--generations",)). The count lands in
    args.generations, as evoae.run.Stop names it."""
    stop = parser.add_argument_group("stopping (the first that holds)")
    stop.add_argument(f"--{unit}", *aliases, dest="generations", type=int_at_least(0),
                      default=None, metavar=unit.upper(),
                      help=f"stop after this many {unit}%(default).0s")
    stop.add_argument("--seconds", type=positive_float, default=None,
                      help="stop after this many seconds%(default).0s")
    stop.add_argument("--target", type=positive_float, default=None,
                      help="stop when the best mean |error| per pixel is at or below this"
                           "%(default).0s")
    stop.add_argument("--patience", type=int_at_least(1), default=None, metavar="N",
                      help=f"stop when the best error has not improved for N {unit}"
                           "%(default).0s")


def add_data_options(parser: argparse.ArgumentParser, out: str,
                     unit: str = "generations") -> argparse._ArgumentGroup:
    """--samples, --data, --out (default `out`), --quiet, --checkpoint-every, --resume: the
    group, for a command to add its own."""
    group = parser.add_argument_group("data and output")
    group.add_argument("--samples", type=int_at_least(1), default=None,
                       help="number of images: digits 0..N-1 of the ten digits (default 10), "
                            "or the first N images of --data (default: all of them)"
                            "%(default).0s")
    group.add_argument("--data", type=Path, default=None,
                       help="an IDX image file (raw or .gz) of 28x28 images to use instead of "
                            "the built-in ten digits, e.g. the 10,000 of the MNIST test set "
                            "t10k-images-idx3-ubyte.gz%(default).0s")
    group.add_argument("--out", type=Path, default=Path(out),
                       help="folder for the result files (created if missing)")
    group.add_argument("--quiet", action="store_true", help="no progress line")
    group.add_argument("--checkpoint-every", type=int_at_least(1), default=None, metavar="N",
                       help=f"also write the complete state to OUT/{CHECKPOINT_NAME} every N "
                            f"{unit} (it is always written at the end and on Ctrl-C)"
                            "%(default).0s")
    group.add_argument("--resume", type=Path, default=None, metavar="PATH",
                       help="continue the run saved in a checkpoint, bit for bit as if it had "
                            f"not stopped, with its settings and images; --{unit} counts "
                            f"further {unit}%(default).0s")
    return group


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
            raise ValueError(f"{args.data}: expected 28x28 images (N, 28, 28), the file holds "
                             f"an array of shape {images.shape}")
        samples = len(images) if args.samples is None else args.samples
        if samples > len(images):
            raise ValueError(f"--samples {samples}: {args.data} has {len(images)} images")
    return images[:samples]


def scaled_images(args: argparse.Namespace) -> np.ndarray:
    """load_images scaled to [0.1, 0.9] (evoae.data.scale: integer pixels 0..255, float
    pixels 0..1); a file whose pixels fit neither is refused with its name."""
    images = load_images(args)
    try:
        return data.scale(images)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{args.data}: {e}") from e


def _reported(make):
    """make(), with its warnings (nothing can change, too many threads) printed as one line
    each instead of Python's two-line form."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        made = make()
    for warning in caught:
        print(f"evoae: warning: {warning.message}", file=sys.stderr)
    return made


def start_system(args: argparse.Namespace, net, cls) -> tuple:
    """A new system of class `cls` (evoae.Evolution, evoae.Trainer) from the options of its
    settings table, or with --resume the saved one. Returns it, its images and what to keep
    in the checkpoint's extra (data source, seconds so far)."""
    if args.resume is None:
        images = scaled_images(args)
        system = _reported(lambda: cls(net, images, **given_setting_options(args, cls.TABLE)))
        # Absolute: a resume from another folder must find the data again (large data).
        source = {"data": str(args.data.resolve()) if args.data else None,
                  "samples": len(images), "seconds": 0.0}
        return system, images, source

    from ..io.checkpoint import read_checkpoint

    given = [f"--{name.replace('_', '-')}" for name in given_setting_options(args, cls.TABLE)
             if name != "threads"]
    if given:
        raise ValueError(f"--resume continues with the checkpoint's settings: drop "
                         f"{', '.join(given)}")
    images = None
    if args.data is not None or args.samples is not None:
        images = scaled_images(args)
    try:
        saved = read_checkpoint(args.resume, images=images, network=net, system=cls.CHECKPOINT)
    except ValueError as e:
        source = _saved_source(args.resume)
        if images is not None or source.get("data") is None or "fingerprint" not in str(e):
            raise
        # Large data: the checkpoint keeps a fingerprint; read the images where they came from.
        images = scaled_images(argparse.Namespace(data=Path(source["data"]),
                                                  samples=source["samples"]))
        saved = read_checkpoint(args.resume, images=images, network=net, system=cls.CHECKPOINT)
    source = dict(saved.extra.get("cli", {}))
    source.setdefault("seconds", 0.0)
    system = _reported(lambda: cls.from_checkpoint(saved, args.threads))
    return system, system.images, source


def _saved_source(path: Path) -> dict:
    """The data source recorded in a checkpoint's extra (read when its images are not in it)."""
    from ..io.archive import read_archive
    from ..io.checkpoint import KIND

    try:
        return read_archive(path, KIND)[0]["extra"].get("cli", {})
    except (ValueError, KeyError, AttributeError):
        return {}


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
