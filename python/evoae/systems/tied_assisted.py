"""The GA-assisted recipe of the tied autoencoder (David & Greental 2014's "GA-assisted"
variant): each layer pair is evolved by the GA of the plain recipe (uniform crossover,
mutation setting a few weights to zero, truncation, fitness the RMSE) in which every agent
also learns by gradient steps before it is measured, and the best genome of the evolution is
then fine-tuned by backpropagation alone.

Our choice of how the two combine (a setting each; the paper's text was not at hand):
- Lamarckian learning (evoae.Evolution's memetic settings): every agent of a generation takes
  `gradient_steps` steps of Adam on the generation's mini-batch of `batch` images (a new
  seeded batch each generation, as stochastic gradient descent would see them), the learned
  weights replace its genome, and its fitness is measured on that batch. The elites go on
  learning as the children do, so the GA breeds from trained networks and the children start
  from crossings of them.
- Fine-tuning (evoae.Trainer): the selected genome takes `finetune_steps` (or
  `finetune_seconds`) more steps of Adam on mini-batches of all the pair's inputs, one
  network, before the pair is frozen and its codes feed the next pair.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..nn.network import Network
from ..run import Progress
from ..train.trainer import Trainer

__all__ = ["LEARNING", "FINETUNE", "FineTuned", "finetune_pair", "check_learning"]

#: evoae.Evolution keywords added to the GA's operators under the assisted recipe: memetic
#: (Lamarckian) learning of every agent on each generation's mini-batch.
LEARNING = {"gradient_steps": 4, "memetic": "lamarckian", "gradient_optimizer": "adam",
            "gradient_rate": 0.01, "gradient_loss": "mse", "batch": 100}

#: evoae.Trainer keywords of the fine-tuning of each pair's selected genome.
FINETUNE = {"loss": "mse", "optimizer": "adam", "learning_rate": 0.01, "batch": 100}


def check_learning(learning: dict) -> None:
    """The assisted recipe needs gradient steps: without them it is the plain GA."""
    steps = learning.get("gradient_steps", 0)
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"the assisted recipe needs learning['gradient_steps'] >= 1 (gradient "
                         f"steps per agent and generation), got {steps!r}")


@dataclass
class FineTuned:
    """A genome after fine-tuning."""

    genome: np.ndarray
    steps: int
    history: np.ndarray  # the loss on each step's mini-batch, the start first
    seconds: float
    settings: dict  # the Trainer's resolved settings


def finetune_pair(net: Network, inputs: np.ndarray, genome: np.ndarray, trainer: dict,
                  steps: Optional[int], seconds: Optional[float], seed: int,
                  threads: Optional[int] = None,
                  callback: Optional[Callable[[Progress], None]] = None) -> FineTuned:
    """`genome` of `net` trained further by backpropagation to reconstruct `inputs`, for
    `steps` steps or `seconds` seconds, whichever comes first (0 steps: unchanged).
    trainer: evoae.Trainer keywords (FINETUNE)."""
    start = time.perf_counter()
    run = Trainer(net, inputs, genomes=genome[None, :], seed=seed, threads=threads,
                  **trainer)
    if steps != 0:
        run.run(generations=steps, seconds=seconds, callback=callback, interval=5.0)
    return FineTuned(run.best_genome.copy(), run.generation, np.asarray(run.history, float),
                     time.perf_counter() - start, dict(run.settings))
