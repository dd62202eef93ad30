"""Canonical training, the Lipizzaner-AE papers' baseline: one autoencoder trained by Adam
(betas 0.5, 0.999) with a step decay of its learning rate (x lr_decay every lr_decay_every
epochs, by default x0.1 every quarter of the run) and the same pruning operators and schedules
after each epoch. It is the one-cell case of the core's Coevolution (no neighbours, no
tournament, no learning-rate mutation), so both share every part but the cells."""
from __future__ import annotations

from .coevolution import Coevolution

__all__ = ["Canonical"]


class Canonical(Coevolution):
    """Coevolution with method "canonical": the same keywords, the cell settings ignored."""

    METHOD = "canonical"
