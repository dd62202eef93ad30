"""Migration between islands: who sends to whom (the topology), and what arrives, as a pure
function of the islands' states, so that it is the same whichever worker holds an island.

At a migration every island sends copies of its best `migrants` agents (fitness ranked, ties
to the lowest index), all taken before any island changes. Island j takes, among what its
sources sent (in the order of the sources, each sender's best first), the best `migrants`
(a stable ranking again), and they replace its worst agents, the best arrival the worst
agent. An arrival keeps its genome, its fitness and its step size. For an evolution strategy,
whose next generation is sampled anew around its mean, the replaced samples alone would change
nothing: when the island's best agent after the replacement is an arrival, the distribution's
mean (the first num_params values of its state) moves to it.

Under mini-batch fitness an arrival's fitness was measured on its home island's samples;
every agent is measured again on the next generation's own samples.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TOPOLOGIES", "sources", "Emigrants", "emigrants", "arrivals", "immigrate"]

#: ring: island j takes from island j - 1 (island 0 from island K - 1); full: from every
#: other island.
TOPOLOGIES = ("ring", "full")


def sources(topology: str, islands: int, island: int) -> list:
    """The islands that send to `island`, in the order their agents are ranked when tied."""
    if topology == "ring":
        return [] if islands == 1 else [(island - 1) % islands]
    if topology == "full":
        return [i for i in range(islands) if i != island]
    raise ValueError(f"unknown topology {topology!r}: choose {', '.join(TOPOLOGIES)}")


@dataclass
class Emigrants:
    """Copies of an island's best agents, best first."""

    genomes: np.ndarray  # float32 (n, num_params)
    errors: np.ndarray  # float64 (n,): their fitness on the home island
    sigmas: np.ndarray  # float64 (n,): the step size each was made with
    origins: np.ndarray  # int (n,): the island each comes from


def _ranking(errors: np.ndarray) -> np.ndarray:
    return np.argsort(errors, kind="stable")  # ties to the lowest index


def emigrants(state: dict, count: int, island: int) -> Emigrants:
    """The best `count` agents of an island's state (Evolution.state())."""
    best = _ranking(np.asarray(state["errors"]))[:count]
    return Emigrants(np.array(state["genomes"][best], np.float32),
                     np.array(state["errors"][best], np.float64),
                     np.array(state["sigmas"][best], np.float64), np.full(len(best), island))


def arrivals(sent: list, topology: str, island: int, count: int) -> Emigrants:
    """What island `island` takes from `sent` (every island's Emigrants, by island): the best
    `count` of its sources' agents. Only the chosen genomes are copied: with a full topology
    of K islands the ranking is over (K - 1) x count numbers, not genomes."""
    offered = sources(topology, len(sent), island)
    if not offered:
        nothing = sent[island]
        return Emigrants(nothing.genomes[:0], nothing.errors[:0], nothing.sigmas[:0],
                         nothing.origins[:0])
    errors = np.concatenate([sent[i].errors for i in offered])
    rows = np.concatenate([np.arange(len(sent[i].errors)) for i in offered])
    senders = np.concatenate([np.full(len(sent[i].errors), i) for i in offered])
    best = _ranking(errors)[:count]
    picked = [(sent[senders[b]], rows[b]) for b in best]
    genomes = np.array([e.genomes[r] for e, r in picked], np.float32)
    return Emigrants(genomes.reshape(len(best), sent[island].genomes.shape[1]), errors[best],
                     np.array([e.sigmas[r] for e, r in picked], np.float64),
                     np.array([e.origins[r] for e, r in picked], int))


def immigrate(state: dict, arrived: Emigrants, distribution: bool) -> tuple:
    """The state after `arrived` replaced the island's worst agents (see the module's text),
    and whether an arrival became the island's best. `distribution`: the island runs an
    evolution strategy (the mean moves), not the genetic algorithm."""
    state = {key: np.array(value) if isinstance(value, np.ndarray) else value
             for key, value in state.items()}
    n = len(arrived.errors)
    if n == 0:
        return state, False
    worst = _ranking(state["errors"])[::-1][:n]  # the worst first: the best arrival takes it
    state["genomes"][worst] = arrived.genomes
    state["errors"][worst] = arrived.errors
    state["sigmas"][worst] = arrived.sigmas
    best = int(_ranking(state["errors"])[0])
    took_lead = best in set(worst.tolist())
    if distribution and took_lead:
        num_params = state["genomes"].shape[1]
        state["strategy"][:num_params] = state["genomes"][best]
    return state, took_lead
