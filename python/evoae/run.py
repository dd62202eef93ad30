"""The one run loop. Every system, the CLI, the viewer and `compare` run generations through
run(): the stop conditions (generations, seconds, target, patience, a stop event set by
Ctrl-C, SIGTERM or a window), the progress callback, and actions every N generations
(checkpoints, recorded frames) are handled here and nowhere else.

A system is anything with `generation`, `evaluations`, `best_error`, `best_metric`,
`metric_name` and `advance(max_generations, max_seconds, target_metric, patience) ->
(generations done, reason)`, which runs generations in C++ and checks the target and the
patience after each one, so that every condition stops at the exact generation it names.
"""
from __future__ import annotations

import contextlib
import math
import numbers
import signal
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

__all__ = ["Stop", "Every", "Progress", "Interrupt", "run", "stop_on_signals"]

_FOREVER = 2**62  # generations: "no limit" for the C++ loop


@dataclass(frozen=True)
class Progress:
    """What the callback receives, and run() returns."""

    generation: int
    best_error: float  # the fitness of the best: by default the sum of |output - target| over
    # all images and pixels (the paper's error)
    best_metric: float  # the objective's metric of the best on this generation's samples:
    # mean |output - target| per pixel for reconstruction, the error rate for classification
    evals_per_second: float  # (genome, sample) forward passes per second of the run
    elapsed: float  # seconds of running (time in callbacks and actions not counted)
    metric_name: str = "MAE"

    @property
    def best_mae(self) -> float:
        """best_metric under its reconstruction name."""
        return self.best_metric


@dataclass(frozen=True)
class Stop:
    """When a run stops: the first condition that holds (None: never)."""

    generations: Optional[int] = None  # more generations
    seconds: Optional[float] = None  # of running
    target: Optional[float] = None  # the best's metric at or below this
    patience: Optional[int] = None  # generations without a new lowest best fitness

    def check(self) -> None:
        for name, low in (("generations", 0), ("patience", 1)):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ValueError(f"{name} must be an integer, got {value!r}")
            if value < low:
                raise ValueError(f"{name} must be >= {low}, got {value}")
            if value > _FOREVER:
                raise ValueError(f"{name} must be <= {_FOREVER} (2**62), got {value}")
        for name in ("seconds", "target"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not value >= 0:  # NaN too: no time would ever reach it
                raise ValueError(f"{name} must be >= 0, got {value}")

    @property
    def bounded(self) -> bool:
        """Whether a condition can hold: seconds=inf is no limit."""
        return (any(v is not None for v in (self.generations, self.target, self.patience))
                or (self.seconds is not None and math.isfinite(self.seconds)))


@dataclass(frozen=True)
class Every:
    """An action run whenever the generation reaches a multiple of `generations`."""

    generations: int
    action: Callable[[], None]


def run(system, stop: Stop, callback: Optional[Callable[[Progress], Optional[bool]]] = None,
        interval: float = 0.25, every: Iterable[Every] = (),
        stop_event: Optional[threading.Event] = None) -> Progress:
    """Run `system` until a condition of `stop` holds, the callback returns True, or
    `stop_event` is set (checked every `interval` seconds at most). The callback gets a
    Progress every `interval` seconds. Sets system.stop_reason to "generations", "seconds",
    "target", "patience", "callback" or "interrupted"; returns the final Progress."""
    stop.check()
    every = tuple(every)
    if not stop.bounded and callback is None and stop_event is None:
        raise ValueError("give generations, seconds, target, patience or a callback, "
                         "or it never stops")
    if not (interval > 0 and math.isfinite(interval)):
        raise ValueError(f"interval must be > 0, got {interval}")
    for e in every:
        if e.generations < 1:
            raise ValueError(f"actions run every N >= 1 generations, got {e.generations}")
    clock = _Clock()
    start_generation, start_evaluations = system.generation, system.evaluations

    def progress() -> Progress:
        elapsed = clock.elapsed()
        rate = (system.evaluations - start_evaluations) / elapsed if elapsed > 0 else 0.0
        return Progress(system.generation, system.best_error, system.best_metric, rate,
                        elapsed, system.metric_name)

    report = progress()
    while True:
        done = system.generation - start_generation
        generations_left = _FOREVER if stop.generations is None else stop.generations - done
        seconds_left = math.inf if stop.seconds is None else stop.seconds - clock.elapsed()
        if generations_left <= 0 or seconds_left <= 0:
            system.stop_reason = "generations" if generations_left <= 0 else "seconds"
            return report
        if stop_event is not None and stop_event.is_set():
            system.stop_reason = "interrupted"
            return report
        chunk = generations_left
        for e in every:  # stop at the next generation an action is due
            chunk = min(chunk, e.generations - system.generation % e.generations)
        advanced, reason = system.advance(chunk, min(seconds_left, interval),
                                          -1.0 if stop.target is None else stop.target,
                                          stop.patience or 0)
        with clock.paused():
            for e in every:  # due once: only when this chunk reached the generation
                if advanced and system.generation % e.generations == 0:
                    e.action()
            report = progress()
            wants_stop = callback is not None and bool(callback(report))
        if reason in ("target", "patience"):
            system.stop_reason = reason
            return report
        if wants_stop:
            system.stop_reason = "callback"
            return report


class _Clock:
    """Seconds of running: wall time less the time spent in callbacks and actions."""

    def __init__(self):
        self._start = time.perf_counter()
        self._paused = 0.0

    def elapsed(self) -> float:
        return time.perf_counter() - self._start - self._paused

    @contextlib.contextmanager
    def paused(self):
        t = time.perf_counter()
        try:
            yield
        finally:
            self._paused += time.perf_counter() - t


class Interrupt(threading.Event):
    """A stop event for run() that remembers the signal that set it (None: set by code)."""

    signal: Optional[int] = None


@contextlib.contextmanager
def stop_on_signals(event: Interrupt, signals=(signal.SIGINT, signal.SIGTERM)):
    """While inside, SIGINT (Ctrl-C) and SIGTERM set `event` instead of raising, so that run()
    stops after the generations running now and everything can be written. A second Ctrl-C
    raises KeyboardInterrupt as usual. Does nothing outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield event
        return

    def handler(signum, frame):
        if event.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        event.signal = signum
        event.set()

    previous = {s: signal.signal(s, handler) for s in signals}
    try:
        yield event
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
