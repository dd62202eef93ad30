"""Argument types shared by the command-line parsers: each refuses a bad value with a message
argparse prints as a one-line error that names the option, the value and the allowed range."""
from __future__ import annotations

import argparse
import contextlib
import math
import os
from pathlib import Path
from typing import Callable, Optional

__all__ = ["int_at_least", "number_at_least", "positive_float", "comma_separated",
           "probe_writable", "writable_folder", "LARGEST"]

LARGEST = 2**62  # the most generations (or of any count) a loop goes to


def int_at_least(low: int, high: Optional[int] = None) -> Callable[[str], int]:
    """An integer from low to high (default LARGEST)."""
    high = LARGEST if high is None else high

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be an integer from {low} to {high}, got {text!r}")
        return value
    return parse


def _float(text: str, wanted: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}") from None


def number_at_least(low: float) -> Callable[[str], float]:
    """A finite float >= low."""
    def parse(text: str) -> float:
        wanted = f"a finite number >= {low:g}"
        value = _float(text, wanted)
        if not (math.isfinite(value) and value >= low):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
        return value
    return parse


def positive_float(text: str) -> float:
    """A finite float > 0."""
    value = _float(text, "a finite number > 0")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def comma_separated(parse: Callable[[str], object]) -> Callable[[str], object]:
    """One value, or several separated by commas ('0.01,0.003': a list), each read by
    `parse`; the error names the item that is wrong."""
    def parse_all(text: str):
        values = []
        for item in text.split(","):
            try:
                values.append(parse(item.strip()))
            except argparse.ArgumentTypeError as e:
                wanted = f" in {text!r}" if "," in text else ""
                raise argparse.ArgumentTypeError(f"{e}{wanted}") from None
        return values[0] if len(values) == 1 else values
    return parse_all


def probe_writable(folder: Path, option: str = "--out") -> bool:
    """Creates `folder` if missing and writes and removes a probe file in it, so that a folder
    the results cannot go to is refused before any work, not after it (ValueError). Returns
    whether it created the folder."""
    created = not folder.exists()
    probe = folder / f".evoae-probe-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        reason = e.strerror or str(e)
        raise ValueError(f"{option} {folder}: cannot write there ({reason})") from None
    return created


@contextlib.contextmanager
def writable_folder(folder: Path, option: str = "--out"):
    """probe_writable() around a set-up: if the set-up fails, a folder the probe created is
    removed again, so that a refused run leaves nothing behind."""
    created = probe_writable(folder, option)
    try:
        yield folder
    except BaseException:
        if created and not any(folder.iterdir()):
            folder.rmdir()
        raise
