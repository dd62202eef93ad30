"""Migration on hand-made populations: who sends to whom, which agents leave, which arrive and
whom they replace, and the mean of an evolution strategy that follows a better arrival."""
import numpy as np
import pytest

from evoae import _core
from evoae.islands.migration import arrivals, emigrants, immigrate, sources


def state(errors, island, params=3, mean=None):
    """A population whose agent a has genome [island, a, a] and the given errors."""
    errors = np.array(errors, np.float64)
    genomes = np.array([[island, a, a] for a in range(len(errors))], np.float32)[:, :params]
    return {"generation": 5, "genomes": genomes, "errors": errors,
            "sigmas": np.arange(len(errors)) + 10.0 * island, "sigma": 1.0,
            "history": np.zeros(6), "evaluations": 0,
            "strategy": np.zeros(0) if mean is None else np.array(mean, np.float64)}


def test_sources_of_ring_and_full():
    assert [sources("ring", 4, j) for j in range(4)] == [[3], [0], [1], [2]]
    assert sources("ring", 1, 0) == []
    assert sources("full", 4, 2) == [0, 1, 3]
    with pytest.raises(ValueError, match="unknown topology 'star': choose ring, full"):
        sources("star", 4, 0)


def test_emigrants_are_the_best_ties_to_the_lowest_index():
    sent = emigrants(state([5.0, 1.0, 3.0, 1.0], island=2), 3, island=2)
    assert sent.errors.tolist() == [1.0, 1.0, 3.0]
    assert sent.genomes[:, 1].tolist() == [1, 3, 2]  # agents 1 and 3 tie: 1 first
    assert sent.sigmas.tolist() == [21.0, 23.0, 22.0]
    assert sent.origins.tolist() == [2, 2, 2]


def test_full_topology_takes_the_best_of_all_sources():
    states = [state([4.0, 9.0], 0), state([2.0, 8.0], 1), state([3.0, 7.0], 2)]
    sent = [emigrants(s, 2, i) for i, s in enumerate(states)]
    taken = arrivals(sent, "full", 2)[0]  # from islands 1 and 2: 2, 8, 3, 7
    assert taken.errors.tolist() == [2.0, 3.0]
    assert taken.origins.tolist() == [1, 2]
    ring = arrivals(sent, "ring", 2)[0]  # from island 2 only
    assert ring.errors.tolist() == [3.0, 7.0] and ring.origins.tolist() == [2, 2]


@pytest.mark.parametrize("topology", ["ring", "full"])
def test_arrivals_of_all_islands_at_once_are_each_islands_own_ranking(topology):
    """The one shared ranking against ranking each island's offer by itself (ties many)."""
    rng = np.random.default_rng(1)
    sent = [emigrants(state(rng.integers(0, 4, 6).astype(float), i), 3, i) for i in range(7)]
    for island, taken in enumerate(arrivals(sent, topology, 4)):
        offered = [sent[i] for i in sources(topology, 7, island)]
        errors = np.concatenate([e.errors for e in offered])
        best = np.argsort(errors, kind="stable")[:4]
        for key in ("genomes", "errors", "sigmas", "origins"):
            expected = np.concatenate([getattr(e, key) for e in offered])[best]
            assert np.array_equal(getattr(taken, key), expected), (island, key)


def test_arrivals_replace_the_worst_best_arrival_the_worst_agent():
    home = state([1.0, 9.0, 5.0, 8.0], 0)
    sent = [emigrants(home, 2, 0), emigrants(state([0.5, 6.0, 7.0, 7.0], 1), 2, 1)]
    after, took_lead = immigrate(home, arrivals(sent, "ring", 2)[0], distribution=False)
    # The worst are agent 1 (9) then agent 3 (8): they get 0.5 and 6.0 from island 1.
    assert after["errors"].tolist() == [1.0, 0.5, 5.0, 6.0]
    assert after["genomes"][1].tolist() == [1, 0, 0] and after["genomes"][3].tolist() == [1, 1, 1]
    assert after["sigmas"].tolist() == [0.0, 10.0, 2.0, 11.0]
    assert took_lead
    assert home["errors"].tolist() == [1.0, 9.0, 5.0, 8.0]  # the given state is not changed


def test_an_arrival_that_is_not_better_leaves_the_mean():
    home = state([1.0, 2.0, 3.0], 0, mean=[7.0, 7.0, 7.0, 0.5, 0.5])
    sent = [home, state([4.0, 5.0, 6.0], 1)]
    taken = arrivals([emigrants(s, 1, i) for i, s in enumerate(sent)], "ring", 1)[0]
    after, took_lead = immigrate(home, taken, distribution=True)
    assert not took_lead and after["strategy"].tolist() == [7.0, 7.0, 7.0, 0.5, 0.5]
    assert after["errors"].tolist() == [1.0, 2.0, 4.0]


def test_a_better_arrival_becomes_an_evolution_strategys_mean():
    home = state([1.0, 2.0, 3.0], 0, mean=[7.0, 7.0, 7.0, 0.5, 0.5])
    sent = [emigrants(home, 1, 0), emigrants(state([0.25, 5.0, 6.0], 1), 1, 1)]
    after, took_lead = immigrate(home, arrivals(sent, "ring", 1)[0], distribution=True)
    assert took_lead
    # The genome of island 1's agent 0 replaced the mean; the rest of the state stays.
    assert after["strategy"].tolist() == [1.0, 0.0, 0.0, 0.5, 0.5]


def test_no_sources_nothing_arrives():
    home = state([1.0, 2.0], 0)
    taken = arrivals([emigrants(home, 1, 0)], "ring", 1)[0]
    after, took_lead = immigrate(home, taken, distribution=False)
    assert len(taken.errors) == 0 and not took_lead
    assert np.array_equal(after["genomes"], home["genomes"])


def test_island_seeds_differ_and_follow_the_run_seed():
    seeds = [_core.island_seed(7, i) for i in range(100)]
    assert len(set(seeds)) == 100 and all(0 <= s < 2**63 for s in seeds)
    assert seeds == [_core.island_seed(7, i) for i in range(100)]
    assert _core.island_seed(8, 0) != seeds[0]
