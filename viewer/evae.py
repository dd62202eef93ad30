"""The live view of `evoae evae --view`: every method's samples as training goes, one row per
method (eVAE's leader first), the same prior draws z in every column (as samples.png), each
row labelled with the method's beta and its KL on the last steps' batches; the seed and step
above. The run loop's callback draws a frame; q, Esc or closing the window stops the run and
the seeds after it (the command writes its files for the steps done, as after Ctrl-C)."""
from __future__ import annotations

import numpy as np

from ..systems.evae import METHODS
from .draw import BACKGROUND, DIM, INK, TEXT, to_gray
from .font import LINE_HEIGHT, draw_text
from .live_frames import LiveFrames

__all__ = ["EvaeViewer", "evae_frame", "method_numbers", "row_labels", "COLUMNS", "CELL", "LABEL", "HEADER"]

COLUMNS = 8  # samples per method
CELL = 60  # pixels per sample (a 28x28 image scaled by 2, padded)
LABEL = 276  # the label column: 22 characters ("beta 0.00123 KL 1234.5") at scale TEXT
HEADER = 30
#: Steps the labels' KL is averaged over: one batch's KL is noisy (as curves.png's mean).
KL_STEPS = 50


def evae_frame(samples: np.ndarray, labels: list, title: str) -> np.ndarray:
    """(HEADER + rows x CELL, LABEL + COLUMNS x CELL, 3) uint8 of samples (rows, COLUMNS,
    H, W) in [0, 1] with H, W at most CELL / 2; labels: per row, (method, second line)."""
    rows, columns, height, width = samples.shape
    if columns != COLUMNS or 2 * max(height, width) > CELL or len(labels) != rows:
        raise ValueError(f"expected samples (rows, {COLUMNS}, H <= {CELL // 2}, W <= "
                         f"{CELL // 2}) and one label per row, got {samples.shape} and "
                         f"{len(labels)} labels")
    frame = np.empty((HEADER + rows * CELL, LABEL + COLUMNS * CELL, 3), dtype=np.uint8)
    frame[:] = BACKGROUND
    draw_text(frame, 6, 6, title, INK, scale=TEXT)
    gray = to_gray(samples.reshape(-1, height, width), absolute=True)
    big = gray.repeat(2, axis=1).repeat(2, axis=2).reshape(rows, COLUMNS, 2 * height, 2 * width)
    top, left = (CELL - 2 * height) // 2, (CELL - 2 * width) // 2
    for r, (method, numbers) in enumerate(labels):
        y = HEADER + r * CELL
        draw_text(frame, 6, y + 8, method, INK, scale=TEXT)
        draw_text(frame, 6, y + 8 + LINE_HEIGHT * TEXT, numbers, DIM, scale=TEXT)
        for c in range(COLUMNS):
            x = LABEL + c * CELL + left
            frame[y + top: y + top + 2 * height, x: x + 2 * width] = big[r, c, ..., None]
    return frame


def method_numbers(run) -> dict:
    """Per method of the run (an evoae.systems.evae.EvaeRun): (the beta of its next step,
    its mean batch KL over the last KL_STEPS steps; NaN before the first step)."""
    betas = run.betas()
    recent = np.array(run.kl_history[-KL_STEPS:], dtype=np.float64)
    steps = np.arange(len(recent))
    numbers = {}
    for method in METHODS:
        if method == "evae":  # the leader of each of those steps
            lanes = run.offset + np.array(run.leader_history[-KL_STEPS:], dtype=int)
        else:
            lanes = np.full(len(recent), run.member(method))
        kl = recent[steps, lanes].mean() if len(recent) else float("nan")
        numbers[method] = (float(betas[run.member(method)]), float(kl))
    return numbers


def row_labels(run) -> list:
    """Per method: (method, "beta B KL K") of method_numbers."""
    return [(method, f"beta {beta:.3g} KL {kl:.1f}")
            for method, (beta, kl) in method_numbers(run).items()]


class EvaeViewer(LiveFrames):
    """The window that callback(run, ...) draws into (LiveFrames), the same COLUMNS draws
    z ~ N(0, I) of `latent` dimensions decoded in every frame."""

    def __init__(self, latent: int):
        super().__init__(LABEL + COLUMNS * CELL, HEADER + len(METHODS) * CELL, "evae")
        # purpose 9: a stream of its own (samples.png's is 8), the same in every run
        self.codes = np.random.default_rng([0, 9]).standard_normal((COLUMNS, latent))

    def callback(self, run, seed: int):
        """The run loop's callback for one run: draws the samples; True stops the run."""
        def frame(progress) -> np.ndarray:
            samples = np.stack([run.decode(method, self.codes) for method in METHODS])
            title = f"eVAE and baselines  seed {seed}  step {progress.generation}/" \
                    f"{run.settings['steps']}"
            return evae_frame(samples, row_labels(run), title)
        return self.drawer(frame)
