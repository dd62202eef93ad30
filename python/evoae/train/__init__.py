"""Training by backpropagation: the Trainer (the core's train/ through the one run loop) and
its settings table."""
from .settings import LOSSES, TRAIN_SETTINGS
from .trainer import Trainer

__all__ = ["Trainer", "TRAIN_SETTINGS", "LOSSES"]
