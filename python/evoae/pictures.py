"""The PNG pictures a run writes: image grids (targets above, reconstructions below, as in
the paper's figures) and the error curve."""
from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .io.atomic import atomic_file  # noqa: E402

__all__ = ["stretch", "save_reconstructions", "save_error_curve", "save_figure", "plt"]


def stretch(image: np.ndarray) -> np.ndarray:
    """Scale one image to its own min..max (0..1), as the original display does."""
    lo, hi = float(image.min()), float(image.max())
    return (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image)


def save_reconstructions(path: str | os.PathLike, targets: np.ndarray, outputs: np.ndarray,
                         title: str = "") -> None:
    """Targets in the top row, reconstructions below, each image stretched to its min..max."""
    n = len(targets)
    fig, axes = plt.subplots(2, n, figsize=(1.1 * n + 0.6, 2.6), squeeze=False)
    for row, (label, images) in enumerate((("target", targets), ("output", outputs))):
        for i in range(n):
            ax = axes[row][i]
            ax.imshow(stretch(images[i]), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row][0].set_ylabel(label)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def save_error_curve(path: str | os.PathLike, mae_history: np.ndarray,
                     reference_lines: dict[str, float] | None = None,
                     label: str = "best MAE per pixel", unit: str = "generation") -> None:
    """The best's error against generation (or `unit`: "step"), log-scaled axes; `label`
    names what the values are (by default the mean absolute error per pixel)."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    generations = np.arange(len(mae_history))
    ax.plot(generations + 1, mae_history, lw=1.2, label="best agent")
    for name, value in (reference_lines or {}).items():
        ax.axhline(value, ls="--", lw=0.8, color="gray")
        ax.annotate(name, (1, value), fontsize=7, color="gray", va="bottom")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"{unit} + 1")
    ax.set_ylabel(label)
    ax.grid(True, which="both", lw=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def save_figure(fig, path: str | os.PathLike) -> None:
    """Write `fig` as a PNG to `path` atomically (a kill while writing keeps the old file)
    and close it."""
    try:
        with atomic_file(path) as f:
            fig.savefig(f, format="png", dpi=100)
    finally:
        plt.close(fig)
