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


def arrivals(sent: list, topology: str, count: int) -> list:
    """What each island takes from `sent` (every island's Emigrants, by island): the best
    `count` of its sources' agents, as Emigrants by island. One stable ranking of everything
    sent serves every island (a stable ranking of a part is the whole's ranking restricted
    to it) and only the chosen genomes are copied, so a migration of K islands costs
    O(K count log(K count)) in either topology, not K times the agents sent."""
    keys = ("genomes", "errors", "sigmas", "origins")
    pooled = {key: np.concatenate([getattr(e, key) for e in sent]) for key in keys}
    senders = np.concatenate([np.full(len(e.errors), i) for i, e in enumerate(sent)])
    starts = np.cumsum([0] + [len(e.errors) for e in sent])
    ranking = _ranking(pooled["errors"])
    taken = []
    for island in range(len(sent)):
        offered = sources(topology, len(sent), island)
        if len(offered) == 1:  # the ring: the one source's own ranking
            best = starts[offered[0]] + _ranking(sent[offered[0]].errors)[:count]
        else:  # everyone else's: the first of the whole ranking not sent by this island
            head = ranking[:count + len(sent[island].errors)]
            best = head[senders[head] != island][:count]
        taken.append(Emigrants(*(pooled[key][best] for key in keys)))
    return taken


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
