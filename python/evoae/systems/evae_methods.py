"""How each method of `evoae evae` sets its VAE's KL weight beta, step by step: the fixed
weights (VAE, beta-VAE), linear KL annealing, cyclical annealing, the ControlVAE-style PI
controller, and the evolutionary step of eVAE on a population's betas. Pure functions of
their inputs and keyed random streams, no networks (evae.py applies them).

Each method as its paper gives it, and each choice made where it does not:

- linear annealing (Bowman et al. 2016): beta = min(1, step / (anneal_fraction x steps)).
- cyclical annealing (Fu et al. 2019): `cycles` cycles over the run; in each, beta rises
  linearly from 0 to 1 over the first `cycle_ratio` of the cycle, then stays at 1 (their
  M = 4, R = 0.5 are the defaults).
- the PI controller (Shao et al. 2020, ControlVAE): error e = C - KL (the step's batch KL,
  unfiltered); P = Kp / (1 + e^e); I -= Ki e; beta = clamp(P + I + beta_min, beta_min,
  beta_max), starting at beta_min. Their anti-windup skips the integration while beta is
  clamped; here the integral itself is clamped to what the output's range can show
  ([-P, beta_max - beta_min - P]), so that it never winds past a clamp and leaves it at once.
- eVAE's variational genetic algorithm (Wu, Cao & Qi 2025; their details are not public here):
  the chromosome is log10 beta (beta > 0, its scale multiplicative); fitness = the relative
  improvement of the beta = 1 negative ELBO over the last window of E steps minus
  kl_weight x |KL - C| / C (the window's mean KL); truncation selection keeps the best
  `survival` fraction; each other member is replaced by a child of two survivors drawn by
  binary tournaments: SBX (Deb & Agrawal 1995) with index eta, with probability
  crossover_probability, else the first parent's gene; then the V-mutation, a Cauchy step
  scale x tan(pi (u - 1/2)) (heavy-tailed: mostly small moves, now and then a long jump);
  clipped to [log10 beta_min, log10 beta_max]; the child takes the fitter parent's weights
  and Adam moments (population-based training's exploit).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ["linear_annealing", "cyclical_annealing", "PiController", "sbx", "cauchy_step",
           "evae_fitness", "Evolved", "evolve_betas", "stream"]

# Purposes of the evolution's keyed streams (as core/rng.h's, here in NumPy).
_SELECTION, _CROSSOVER, _MUTATION = 4, 5, 3


def stream(seed: int, purpose: int, round_: int) -> np.random.Generator:
    """The random stream of (seed, purpose, evolution round): the same draws whatever ran
    before, on any thread count."""
    return np.random.default_rng([seed, purpose, round_])


def linear_annealing(step: int, steps: int, fraction: float) -> float:
    """beta rising linearly from 0 to 1 over the first `fraction` of `steps`, then 1."""
    ramp = fraction * steps
    return 1.0 if ramp <= 0 else min(1.0, step / ramp)


def cyclical_annealing(step: int, steps: int, cycles: int, ratio: float) -> float:
    """Fu et al.'s schedule: `cycles` equal cycles; in each, 0 -> 1 linearly over the first
    `ratio` of it, then 1."""
    period = steps / cycles
    position = (step % period) / period if period > 0 else 1.0
    return 1.0 if ratio <= 0 else min(1.0, position / ratio)


@dataclass
class PiController:
    """ControlVAE's PI controller steering the KL to `target` (module text)."""

    target: float
    kp: float
    ki: float
    beta_min: float
    beta_max: float
    integral: float = 0.0
    beta: float = 0.0  # the last output; evae.py starts it at beta_min

    def update(self, kl: float) -> float:
        error = self.target - kl
        # exp of a large positive error underflows the P term to 0, never overflows.
        proportional = self.kp / (1.0 + math.exp(min(error, 700.0)))
        # anti-windup: the integral no further than the output's range can show
        low, high = -proportional, self.beta_max - self.beta_min - proportional
        self.integral = min(max(self.integral - self.ki * error, low), high)
        self.beta = min(max(proportional + self.integral + self.beta_min, self.beta_min),
                        self.beta_max)
        return self.beta


def sbx(x1: float, x2: float, eta: float, u: float) -> tuple:
    """Simulated binary crossover (Deb & Agrawal 1995) of two real genes with index eta and a
    uniform u in [0, 1): the children's spread factor b = (2u)^(1/(eta+1)) for u <= 1/2, else
    (1 / (2 (1 - u)))^(1/(eta+1)); children ((1+b) x1 + (1-b) x2)/2 and ((1-b) x1 + (1+b)
    x2)/2: their mean is the parents', a large eta keeps them near the parents."""
    if u <= 0.5:
        b = (2.0 * u) ** (1.0 / (eta + 1.0))
    else:
        b = (1.0 / (2.0 * (1.0 - u))) ** (1.0 / (eta + 1.0))
    return 0.5 * ((1 + b) * x1 + (1 - b) * x2), 0.5 * ((1 - b) * x1 + (1 + b) * x2)


def cauchy_step(scale: float, u: float) -> float:
    """A Cauchy(0, scale) value from a uniform u in (0, 1): the V-mutation's step."""
    return scale * math.tan(math.pi * (u - 0.5))


def evae_fitness(previous_loss: np.ndarray, loss: np.ndarray, kl: np.ndarray, target: float,
                 kl_weight: float) -> np.ndarray:
    """The relative improvement of the negative ELBO (beta = 1) from the previous window to
    this one, minus kl_weight x the KL's relative distance from the target. Higher is
    better; a NaN (a diverged member) ranks last."""
    improvement = (previous_loss - loss) / np.abs(previous_loss)
    fitness = improvement - kl_weight * np.abs(kl - target) / target
    return np.where(np.isfinite(fitness), fitness, -np.inf)


@dataclass(frozen=True)
class Evolved:
    """One evolutionary step's outcome: every member's new log10 beta and the member whose
    weights it continues from (itself for a survivor)."""

    log_betas: np.ndarray
    sources: np.ndarray


def evolve_betas(log_betas: Sequence[float], fitness: Sequence[float], *, seed: int,
                 round_: int, survival: float, eta: float, crossover_probability: float,
                 mutation_scale: float, low: float, high: float) -> Evolved:
    """The variational genetic algorithm's step on a population's log10 betas (module text).
    Ties in fitness rank the lower index first."""
    log_betas = np.asarray(log_betas, dtype=np.float64)
    fitness = np.asarray(fitness, dtype=np.float64)
    P = len(log_betas)
    order = sorted(range(P), key=lambda m: (-fitness[m], m))
    keep = max(1, min(P, round(survival * P)))
    survivors, replaced = order[:keep], sorted(order[keep:])
    select = stream(seed, _SELECTION, round_)
    cross = stream(seed, _CROSSOVER, round_)
    mutate = stream(seed, _MUTATION, round_)
    rank = {m: r for r, m in enumerate(order)}

    def tournament() -> int:  # the fitter (lower rank) of two survivors drawn with replacement
        a, b = (survivors[i] for i in select.integers(0, keep, size=2))
        return a if rank[a] <= rank[b] else b

    new, sources = log_betas.copy(), np.arange(P)
    for m in replaced:
        a, b = tournament(), tournament()
        gene = log_betas[a]
        u_cross, u_sbx = cross.random(2)
        if u_cross < crossover_probability:
            gene = sbx(log_betas[a], log_betas[b], eta, u_sbx)[0]
        u = mutate.random()
        gene += cauchy_step(mutation_scale, min(max(u, 1e-12), 1 - 1e-12))
        new[m] = min(max(gene, low), high)
        sources[m] = a if rank[a] <= rank[b] else b
    return Evolved(new, sources)
