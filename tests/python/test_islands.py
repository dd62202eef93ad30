"""The island model in this process: an island is the engine's Evolution with its own seed,
migrations change the islands at the generations they name, and a run's result does not
depend on the workers, their threads or a driver that was lost and resumed."""
import numpy as np
import pytest

import evoae
from evoae import _core
from evoae.islands import Islands
from evoae.islands.group import saved_generations

SMALL = dict(islands=3, migration_interval=10, population=8, mutations=20)


def run_islands(net, images, generations=30, **options):
    options = {**SMALL, **options}
    if options.get("strategy", "ga") != "ga":
        del options["mutations"]  # the GA's
    with Islands(net, images, **options) as run:
        run.run(generations=generations)
        return run.island_histories(), run.best_genome, run.migrations


def test_one_island_is_an_evolution_with_the_island_seed(net, images):
    with Islands(net, images, islands=1, population=8, seed=3) as run:
        run.run(generations=25)
        histories, best = run.island_histories(), run.best_genome
    alone = evoae.Evolution(net, images, population=8, seed=_core.island_seed(3, 0))
    alone.run(generations=25)
    assert np.array_equal(histories[0], alone.history)
    assert np.array_equal(best, alone.best_genome)


def test_islands_apart_are_evolutions_migration_changes_them(net, images):
    apart, _, log = run_islands(net, images, migrants=0)
    for i in range(3):
        alone = evoae.Evolution(net, images, population=8, mutations=20,
                                seed=_core.island_seed(0, i))
        alone.run(generations=30)
        assert np.array_equal(apart[i], alone.history)
    assert all(m["arrivals"] == [] for m in log)
    migrating, _, log = run_islands(net, images, migrants=2)
    assert [m["generation"] for m in log] == [10, 20, 30]
    assert np.array_equal(migrating[:, :11], apart[:, :11])  # the same up to the first
    assert not np.array_equal(migrating[:, 11:], apart[:, 11:])
    for m in log:  # ring: island i takes island i - 1's best 2, and keeps its best
        for arrival in m["arrivals"]:
            assert arrival["from"] == [(arrival["island"] - 1) % 3] * 2
            assert arrival["errors"] == sorted(arrival["errors"])


def test_migration_brings_the_neighbours_best(net, images):
    with Islands(net, images, **SMALL, migrants=1) as run:
        run.run(generations=9)
        before = [r["best_error"] for r in run.reports]
        run.run(generations=1)  # generation 10: a migration
        for i, r in enumerate(run.reports):
            neighbour = run.migrations[0]["arrivals"][i]["errors"][0]
            assert r["best_error"] <= neighbour  # the arrival is in island i now
            assert r["best_error"] == min(run.island_histories()[i][10], neighbour)
        assert before != [r["best_error"] for r in run.reports]


@pytest.mark.parametrize("options", [dict(workers=2, threads=1), dict(workers=3, threads=2),
                                     dict(workers=1, threads=1, topology="full")])
def test_same_result_for_any_workers_and_threads(net, images, options):
    base, best, log = run_islands(net, images, workers=1, threads=2,
                                  topology=options.get("topology", "ring"))
    other, other_best, other_log = run_islands(net, images, **options)
    assert np.array_equal(base, other) and np.array_equal(best, other_best)
    assert log == other_log


def test_an_evolution_strategy_on_islands(net, images):
    one = run_islands(net, images, strategy="snes", workers=1, threads=1, migrants=1)
    two = run_islands(net, images, strategy="snes", workers=3, threads=1, migrants=1)
    assert np.array_equal(one[0], two[0])
    assert any(a["took_lead"] for m in one[2] for a in m["arrivals"])  # the mean moved


def test_a_lost_driver_resumes_from_the_checkpoints(net, images, tmp_path):
    whole, best, log = run_islands(net, images, generations=50)
    with Islands(net, images, **SMALL, checkpoints=tmp_path, workers=2, threads=1) as run:
        run.run(generations=27)  # the driver is lost at 27: the islands were saved at 20
    assert [saved_generations(tmp_path, i) for i in range(3)] == [[10, 20]] * 3
    with Islands.resume(tmp_path, workers=3, threads=1) as run:
        assert run.generation == 20
        run.run(generations=30)
        assert np.array_equal(run.island_histories(), whole)
        assert np.array_equal(run.best_genome, best) and run.migrations == log
        run.save()  # where a later resume starts
    assert [saved_generations(tmp_path, i) for i in range(3)] == [[40, 50]] * 3


def test_bad_input(net, images, tmp_path):
    cases = [
        (dict(islands=0), "islands must be an integer >= 1, got 0"),
        (dict(migration_interval=0), "migration_interval must be an integer >= 1"),
        (dict(migrants=-1), "migrants must be an integer >= 0"),
        (dict(migrants=8), r"migrants must be < the population \(8\), got 8"),
        (dict(topology="star"), "unknown topology 'star': choose ring, full"),
        (dict(backend="mpi"), "unknown backend 'mpi': choose in-process, ray"),
        (dict(workers=0), "workers must be an integer >= 1"),
        (dict(threads=True), "threads must be an integer >= 1"),
        (dict(population=0), "population"),
    ]
    for options, message in cases:
        with pytest.raises(ValueError, match=message):
            Islands(net, images, **{**SMALL, **options})
    (tmp_path / "islands.json").write_text("{}")
    with pytest.raises(ValueError, match="holds a run already"):
        Islands(net, images, **SMALL, checkpoints=tmp_path)
    with pytest.raises(ValueError, match="not an island run's manifest"):
        Islands.resume(tmp_path)
    with pytest.raises(ValueError, match="no islands.json"):
        Islands.resume(tmp_path / "missing")


def test_ray_missing_says_how_to_install(net, images, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails
    with pytest.raises(ImportError, match=r'pip install "evoae\[ray\]"'):
        Islands(net, images, **SMALL, backend="ray")


def test_an_island_never_runs_past_a_migration_it_missed(net, images):
    """A restarted worker that found no checkpoint (a folder the nodes do not share) would
    start afresh: it may catch up to the next migration, never past one."""
    from evoae.islands.group import IslandGroup
    from evoae.nn.network import network_spec

    spec = dict(network=network_spec(net), settings=dict(population=8), seed=0,
                distribution=False, migration_interval=10)
    group = IslandGroup(spec, images, None, None, [0, 1], None, 1)
    group.advance(10)  # up to the migration: allowed
    with pytest.raises(ValueError, match="island 0 would run from generation 10 to 15 past "
                                         "the migration at 10 it has not taken"):
        group.advance(15)
    group.immigrate(10, {0: None, 1: None})
    assert [r["generation"] for r in group.advance(15)[0]] == [15, 15]
