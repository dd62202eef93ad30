"""What `evoae gan` writes: sample grids (digits, or the plane's points over the modes), the
measures against generation, table.md and report.json (atomically, io/atomic.py)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..io.atomic import write_text_atomically
from ..pictures import plt, save_figure
from .gan_measures import Toy

__all__ = ["draw_samples", "save_sample_grid", "save_over_time", "save_measure_plot",
           "table_markdown", "write_report", "MEASURES"]

# The measures of each kind of data, as report.json names them.
MEASURES = {"toy": ("modes_covered", "high_quality"), "mnist": ("frechet", "class_tvd")}


def draw_samples(ax, samples: np.ndarray, toy: Toy | None, cells: int = 8) -> None:
    """Points over the toy's modes (3-std circles), or the first cells x cells digits."""
    ax.set_xticks([])
    ax.set_yticks([])
    if toy is not None:
        ax.scatter(samples[:, 0], samples[:, 1], s=1.5, alpha=0.35, color="tab:blue", lw=0)
        for x, y in toy.modes:
            ax.add_patch(plt.Circle((x, y), 3 * toy.std, fill=False, color="tab:red", lw=0.6))
        span = np.abs(toy.modes).max() + 1.5
        ax.set_xlim(-span, span)
        ax.set_ylim(-span, span)
        ax.set_aspect("equal")
        return
    digits = samples[: cells * cells].reshape(-1, 28, 28)
    grid = np.ones((cells * 29 + 1, cells * 29 + 1))
    for k, image in enumerate(digits):
        r, c = divmod(k, cells)
        grid[1 + r * 29: 1 + r * 29 + 28, 1 + c * 29: 1 + c * 29 + 28] = image
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")


def save_sample_grid(path: str | os.PathLike, samples: np.ndarray, toy: Toy | None,
                     title: str) -> None:
    fig, ax = plt.subplots(figsize=(3.6, 3.6))
    draw_samples(ax, samples, toy)
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def save_over_time(path: str | os.PathLike, frames: dict, toy: Toy | None) -> None:
    """frames: method -> [(generation, samples), ...]; a row per method, a column per time."""
    methods = list(frames)
    columns = max(len(f) for f in frames.values())
    fig, axes = plt.subplots(len(methods), columns, figsize=(2.1 * columns, 2.2 * len(methods)),
                             squeeze=False)
    for row, method in enumerate(methods):
        for col in range(columns):
            ax = axes[row][col]
            if col >= len(frames[method]):
                ax.axis("off")
                continue
            generation, samples = frames[method][col]
            draw_samples(ax, samples, toy, cells=6)
            ax.set_title(f"{method} @ {generation}", fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


def save_measure_plot(path: str | os.PathLike, curves: dict, measures: tuple) -> None:
    """curves: method -> seed -> [(generation, {measure: value}), ...]; one panel per
    measure, a thin line per seed and the mean over seeds."""
    fig, axes = plt.subplots(1, len(measures), figsize=(5 * len(measures), 3.4), squeeze=False)
    colors = {"gan": "tab:gray", "egan": "tab:blue", "cegan": "tab:orange"}
    for ax, measure in zip(axes[0], measures):
        for method, seeds in curves.items():
            color = colors.get(method)
            lines = []
            for points in seeds.values():
                g = [p[0] for p in points]
                v = [p[1][measure] for p in points]
                ax.plot(g, v, color=color, lw=0.5, alpha=0.4)
                lines.append(v)
            width = min(len(v) for v in lines)
            ax.plot(g[:width], np.mean([v[:width] for v in lines], axis=0), color=color, lw=1.8,
                    label=method)
        ax.set_xlabel("generation")
        ax.set_ylabel(measure.replace("_", " "))
        ax.grid(True, lw=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def _mean_sd(values: list) -> str:
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.3f} ± {values.std(ddof=1) if len(values) > 1 else 0.0:.3f}"


def table_markdown(results: dict, measures: tuple, extra: str = "") -> str:
    """results: method -> seed -> {measure..., generations, seconds}; a row per run, then the
    mean ± sd per method."""
    head = ["method", "seed", *measures, "generations", "seconds"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for method, seeds in results.items():
        for seed, r in seeds.items():
            cells = [method, str(seed)] + [f"{r[m]:.4g}" for m in measures] + [
                str(r["generations"]), f"{r['seconds']:.1f}"]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "| method | runs | " + " | ".join(f"{m} (mean ± sd)" for m in measures) + " |",
              "|---|---|" + "---|" * len(measures)]
    for method, seeds in results.items():
        cells = [method, str(len(seeds))] + [_mean_sd([r[m] for r in seeds.values()])
                                             for m in measures]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + ("\n\n" + extra if extra else "") + "\n"


def write_report(folder: Path, report: dict, table: str) -> None:
    write_text_atomically(folder / "report.json", json.dumps(report, indent=1) + "\n")
    write_text_atomically(folder / "table.md", table)
