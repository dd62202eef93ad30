"""Argument types shared by the command-line parsers: each refuses a bad value with a message
argparse prints as a one-line error."""
from __future__ import annotations

import argparse
import math
from typing import Callable

__all__ = ["int_at_least", "number_at_least", "positive_float"]


def int_at_least(low: int) -> Callable[[str], int]:
    """An integer >= low."""
    def parse(text: str) -> int:
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value
    return parse


def number_at_least(low: float) -> Callable[[str], float]:
    """A finite float >= low."""
    def parse(text: str) -> float:
        value = float(text)
        if not (math.isfinite(value) and value >= low):
            raise argparse.ArgumentTypeError(f"must be a finite number >= {low:g}, got {value}")
        return value
    return parse


def positive_float(text: str) -> float:
    """A finite float > 0."""
    value = float(text)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value
