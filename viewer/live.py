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
from typing import Callable, Iterable, Optional

import numpy as np

from evoae.evo.curves import fitness_curve
from evoae.evo.evolution import Evolution
from evoae.run import Every, Progress, Stop
from evoae.io.results import Result, load_result

from .draw import HEIGHT, WIDTH, render
from .record import frame_path, save_png
from .snapshot import Snapshot, Snapshotter
from .window import NoDisplay, Window

__all__ = ["Runner", "Viewer", "watch", "view_result", "open_window"]

_TICK = 1 / 30  # seconds between event polls of the window loop


class Runner:
    """Runs `evolution` through the one run loop (evoae.run) until a condition of `stop`,
    stop() or `stop_event`; the time it is paused is not counted. Meant for one thread;
    pause(), resume(), stop() and the attributes may be used from another.

    snapshot: the latest Snapshot. record: a folder to write a PNG frame to every
    record_every generations (generation 0 included). every: more actions for the loop
    (checkpoints).
    """

    def __init__(self, evolution: Evolution, snapshotter: Snapshotter, stop: Stop = Stop(),
                 callback: Optional[Callable[[Progress], Optional[bool]]] = None,
                 interval: float = 0.1, record: Optional[Path] = None,
                 record_every: int = 100, every: Iterable[Every] = (),
                 stop_event: Optional[threading.Event] = None):
        stop.check()
        if record_every < 1:
            raise ValueError(f"record_every must be >= 1, got {record_every}")
        self.evolution = evolution
        self.snapshotter = snapshotter
        self.stop_conditions = stop
        self.callback = callback
        self.interval = interval
        self.record = Path(record) if record is not None else None
        self.record_every = record_every
        self.every = tuple(every)
        self.absolute = False  # image scale of recorded frames (the window's toggle)
        self.snapshot: Optional[Snapshot] = None
        self.final: Optional[Progress] = None
        self.error: Optional[BaseException] = None
        self.paused_generation: Optional[int] = None  # set while the thread is held
        self.frames: list[Path] = []
        self._stop = stop_event if stop_event is not None else threading.Event()
        self._go = threading.Event()
        self._go.set()
        self._last = self._progress_now()

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
    def _progress_now(self) -> Progress:
        evo = self.evolution
        return Progress(evo.generation, evo.best_error, evo.best_metric, 0.0, 0.0,
                        evo.metric_name)

    def progress(self) -> Progress:
        """The loop's latest Progress (evaluations/s and seconds of running, pauses
        excluded)."""
        return self._last

    def take_snapshot(self, force: bool = False) -> Snapshot:
        """The evolution as it is now; the rate and the time from the loop's last report
        (a frame recorded between reports shows its own generation, not the last report's)."""
        evo, p = self.evolution, self._last
        curve, label = fitness_curve(evo.history, evo.settings, evo.images_per_generation,
                                     evo.images[0].size)
        self.snapshot = self.snapshotter.take(evo.best_genome, curve, evo.generation,
                                              evo.best_error, evo.best_metric,
                                              p.evals_per_second, p.elapsed, force, label)
        return self.snapshot

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> Progress:
        """Evolve until a stop condition; return the final Progress (also in .final)."""
        self._last = self._progress_now()
        self._maybe_record()
        self.take_snapshot(force=True)
        every = self.every
        if self.record is not None:
            every += (Every(self.record_every, self._maybe_record),)
        self._last = self.evolution.run(  # a stop already asked for ends it at once
            self.stop_conditions.generations, self.stop_conditions.seconds,
            self.stop_conditions.target, callback=self._on_progress, interval=self.interval,
            patience=self.stop_conditions.patience, every=every, stop_event=self._stop)
        self.final = self._last
        self.take_snapshot(force=True)
        return self.final

    def run_catching(self) -> None:
        """run(), keeping an exception in .error (for a thread)."""
        try:
            self.run()
        except BaseException as e:  # handed to the thread that waits for this one
            self.error = e

    def _on_progress(self, progress: Progress) -> bool:
        self._last = progress
        if self.callback is not None and self.callback(progress):
            self._stop.set()
        self.take_snapshot()
        if not self._go.is_set() and not self._stop.is_set():
            self.paused_generation = self.evolution.generation
            while not self._go.wait(0.05):
                pass
            self.paused_generation = None
        return False  # a stop goes through the stop event, as any other

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
          patience: Optional[int] = None, stop: Optional[Stop] = None,
          every: Iterable[Every] = (), stop_event: Optional[threading.Event] = None,
          window: bool = True, record=None, record_every: int = 100,
          callback: Optional[Callable[[Progress], Optional[bool]]] = None,
          interval: float = 0.1, fps: float = 30.0, grid: int = 10, labels=None,
          title: Optional[str] = None, screenshots=".", software: bool = False,
          hold: bool = False, on_step: Optional[Callable[[Viewer], None]] = None) -> Progress:
    """Run `evolution` like Evolution.run(generations, seconds, target, callback, patience,
    every, stop_event) while showing it live in a window; return the final Progress. `stop`
    (an evoae.run.Stop) may replace generations, seconds, target and patience.

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
    stop = stop or Stop(generations, seconds, target, patience)
    runner = Runner(evolution, snapshotter, stop, callback, interval, record, record_every,
                    every, stop_event)
    win = open_window(f"evoae - {title}", software) if window else None
    if win is None:
        if not stop.bounded and callback is None and stop_event is None:
            raise ValueError("give generations, seconds, target, patience or a callback: "
                             "without a window nothing would stop the run")
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
    operators = s.get("operators", {})
    per_generation = operators.get("batch") or len(result.images)
    curve, label = fitness_curve(result.history, operators, per_generation,
                                 result.images[0].size)
    # The MAE of the saved genome on the saved images, measured rather than taken on trust.
    mae = float(np.abs(result.reconstructions() - result.images).mean())
    best_error = float(s.get("best_error", result.history[-1] if len(result.history) else 0))
    snap = snapshotter.take(result.genome, curve, max(len(result.history) - 1, 0), best_error,
                            mae, float(s.get("evals_per_second", 0.0)),
                            float(s.get("seconds", 0.0)), force=True, curve_label=label)
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
