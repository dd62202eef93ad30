"""Atomic writes: a file is written to a temporary beside it, flushed to disk and renamed over
the old one, so a crash or a kill while writing leaves the previous file whole. Temporaries of
killed writers (named .NAME.PID.RANDOM.tmp) are removed by the next write of the same file."""
from __future__ import annotations

import contextlib
import os
import secrets
import time
from glob import escape as glob_escape
from pathlib import Path
from typing import BinaryIO, Iterator

__all__ = ["atomic_file", "write_text_atomically", "STALE_SECONDS"]

STALE_SECONDS = 60.0  # a temporary this old is a dead writer's: writes take well under that


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file to write `path`'s new contents to; they replace `path` only when the
    block ends without an error (Ctrl-C included: then the temporary is removed)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:  # folders cannot be opened on some systems (Windows)
        pass
    _remove_stale_temporaries(path)


def write_text_atomically(path: str | os.PathLike, text: str) -> None:
    with atomic_file(path) as f:
        f.write(text.encode())


def _writer_gone(pid: int) -> bool:
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # exists, but is another user's
        return False
    return False


def _remove_stale_temporaries(path: Path) -> None:
    """Remove the temporaries of `path` left by killed writers: those whose writer process
    is gone, or over STALE_SECONDS old (a writer on another machine, a reused pid)."""
    now = time.time()
    for tmp in path.parent.glob(f".{glob_escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2:].split(".")[0]
        try:
            stale = now - tmp.stat().st_mtime > STALE_SECONDS or (
                pid.isdigit() and _writer_gone(int(pid)))
            if stale:
                tmp.unlink()
        except OSError:  # gone already (its writer finished), or not ours to remove
            pass
