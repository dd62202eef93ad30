"""Watching a run: evolution in a background thread, the window in the calling thread.

The evolution thread calls Evolution.run (whose generations run in C++ with the GIL
released) with a callback that takes a snapshot, blocks while paused, and returns True to
stop. The calling thread polls SDL events and draws the latest snapshot at most `fps` times
a second, only when something changed, and within a CPU budget, so the window costs the
evolution next to nothing. Without a window, the run goes on in the calling thread.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from evoae.evo.evolution import Evolution, Progress
from evoae.io.results import Result, load_result

from .draw import HEIGHT, WIDTH, render
from .record import frame_path, save_png
from .snapshot import Snapshot, Snapshotter
from .window import NoDisplay, Window

__all__ = ["Runner", "Viewer", "watch", "view_result", "open_window"]

_TICK = 1 / 30  # seconds between event polls of the window loop


class Runner:
    """Runs `evolution` until a stop condition (as Evolution.run: generations more, seconds
    of evolution, target MAE; pauses are not counted), or until stop(). Meant for one
    thread; pause(), resume(), stop() and the attributes may be used from another.

    snapshot: the latest Snapshot. record: a folder to write a PNG frame to every
    record_every generations (generation 0 included).
    """

    def __init__(self, evolution: Evolution, snapshotter: Snapshotter,
                 generations: Optional[int] = None, seconds: Optional[float] = None,
                 target: Optional[float] = None,
                 callback: Optional[Callable[[Progress], Optional[bool]]] = None,
                 interval: float = 0.1, record: Optional[Path] = None,
                 record_every: int = 100):
        if generations is not None and generations < 0:
            raise ValueError(f"generations must be >= 0, got {generations}")
        if seconds is not None and seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {seconds}")
        if record_every < 1:
            raise ValueError(f"record_every must be >= 1, got {record_every}")
        self.evolution = evolution
        self.snapshotter = snapshotter
        self.generations, self.seconds, self.target = generations, seconds, target
        self.callback = callback
        self.interval = interval
        self.record = Path(record) if record is not None else None
        self.record_every = record_every
        self.absolute = False  # image scale of recorded frames (the window's toggle)
        self.snapshot: Optional[Snapshot] = None
        self.final: Optional[Progress] = None
        self.error: Optional[BaseException] = None
        self.paused_generation: Optional[int] = None  # set while the thread is held
        self.frames: list[Path] = []
        self._stop = threading.Event()
        self._go = threading.Event()
        self._go.set()
        self._start = time.perf_counter()
        self._paused = 0.0
        self._evals0 = evolution.evaluations
        self._gen0 = evolution.generation

    # -- control (any thread) -------------------------------------------------------------
    def pause(self) -> None:
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    @property
    def paused(self) -> bool:
        return not self._go.is_set()

    def stop(self) -> None:
        self._stop.set()
        self._go.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    # -- numbers --------------------------------------------------------------------------
    def elapsed(self) -> float:
        """Seconds of evolution since start, pauses excluded."""
        return time.perf_counter() - self._start - self._paused

    def progress(self) -> Progress:
        evo, elapsed = self.evolution, self.elapsed()
        rate = (evo.evaluations - self._evals0) / elapsed if elapsed > 0 else 0.0
        return Progress(evo.generation, evo.best_error, evo.best_mae, rate, elapsed)

    def take_snapshot(self, force: bool = False) -> Snapshot:
        p = self.progress()
        # error / MAE: the pixels an error sums over (fewer than all when evaluating on
        # a subset of the images)
        pixels = round(p.best_error / p.best_mae) if p.best_mae > 0 else None
        self.snapshot = self.snapshotter.take(self.evolution.best_genome,
                                              self.evolution.history, p.generation,
                                              p.evals_per_second, p.elapsed, force, pixels)
        return self.snapshot

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> Progress:
        """Evolve until a stop condition; return the final Progress (also in .final)."""
        evo = self.evolution
        self._start, self._paused = time.perf_counter(), 0.0
        self._evals0, self._gen0 = evo.evaluations, evo.generation
        self.take_snapshot(force=True)
        self._maybe_record()
        while not self._stop.is_set():
            gens_left = (None if self.generations is None
                         else self.generations - (evo.generation - self._gen0))
            left = None if self.seconds is None else self.seconds - self.elapsed()
            if ((gens_left is not None and gens_left <= 0) or (left is not None and left <= 0)
                    or (self.target is not None and evo.best_mae <= self.target)):
                break
            chunk = gens_left
            if self.record is not None:  # stop at the next generation to record
                to_next = self.record_every - evo.generation % self.record_every
                chunk = to_next if chunk is None else min(chunk, to_next)
            before = evo.generation
            evo.run(generations=chunk, seconds=left, target=self.target,
                    callback=self._on_progress, interval=self.interval)
            if evo.generation == before:  # one of run()'s own stop conditions holds
                break
            self._maybe_record()
        self.final = self.progress()
        self.take_snapshot(force=True)
        return self.final

    def run_catching(self) -> None:
        """run(), keeping an exception in .error (for a thread)."""
        try:
            self.run()
        except BaseException as e:  # handed to the thread that waits for this one
            self.error = e

    def _on_progress(self, _: Progress) -> bool:
        progress = self.progress()
        if self.callback is not None and self.callback(progress):
            self._stop.set()
        self.take_snapshot()
        if not self._go.is_set() and not self._stop.is_set():
            held = time.perf_counter()
            self.paused_generation = self.evolution.generation
            while not self._go.wait(0.05):
                pass
            self.paused_generation = None
            self._paused += time.perf_counter() - held
        return self._stop.is_set()

    def _maybe_record(self) -> None:
        gen = self.evolution.generation
        if self.record is None or gen % self.record_every != 0:
            return
        path = frame_path(self.record, gen)
        if self.frames and self.frames[-1] == path:
            return
        snap = self.take_snapshot(force=True)
        save_png(path, render(snap, absolute=self.absolute, state="running"))
        self.frames.append(path)


class Viewer:
    """The window side: draws snapshots of `source` (a Runner, or a fixed Snapshot) and acts
    on keys. step() does one round of event polling and, when due, drawing.

    budget: the largest fraction of the machine's CPU time spent drawing (default 0.75%:
    1.5% of one core on two cores, 12% of one on sixteen); slower drawing gives fewer frames.
    """

    def __init__(self, window: Window, source, screenshots: Path = Path("."),
                 fps: float = 30.0, budget: float = 0.0075):
        self.window = window
        self.runner = source if isinstance(source, Runner) else None
        self._fixed = None if self.runner else source
        self.screenshots = Path(screenshots)
        self.min_period = 1.0 / fps
        self.budget = budget * (os.cpu_count() or 1)  # as a share of this thread's core
        self.absolute = False
        self.quit = False
        self.state_override: Optional[str] = None
        self.frame: Optional[np.ndarray] = None  # the frame last shown
        self.frames_drawn = 0
        self.saved: list[Path] = []
        self._drawn = None  # (id(snapshot), absolute, state) of self.frame
        self._drawn_snapshot = None
        self._next_draw = 0.0
        self._present = False

    @property
    def snapshot(self) -> Optional[Snapshot]:
        return self.runner.snapshot if self.runner else self._fixed

    @property
    def state(self) -> str:
        if self.state_override:
            return self.state_override
        if self.runner is None:
            return "saved result"
        if self.runner.stopped:
            return "stopped"
        return "paused" if self.runner.paused else "running"

    def act(self, action: str) -> None:
        if action == "quit":
            self.quit = True
            if self.runner:
                self.runner.stop()
        elif action == "pause" and self.runner:
            if self.runner.paused:
                self.runner.resume()
            else:
                self.runner.pause()
        elif action == "scale":
            self.absolute = not self.absolute
            if self.runner:
                self.runner.absolute = self.absolute
        elif action == "screenshot":
            self.screenshot()
        elif action == "redraw":
            self._present = True

    def screenshot(self) -> Optional[Path]:
        snap = self.snapshot
        if snap is None:
            return None
        n, path = 0, self.screenshots / f"evoae-screenshot-{snap.generation:09d}.png"
        while path.exists():
            n += 1
            path = self.screenshots / f"evoae-screenshot-{snap.generation:09d}-{n}.png"
        save_png(path, render(snap, self.absolute, self.state))
        self.saved.append(path)
        print(f"evoae viewer: saved {path}", file=sys.stderr)
        return path

    def step(self, force: bool = False) -> None:
        for action in self.window.events():
            self.act(action)
        snap = self.snapshot
        if snap is None:
            return
        key = (id(snap), self.absolute, self.state)  # _drawn_snapshot keeps the id unique
        now = time.perf_counter()
        if self._drawn is None or force or (key != self._drawn and now >= self._next_draw):
            cpu = time.thread_time()
            self.frame = render(snap, self.absolute, self.state, self.frame)
            self.window.show(self.frame)
            self._drawn, self._drawn_snapshot, self._present = key, snap, False
            self.frames_drawn += 1
            # CPU time of this thread, not wall time: on a busy machine waiting for a core
            # is not drawing cost
            spent = time.thread_time() - cpu
            self._next_draw = now + max(self.min_period, spent / self.budget)
        elif self._present and self.frame is not None:
            self.window.show(self.frame)
            self._present = False


def open_window(title: str = "evoae", software: bool = False) -> Optional[Window]:
    """A window for the view, or None after printing one line saying why there is none."""
    try:
        return Window(WIDTH, HEIGHT, title, software=software)
    except NoDisplay as e:
        print(f"evoae viewer: no window can be opened ({e}); going on without it",
              file=sys.stderr)
        return None


def _default_title(evolution: Evolution) -> str:
    settings = getattr(evolution, "settings", None) or {}
    parts = [(name, settings.get(key, getattr(evolution, attr, None)))
             for name, key, attr in (("pop", "population", "population_size"),
                                     ("mut", "mutations", "mutations"), ("seed", "seed", "seed"))]
    return "  ".join(f"{name} {value}" for name, value in parts if value is not None)


def watch(evolution: Evolution, generations: Optional[int] = None,
          seconds: Optional[float] = None, target: Optional[float] = None, *,
          window: bool = True, record=None, record_every: int = 100,
          callback: Optional[Callable[[Progress], Optional[bool]]] = None,
          interval: float = 0.1, fps: float = 30.0, grid: int = 10, labels=None,
          title: Optional[str] = None, screenshots=".", software: bool = False,
          hold: bool = False, on_step: Optional[Callable[[Viewer], None]] = None) -> Progress:
    """Run `evolution` like Evolution.run(generations, seconds, target, callback) while
    showing it live in a window; return the final Progress.

    window: open the window (where none can be opened, one line says so and the run goes on
    without it). record: a folder to write a PNG frame of the view to every record_every
    generations, with or without a window. Keys: space pauses and resumes, s saves a
    screenshot to `screenshots`, a toggles the image scale, Esc or q stops the run (closing
    the window too); the evolution keeps all it has done. hold: keep the window open after
    the run ends, until it is closed. on_step(viewer): called after every round of the
    window loop (tests drive the viewer with it). seconds counts evolution time, pauses
    excluded; Progress.evals_per_second and elapsed exclude pauses too.
    """
    title = title or _default_title(evolution)
    snapshotter = Snapshotter(evolution.network, evolution.images, grid=grid,
                              labels=labels, title=title)
    runner = Runner(evolution, snapshotter, generations, seconds, target, callback,
                    interval, record, record_every)
    win = open_window(f"evoae - {title}", software) if window else None
    if win is None:
        if generations is None and seconds is None and target is None and callback is None:
            raise ValueError("give generations, seconds, target or a callback: without a "
                             "window nothing would stop the run")
        return runner.run()

    thread = threading.Thread(target=runner.run_catching, name="evoae-evolution", daemon=True)
    viewer = Viewer(win, runner, Path(screenshots), fps=fps)
    try:
        thread.start()
        while thread.is_alive():
            viewer.step()
            if on_step is not None:
                on_step(viewer)
            thread.join(_TICK)
        viewer.state_override = "stopped" if runner.stopped else "finished"
        viewer.step(force=True)
        while hold and not viewer.quit:
            viewer.step()
            if on_step is not None:
                on_step(viewer)
            time.sleep(_TICK)
    except BaseException:  # Ctrl-C or an error in the loop: stop evolution cleanly first
        runner.stop()
        thread.join()
        raise
    finally:
        win.close()
    if runner.error is not None:
        raise runner.error
    return runner.final


def view_result(result, window: bool = True, save=None, grid: int = 10, labels=None,
                screenshots=".", software: bool = False,
                on_step: Optional[Callable[[Viewer], None]] = None) -> Optional[Viewer]:
    """Show a saved result (a Result, or the path of a result.npz): targets, reconstructions,
    the error curve and the latent plane, until the window is closed. save: also write the
    view to this PNG file first. Returns the Viewer once its window is closed, or None when
    no window was opened (window=False, or no display: open_window's one line is printed)."""
    if not isinstance(result, Result):
        result = load_result(result)
    s = result.settings
    title = (f"pop {s['population']}  mut {s['mutations']}  seed {s['seed']}"
             if all(k in s for k in ("population", "mutations", "seed")) else "saved result")
    snapshotter = Snapshotter(result.network, result.images, grid=grid, labels=labels,
                              title=title)
    snap = snapshotter.take(result.genome, result.history, max(len(result.history) - 1, 0),
                            float(s.get("evals_per_second", 0.0)),
                            float(s.get("seconds", 0.0)), force=True)
    if save is not None:
        save_png(save, render(snap, state="saved result"))
    win = open_window(f"evoae - {title}", software) if window else None
    if win is None:
        return None
    viewer = Viewer(win, snap, Path(screenshots))
    try:
        while not viewer.quit:
            viewer.step()
            if on_step is not None:
                on_step(viewer)
            time.sleep(_TICK)
    finally:
        win.close()
    return viewer
