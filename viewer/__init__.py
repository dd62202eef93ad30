"""evoae.viewer: watch evolution live in an SDL window (PySDL2), record frames, make GIFs.

    import evoae, evoae.viewer
    evo = evoae.Evolution(evoae.varadi_network(), evoae.data.scale(evoae.data.ten_digits()))
    evoae.viewer.watch(evo, generations=5000)          # window; Esc/q stops, space pauses
    evoae.viewer.watch(evo, seconds=60, window=False, record="frames", record_every=200)
    evoae.viewer.frames_to_gif("frames")               # frames/evolution.gif
    evoae.viewer.view_result("evoae-out/result.npz")   # a saved run

The view: targets above, the best reconstructions below (each image stretched to its own
min..max as in the paper; key a: fixed 0..1), generation, best error and MAE, evaluations
per second, elapsed time, the error curve (log scale), and the latent plane: where each
target's 2-D code lies in the unit square, beside images decoded from a grid of codes.

Only the public evoae API is used. SDL is imported when a window is opened, not before:
drawing (render) and recording work without it.
"""
from .draw import HEIGHT, WIDTH, layout, render, to_gray
from .live import Runner, Viewer, open_window, view_result, watch
from .record import frame_files, frames_to_gif, save_png
from .snapshot import Snapshot, Snapshotter
from .window import NoDisplay, Window

__all__ = [
    "watch", "view_result", "frames_to_gif", "render", "layout", "to_gray", "save_png",
    "frame_files", "Snapshot", "Snapshotter", "Runner", "Viewer", "Window", "NoDisplay",
    "open_window", "WIDTH", "HEIGHT",
]
