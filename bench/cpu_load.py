"""What else is using the CPU: this machine may be shared, and a benchmark thread that loses
its core to another process (or waits at a barrier for one that did) is measured wrong."""
from __future__ import annotations

import os
import time

DISTURBED = 0.25  # cores used by other processes during a timed run, above which it is redone


def cpu_seconds() -> tuple[float, float]:
    """(CPU seconds used by the whole machine, by this process) so far (/proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
    own = os.times()
    return busy / os.sysconf("SC_CLK_TCK"), own.user + own.system


def busy_cores(interval: float = 1.0) -> float:
    """Cores kept busy by other processes over the next `interval` seconds."""
    busy, own = cpu_seconds()
    time.sleep(interval)
    busy2, own2 = cpu_seconds()
    return max(0.0, (busy2 - busy) - (own2 - own)) / interval


def wait_until_quiet(limit: float, quiet: float = 0.15) -> float:
    """Wait up to `limit` seconds until other processes use under `quiet` cores; returns the
    last reading."""
    deadline, busy = time.monotonic() + limit, busy_cores()
    while busy > quiet and time.monotonic() < deadline:
        busy = busy_cores()
    return busy


def burn(seconds: float) -> None:
    """One busy competing process: spin one core for `seconds` (the load of the issue's
    'with one busy process' figures)."""
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:
        for _ in range(10000):
            x += 1


if __name__ == "__main__":
    import sys

    burn(float(sys.argv[1]) if len(sys.argv) > 1 else 3600.0)
