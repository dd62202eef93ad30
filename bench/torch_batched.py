"""The network and the original loop as a PyTorch user would batch them: the whole population
in one pass, P genomes as P groups of grouped convolutions and a batch of matmuls (bmm),
torch.no_grad(), float32 on the CPU."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from workload import MUTATIONS, POPULATION, SEED, initial_population, split


@torch.no_grad()
def forward(genomes: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """genomes (P, NUM_PARAMS), images (S, 28, 28) -> outputs (P, S, 28, 28)."""
    return network(split(genomes), images)


def forward_numpy(genomes: np.ndarray, images: np.ndarray) -> np.ndarray:
    """forward() for NumPy arrays: float32 (P, NUM_PARAMS), (S, 28, 28) -> (P, S, 28, 28)."""
    return forward(torch.from_numpy(genomes), torch.from_numpy(images)).numpy()


def network(w: dict[str, torch.Tensor], images: torch.Tensor) -> torch.Tensor:
    """The P networks whose parameters are w (workload.split's layers, (P, *shape) each) on
    images (S, 28, 28) -> outputs (P, S, 28, 28); differentiable (torch_train.py trains it)."""
    P, S = w["conv1"].shape[0], images.shape[0]
    x = images[:, None]  # (S, 1, 28, 28), shared: conv1 is one conv with P output channels
    h = F.max_pool2d(F.relu(F.conv2d(x, w["conv1"])), 2)  # (S, P, 12, 12)
    h = F.max_pool2d(F.relu(F.conv2d(h, w["conv2"], groups=P)), 2)  # (S, P, 4, 4)
    h = h.reshape(S, P, 16).transpose(0, 1)  # (P, S, 16)
    for layer in ("dense1", "dense2", "dense3", "dense4"):  # (P, S, 5) (2) (5) (160)
        W, b = w[layer + "_w"], w[layer + "_b"]
        h = torch.sigmoid(torch.baddbmm(b[:, None], h, W.transpose(1, 2)))
    h = h.reshape(P, S, 10, 4, 4).transpose(0, 1).reshape(S, P * 10, 4, 4)  # channel-major
    h = F.interpolate(h, scale_factor=2, mode="nearest")  # (S, P*10, 8, 8)
    k1 = w["trconv1"].repeat_interleave(10, dim=0)  # (P*10, 1, 5, 5): one kernel, 10 channels
    h = torch.sigmoid(F.conv_transpose2d(h, k1, groups=P * 10))  # (S, P*10, 12, 12)
    h = F.interpolate(h, scale_factor=2, mode="nearest")  # (S, P*10, 24, 24)
    k2 = w["trconv2"].reshape(P * 10, 1, 5, 5)  # group p: 10 inputs -> 1 output, summed
    y = torch.sigmoid(F.conv_transpose2d(h, k2, groups=P))  # (S, P, 28, 28)
    return y.transpose(0, 1)


@torch.no_grad()
def errors(genomes: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Sum of |output - image| over images and pixels, (P,)."""
    return (forward(genomes, images) - images).abs().sum(dim=(1, 2, 3))


class Evolution:
    """The original loop; agent 0's error is kept, so a generation evaluates P-1 genomes."""

    def __init__(self, images: np.ndarray, population: int = POPULATION,
                 mutations: int = MUTATIONS, seed: int = SEED):
        self.images = torch.from_numpy(images)
        self.genomes = torch.from_numpy(initial_population(population, seed))
        self.mutations = mutations
        self.generator = torch.Generator().manual_seed(seed)
        self.errors = errors(self.genomes, self.images)
        self.evaluations = population * len(images)

    @torch.no_grad()
    def step(self) -> None:
        P, G = self.genomes.shape
        best = int(torch.argmin(self.errors))  # the first of equal minima
        elite_error = self.errors[best].clone()
        self.genomes[:] = self.genomes[best].clone()
        index = torch.randint(G, (self.mutations,), generator=self.generator)
        noise = torch.rand(P - 1, self.mutations, generator=self.generator) * 2 - 1
        self.genomes[1:].index_add_(1, index, noise)  # a repeated index adds twice
        self.errors = torch.cat([elite_error[None], errors(self.genomes[1:], self.images)])
        self.evaluations += (P - 1) * len(self.images)

    def run(self, generations: int) -> None:
        for _ in range(generations):
            self.step()

    def state(self) -> tuple[np.ndarray, np.ndarray]:
        """(genomes (P, G), errors (P,)) as NumPy arrays."""
        return self.genomes.numpy().copy(), self.errors.double().numpy().copy()
