"""An island run's history as files: islands.json (each island's best fitness per
generation, as curve values, and the migration log) and islands.png (one curve per island,
the generations of migrations marked)."""
from __future__ import annotations

import json
import os

import numpy as np

from ..evo.curves import fitness_curve
from ..io.atomic import write_text_atomically
from ..pictures import plt, save_figure

__all__ = ["island_history", "save_island_history"]


def island_history(islands, settings: dict) -> dict:
    """What islands.json holds: the islands' curves (as error_curve.png's: MAE per pixel
    for sae), their label, the migration settings and the log."""
    curves, label = fitness_curve(islands.island_histories(), settings,
                                  islands.images_per_generation, islands.images[0].size)
    return {"label": label, "migration_interval": settings["migration_interval"],
            "migrants": settings["migrants"], "topology": settings["topology"],
            "curves": [[float(v) for v in curve] for curve in curves],
            "migrations": islands.migrations}


def save_island_history(folder: str | os.PathLike, history: dict) -> None:
    """islands.json and islands.png in `folder`."""
    write_text_atomically(os.path.join(folder, "islands.json"), json.dumps(history) + "\n")
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for island, curve in enumerate(history["curves"]):
        ax.plot(np.arange(len(curve)) + 1, curve, lw=1.0, label=f"island {island}")
    for migration in history["migrations"][:200]:  # more would only grey the plot
        ax.axvline(migration["generation"] + 1, lw=0.3, color="gray", alpha=0.5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("generation + 1 (grey: migrations)")
    ax.set_ylabel(history["label"])
    ax.grid(True, which="both", lw=0.3)
    if len(history["curves"]) <= 10:
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, os.path.join(folder, "islands.png"))
