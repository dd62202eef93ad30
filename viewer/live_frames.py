"""A window for a command's live pictures (`evoae gan --view`, `evoae evae --view`): the run
loop's callback draws one frame per call; q, Esc or closing the window stops the run. Without
a display it says so once and the run goes on unwatched."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .window import NoDisplay, Window

__all__ = ["LiveFrames"]


class LiveFrames:
    """`closed` turns True once the user quits; `window` is None without a display."""

    def __init__(self, width: int, height: int, command: str):
        self.closed = False
        try:
            self.window = Window(width, height, f"evoae {command}")
        except NoDisplay as e:
            print(f"evoae {command}: no window ({e}); going on without the view")
            self.window = None

    def drawer(self, frame_of: Callable[[object], np.ndarray]):
        """The run loop's callback: shows frame_of(progress); True (stop the run) once the
        window is closed."""
        def draw(progress) -> bool:
            if self.window is None or self.closed:
                return self.closed
            self.window.show(frame_of(progress))
            if "quit" in self.window.events():
                self.closed = True
            return self.closed
        return draw

    def close(self) -> None:
        if self.window is not None:
            self.window.close()
