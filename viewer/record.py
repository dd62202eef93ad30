"""Frames on disk: PNG files of rendered frames, and one animated GIF from a folder of them
(Pillow, which matplotlib already requires)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from evoae.io.atomic import atomic_file

__all__ = ["save_png", "frame_path", "frame_files", "frames_to_gif"]

FRAME_PATTERN = "frame-*.png"


def save_png(path: str | os.PathLike, frame: np.ndarray) -> Path:
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as f:
        Image.fromarray(np.ascontiguousarray(frame, dtype=np.uint8), "RGB").save(f, "PNG")
    return path


def frame_path(folder: str | os.PathLike, generation: int) -> Path:
    """frame-000001200.png: zero-padded, so names sort in generation order."""
    return Path(folder) / f"frame-{generation:09d}.png"


def frame_files(folder: str | os.PathLike) -> list[Path]:
    return sorted(Path(folder).glob(FRAME_PATTERN))


def frames_to_gif(folder: str | os.PathLike, out: str | os.PathLike | None = None,
                  fps: float = 8.0, hold_last: float = 2.0, max_frames: int = 300) -> Path:
    """Join the frames a recording wrote to `folder` into one looping animated GIF (default
    folder/evolution.gif). With more than max_frames frames, evenly spaced ones are kept (the
    first and last always). The last frame stays hold_last seconds."""
    from PIL import Image

    files = frame_files(folder)
    if not files:
        raise ValueError(f"{folder}: no recorded frames ({FRAME_PATTERN})")
    if fps <= 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    if len(files) > max_frames:
        keep = np.unique(np.linspace(0, len(files) - 1, max_frames).round().astype(int))
        files = [files[i] for i in keep]
    out = Path(out) if out is not None else Path(folder) / "evolution.gif"
    frames = [Image.open(f).convert("RGB") for f in files]
    # One shared palette keeps the colours steady from frame to frame.
    palette = frames[-1].quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    images = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    step = int(round(1000 / fps))
    durations = [step] * (len(images) - 1) + [max(step, int(hold_last * 1000))]
    with atomic_file(out) as f:
        images[0].save(f, "GIF", save_all=True, append_images=images[1:], duration=durations,
                       loop=0, optimize=False, disposal=1)
    return out
