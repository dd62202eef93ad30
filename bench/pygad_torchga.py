"""The network as a torch.nn model and the original loop in PyGAD 3.9 with pygad.torchga, as
PyGAD users write it: one model per solution (pygad.torchga.predict loads the solution into a
copy of the model), the fitness function called once per solution.

To make PyGAD's loop the original one: steady-state selection of one parent (the best),
keep_elitism=1 (the best is kept unchanged as solution 0; PyGAD reuses its cached fitness, so
a generation evaluates P-1 solutions), a crossover that copies the best parent into every
offspring (crossover_type=None would keep PyGAD's other parents, not copy the best), and a
mutation that adds U(-1, 1) at MUTATIONS indices drawn once per generation, shared by all."""
from __future__ import annotations

import time

import numpy as np
import pygad
import pygad.torchga
import torch
import torch.nn.functional as F
from torch import nn

from workload import MUTATIONS, NUM_PARAMS, POPULATION, SEED, initial_population


class SharedConvTranspose(nn.Module):
    """conv_transpose(5,5,1): one 5x5 kernel applied to every channel, no bias."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, 1, 5, 5))

    def forward(self, x):  # (N, C, H, W) -> (N, C, H+4, W+4)
        C = x.shape[1]
        return F.conv_transpose2d(x, self.weight.expand(C, 1, 5, 5), groups=C)


def varadi_model() -> nn.Module:
    """The paper's network; its state_dict order is the genome order (1397 parameters)."""
    return nn.Sequential(
        nn.Conv2d(1, 1, 5, bias=False), nn.ReLU(), nn.MaxPool2d(2),  # 24x24 -> 12x12
        nn.Conv2d(1, 1, 5, bias=False), nn.ReLU(), nn.MaxPool2d(2),  # 8x8 -> 4x4
        nn.Flatten(),
        nn.Linear(16, 5), nn.Sigmoid(), nn.Linear(5, 2), nn.Sigmoid(),
        nn.Linear(2, 5), nn.Sigmoid(), nn.Linear(5, 160), nn.Sigmoid(),
        nn.Unflatten(1, (10, 4, 4)),  # channel-major
        nn.Upsample(scale_factor=2, mode="nearest"),
        SharedConvTranspose(), nn.Sigmoid(),  # 8x8 -> 12x12
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.ConvTranspose2d(10, 1, 5, bias=False), nn.Sigmoid(),  # reducer 10: 24x24 -> 28x28
    )


def forward(model: nn.Module, genomes: np.ndarray, images: np.ndarray) -> np.ndarray:
    """Each genome through the model with pygad.torchga.predict: (P, S, 28, 28)."""
    data = torch.from_numpy(images)[:, None]
    return np.stack([pygad.torchga.predict(model, g, data)[:, 0].numpy() for g in genomes])


class Evolution:
    """The original loop in pygad.GA. run(n) times n generations between two on_generation
    callbacks, so PyGAD's start of run() (evaluating the whole population) is not counted."""

    def __init__(self, images: np.ndarray, population: int = POPULATION,
                 mutations: int = MUTATIONS, seed: int = SEED):
        self.model = varadi_model()
        assert sum(p.numel() for p in self.model.parameters()) == NUM_PARAMS
        self.data = torch.from_numpy(images)[:, None]  # (S, 1, 28, 28)
        self.mutations = mutations
        self.rng = np.random.default_rng(seed)
        self.evaluations = 0
        self.ga = pygad.GA(
            num_generations=1, num_parents_mating=1, initial_population=initial_population(
                population, seed).astype(np.float64),
            fitness_func=self.fitness, parent_selection_type="sss", keep_elitism=1,
            crossover_type=self.copy_best, mutation_type=self.mutate,
            on_generation=self.on_generation, random_seed=seed, suppress_warnings=True)

    def fitness(self, ga, solution, index):
        predictions = pygad.torchga.predict(model=self.model, solution=solution, data=self.data)
        self.evaluations += len(self.data)
        return -float(torch.abs(predictions - self.data).sum())  # PyGAD maximises

    @staticmethod
    def copy_best(parents, offspring_size, ga):
        return np.repeat(parents[:1], offspring_size[0], axis=0)

    def mutate(self, offspring, ga):
        index = self.rng.integers(offspring.shape[1], size=self.mutations)
        noise = self.rng.uniform(-1.0, 1.0, (len(offspring), self.mutations))
        np.add.at(offspring, (slice(None), index), noise)  # a repeated index adds twice
        return offspring

    def on_generation(self, ga):
        self._ticks.append((time.perf_counter(), self.evaluations))
        if len(self._ticks) == 1 and self._record:
            self._before = self.state()
            self._ticks[0] = (time.perf_counter(), self.evaluations)
        if len(self._ticks) > self._generations:
            return "stop"

    def run(self, generations: int, record: bool = False):
        """Run generations+1 PyGAD generations; returns (seconds, evaluations) of the last
        `generations`, and with record=True the (genomes, errors) states around them."""
        self._ticks, self._generations, self._record = [], generations, record
        self.ga.num_generations = generations + 1
        self.ga.run()
        (t0, e0), (t1, e1) = self._ticks[0], self._ticks[-1]
        return (t1 - t0, e1 - e0) if not record else (t1 - t0, e1 - e0, self._before, self.state())

    def state(self) -> tuple[np.ndarray, np.ndarray]:
        return self.ga.population.copy(), -np.asarray(self.ga.last_generation_fitness, float)
