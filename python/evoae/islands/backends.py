"""Where the island groups run: in this process (the default; no Ray needed), one thread per
worker, or as Ray actors, one per worker. Both answer call(method, arguments per group) with
the groups' answers in group order, so the driver (model.py) is the same for both.

On Ray, an actor whose process dies is restarted (its constructor runs again and restores
its islands from their newest checkpoints) and the call in flight is sent again; the groups'
calls are written to be repeated (group.py). The images go into Ray's object store once and
every actor reads them from there, also after a restart.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

from .group import IslandGroup

__all__ = ["BACKENDS", "InProcess", "OnRay", "import_ray", "connect_ray", "RESTARTS",
           "WORKER_NICENESS"]

BACKENDS = ("in-process", "ray")
RESTARTS = 4  # an actor's restarts (and a call's retries): a fault that repeats stops the run
WORKER_NICENESS = "RAY_worker_niceness"  # Ray's setting, read from the environment


def import_ray():
    """Ray, or ImportError with the line that installs it."""
    try:
        import ray
    except ImportError:
        raise ImportError('the ray backend needs Ray: pip install "evoae[ray]"') from None
    return ray


def connect_ray(address: Optional[str]) -> bool:
    """Connects this process to Ray: the cluster at `address` ("auto": the one this machine
    is part of) or, without one, a new local Ray; nothing when connected already (e.g. by
    the caller's ray.init). Returns whether it started the connection.

    Ray runs its worker processes at niceness 15, so that its own services keep their
    priority; islands at niceness 15 on a machine shared with other work run many times
    slower than the same islands in-process (measured: 10x at load average 12 on 2 cores).
    A local Ray started here runs its workers at the driver's priority unless
    RAY_worker_niceness says otherwise; a cluster's is set where `ray start` runs."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    if address is None:
        os.environ.setdefault(WORKER_NICENESS, "0")
    ray.init(address=address, include_dashboard=False, log_to_driver=False)
    return True


class InProcess:
    """The groups as objects of this process, run by `len(groups)` threads (the core
    releases the GIL while it runs generations)."""

    def __init__(self, arguments: list):
        self._pool = ThreadPoolExecutor(len(arguments)) if len(arguments) > 1 else None
        self.groups = self._map(lambda args: IslandGroup(*args), arguments)

    def _map(self, function, items) -> list:
        if self._pool is None:
            return [function(item) for item in items]
        return list(self._pool.map(function, items))

    def call(self, method: str, arguments: list) -> list:
        return self._map(lambda pair: getattr(pair[0], method)(*pair[1]),
                         list(zip(self.groups, arguments)))

    def call_one(self, group: int, method: str, *arguments):
        return getattr(self.groups[group], method)(*arguments)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()


class _RemoteGroup(IslandGroup):
    """An IslandGroup as a Ray actor. An error of its set-up (settings the core refuses) is
    kept and raised by its first call, reports(), where the driver receives it as the error
    it is; raised by the constructor it would reach the driver only as "the actor died"."""

    def __init__(self, *arguments):
        self.setup_error = None
        try:
            super().__init__(*arguments)
        except (ValueError, TypeError) as e:
            self.setup_error = e

    def reports(self) -> list:
        if self.setup_error is not None:
            raise self.setup_error
        return super().reports()


class OnRay:
    """The groups as Ray actors of `cpus` CPUs each, on the Ray this process is connected to
    (connect_ray); `started`: whether close() ends that connection."""

    def __init__(self, arguments: list, cpus: int, started: bool):
        ray = self._ray = import_ray()
        self._started = started
        remote = ray.remote(num_cpus=cpus, max_restarts=RESTARTS,
                            max_task_retries=RESTARTS)(_RemoteGroup)
        # The images, targets and labels: one copy in the object store for every actor.
        # Kept referenced here: a restarted actor reads them again.
        self._data = [None if a is None else ray.put(a) for a in arguments[0][1:4]]
        self.groups = [remote.remote(args[0], *self._data, *args[4:]) for args in arguments]

    def call(self, method: str, arguments: list) -> list:
        return self._get([getattr(g, method).remote(*args)
                          for g, args in zip(self.groups, arguments)])

    def _get(self, futures: list) -> list:
        ray = self._ray
        try:
            return ray.get(futures)
        except ray.exceptions.RayTaskError as e:  # the group's own error, as raised there
            raise (e.cause if isinstance(e.cause, Exception) else e) from None

    def call_one(self, group: int, method: str, *arguments):
        return self._get([getattr(self.groups[group], method).remote(*arguments)])[0]

    def pids(self) -> list:
        """Each actor's process id."""
        return self.call("pid", [()] * len(self.groups))

    def close(self) -> None:
        for group in self.groups:
            self._ray.kill(group, no_restart=True)
        if self._started:
            self._ray.shutdown()
