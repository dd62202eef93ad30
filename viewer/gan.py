"""The live view of `evoae gan --view`: the fittest generator's samples as the run goes (an
8x8 grid of digits, or the plane's points over the toy's modes), with the method, seed,
generation and D(G(z)) above. The run loop's callback draws a frame; q or Esc stops the run,
closing the window stops all runs."""
from __future__ import annotations

import numpy as np

from .draw import BACKGROUND, TEXT, to_gray
from .font import draw_text
from .live_frames import LiveFrames

__all__ = ["GanViewer", "gan_frame", "SIZE"]

SIZE = 480  # the frame's samples square; 30 more pixels of header above it
HEADER = 30


def gan_frame(samples: np.ndarray, toy, title: str) -> np.ndarray:
    """(HEADER + SIZE, SIZE, 3) uint8: the title, then the samples."""
    frame = np.empty((HEADER + SIZE, SIZE, 3), dtype=np.uint8)
    frame[:] = BACKGROUND
    draw_text(frame, 6, 6, title, (230, 230, 230), scale=TEXT)
    body = frame[HEADER:]
    if toy is None:  # 64 digits, each 60x60 (28 pixels scaled by 2, padded)
        digits = to_gray(samples[:64].reshape(-1, 28, 28), absolute=True)
        for k, digit in enumerate(digits):
            r, c = divmod(k, 8)
            big = np.kron(digit, np.ones((2, 2), dtype=np.uint8))
            body[r * 60 + 2: r * 60 + 58, c * 60 + 2: c * 60 + 58] = big[..., None]
        return frame
    span = np.abs(toy.modes).max() + 1.5
    to_pixel = lambda xy: np.clip(((xy + span) / (2 * span) * (SIZE - 1)).astype(int), 0, SIZE - 1)
    for x, y in to_pixel(toy.modes):  # the modes: red squares
        body[SIZE - 1 - min(y + 3, SIZE - 1): SIZE - max(y - 3, 0), max(x - 3, 0): x + 4] = (200, 60, 60)
    points = to_pixel(np.asarray(samples, dtype=np.float64))
    body[SIZE - 1 - points[:, 1], points[:, 0]] = (120, 180, 255)
    return frame


class GanViewer(LiveFrames):
    """The window that callback(system, ...) draws into (LiveFrames)."""

    def __init__(self, toy):
        super().__init__(SIZE, HEADER + SIZE, "gan")
        self.toy = toy

    def callback(self, system, method: str, seed: int):
        """The run loop's callback for one run: draws the samples; True stops the run."""
        def frame(progress) -> np.ndarray:
            samples = system.samples(64 if self.toy is None else 1000, seed=0)
            title = (f"{method} seed {seed}  gen {progress.generation}  "
                     f"D(G(z)) {progress.best_metric:.2f}")
            return gan_frame(samples, self.toy, title)
        return self.drawer(frame)
