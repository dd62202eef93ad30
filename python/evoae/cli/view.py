"""`evoae view` (a saved result in the viewer window, or as a PNG) and `evoae gif` (recorded
frames joined into an animated GIF)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .arguments import int_at_least, number_at_least, positive_float

__all__ = ["add_view_commands", "command_view", "command_gif"]


def add_view_commands(commands) -> None:
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
    gif.add_argument("--hold", type=number_at_least(0), default=2.0,
                     help="seconds the last frame stays before the loop restarts")
    gif.add_argument("--max-frames", type=int_at_least(1), default=300,
                     help="keep at most this many frames, evenly spaced")
    gif.set_defaults(handler=command_gif)


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
