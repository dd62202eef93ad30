"""The evoae command line; one file per command group."""
from .main import main

__all__ = ["main"]
