"""Training the paper's network by backpropagation as a PyTorch user would batch it: P networks
in one model (torch_batched.network: grouped convolutions, baddbmm), each layer's parameters of
all P networks one leaf tensor, each network's loss its mean |output - image| (the losses
summed, so each network gets its own mean's gradient), torch.optim.Adam, the full batch of
images every step; eager mode, float32 on the CPU."""
from __future__ import annotations

import numpy as np
import torch

from torch_batched import network
from workload import LEARNING_RATE, SEED, initial_population, split


class Training:
    """P networks trained at once from initial_population(P); run(n) takes n Adam steps, and
    evaluations counts network-image gradient evaluations (P x images per step)."""

    def __init__(self, images: np.ndarray, networks: int, seed: int = SEED,
                 learning_rate: float = LEARNING_RATE):
        self.images = torch.from_numpy(images)
        genomes = torch.from_numpy(initial_population(networks, seed))
        self.params = {name: w.clone().requires_grad_() for name, w in split(genomes).items()}
        self.optimizer = torch.optim.Adam(self.params.values(), lr=learning_rate)
        self.networks = networks
        self.evaluations = 0

    def losses(self) -> torch.Tensor:
        """Each network's mean |output - image| over the images and pixels, (P,)."""
        return (network(self.params, self.images) - self.images).abs().mean(dim=(1, 2, 3))

    def step(self) -> None:
        self.optimizer.zero_grad()
        self.losses().sum().backward()
        self.optimizer.step()
        self.evaluations += self.networks * len(self.images)

    def run(self, steps: int) -> None:
        for _ in range(steps):
            self.step()

    def genomes(self) -> np.ndarray:
        """The parameters as genomes (P, NUM_PARAMS) in workload.LAYOUT's order."""
        with torch.no_grad():
            flat = [w.reshape(self.networks, -1) for w in self.params.values()]
            return torch.cat(flat, dim=1).numpy().copy()
