"""The pictures of an eVAE run (evae.py): the curves of beta and KL over training for every
method, a grid of samples from the prior per method, and a latent traversal of eVAE's leader.
All written atomically as PNG (evoae.pictures.save_figure)."""
from __future__ import annotations

import os

import numpy as np

from ..pictures import plt, save_figure
from .evae import BASELINES, METHODS, EvaeRun

__all__ = ["save_curves", "save_samples", "save_traversal", "smooth", "SMOOTHING"]

#: Steps of the moving average the KL curves are drawn with (a batch's KL is noisy).
SMOOTHING = 50

_COLOURS = dict(zip(METHODS, ("C3", "C0", "C1", "C2", "C4", "C5")))


def smooth(values: np.ndarray, width: int = SMOOTHING) -> np.ndarray:
    """The mean of each value and the up to width - 1 before it."""
    values = np.asarray(values, dtype=np.float64)
    sums = np.cumsum(np.concatenate([[0.0], values]))
    n = np.arange(1, len(values) + 1)
    start = np.maximum(n - width, 0)
    return (sums[n] - sums[start]) / (n - start)


def save_curves(path: str | os.PathLike, run: EvaeRun, title: str = "") -> None:
    """Two panels over the steps: every method's beta (eVAE: each member in thin grey, the
    leader's in colour), and its KL on the step's batch (a moving average of SMOOTHING steps)
    with the target."""
    betas = np.array(run.beta_history)
    kls = np.array(run.kl_history)
    leader = run.offset + np.array(run.leader_history)
    steps = np.arange(1, len(betas) + 1)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 6.5), sharex=True)
    top.plot(steps, betas[:, run.offset:], color="0.8", lw=0.4)
    rows = np.arange(len(betas))
    for method in METHODS:
        if method == "evae":
            beta, kl = betas[rows, leader], kls[rows, leader]
        else:
            m = BASELINES.index(method)
            beta, kl = betas[:, m], kls[:, m]
        top.plot(steps, beta, color=_COLOURS[method], lw=1.1, label=method)
        bottom.plot(steps, smooth(kl), color=_COLOURS[method], lw=1.1, label=method)
    target = run.settings["kl_target"]
    bottom.axhline(target, ls="--", lw=0.8, color="k")
    bottom.annotate(f"target {target:g}", (steps[0], target), fontsize=7, va="bottom")
    top.set_yscale("log")
    top.set_ylabel("beta (grey: eVAE's population)")
    bottom.set_ylabel(f"KL on the batch (nats, mean of {SMOOTHING})")
    bottom.set_xlabel("step")
    for ax in (top, bottom):
        ax.grid(True, lw=0.3)
    top.legend(fontsize=7, ncol=3)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def _grid(path, rows: list, labels: list, title: str, column_labels=None) -> None:
    n = len(rows[0])
    fig, axes = plt.subplots(len(rows), n, figsize=(0.8 * n + 1.2, 0.85 * len(rows) + 0.5),
                             squeeze=False)
    for r, images in enumerate(rows):
        for c, image in enumerate(images):
            ax = axes[r][c]
            ax.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if column_labels is not None and r == 0:
                ax.set_title(column_labels[c], fontsize=6)
        axes[r][0].set_ylabel(labels[r], fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def save_samples(path: str | os.PathLike, run: EvaeRun, count: int = 10, seed: int = 0
                 ) -> None:
    """`count` images per method decoded from the same draws z ~ N(0, I) (seeded)."""
    codes = np.random.default_rng([seed, 8]).standard_normal((count, run.settings["latent"]))
    rows = [run.decode(method, codes) for method in METHODS]
    _grid(path, rows, list(METHODS),
          f"samples from the prior at step {run.generation} (the same z in every column)")


def save_traversal(path: str | os.PathLike, run: EvaeRun, dimensions: int = 8,
                   values: np.ndarray = np.linspace(-3, 3, 9)) -> None:
    """eVAE's leader: the posterior mean of the first held-out image, then each of the
    `dimensions` latent units that vary most across the held-out images set to `values`
    (one row per unit)."""
    means = run.means("evae", run.holdout_images)
    order = np.argsort(-means.var(axis=0), kind="stable")[:dimensions]
    rows = []
    for unit in order:
        codes = np.repeat(means[:1], len(values), axis=0)
        codes[:, unit] = values
        rows.append(run.decode("evae", codes))
    _grid(path, rows, [f"z{u} (var {means[:, u].var():.2f})" for u in order],
          "eVAE's latent traversal of a held-out image: one unit per row",
          [f"{v:+.1f}" for v in values])
