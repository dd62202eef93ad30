"""The evolution strategies from Python: CMA-ES and sep-CMA-ES against pycma on the 10-D
sphere and ellipsoid (evaluations to 1e-8 within a factor of 2 of pycma's; skipped only where
pycma is not installed), every strategy on the network through Evolution, checkpoints that
resume bit for bit (across an IPOP restart too), each strategy's default population, the
CLI's --strategy and the compare presets."""
import json
import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import evoae
from evoae import _core
from evoae.cli.compare import PRESETS
from evoae.evo.settings import SETTINGS

STRATEGIES = ["cma-es", "sep-cma-es", "snes", "openai-es", "lm-ma-es", "xnes", "pgpe"]
SEEDS = (1, 2, 3)


def sphere(x):
    return float(np.sum(np.square(x)))


def ellipsoid(x):
    n = len(x)
    return float(np.sum(1e6 ** (np.arange(n) / (n - 1)) * np.square(x)))


def evoae_evaluations(function, strategy, seed, target=1e-8, limit=50_000):
    """Evaluations until a generation's best has f <= target (10-D, sigma 1, population 10)."""
    evo = _core.Evolution(function, 10, {"strategy": strategy, "population": 10, "sigma": 1.0,
                                         "seed": seed, "threads": 1})
    evo.advance(limit // 10, float("inf"), target)
    assert evo.best_error <= target
    return evo.evaluations


def pycma_evaluations(cma, function, diagonal, seed, target=1e-8):
    f = {"sphere": sphere, "ellipsoid": ellipsoid}[function]
    x0 = np.random.default_rng(seed).uniform(-1, 1, 10)
    options = dict(popsize=10, ftarget=target, seed=seed, verbose=-9, maxfevals=50_000)
    if diagonal:
        options["CMA_diagonal"] = True
    with warnings.catch_warnings():  # pycma's own notes are not evoae's concern
        warnings.simplefilter("ignore")
        es = cma.CMAEvolutionStrategy(x0, 1.0, options)
        es.optimize(f)
    assert es.result.fbest <= target
    return es.result.evaluations


@pytest.mark.parametrize("function", ["sphere", "ellipsoid"])
@pytest.mark.parametrize("strategy", ["cma-es", "sep-cma-es"])
def test_evaluations_to_1e8_within_a_factor_2_of_pycma(strategy, function):
    cma = pytest.importorskip("cma")
    ours = np.median([evoae_evaluations(function, strategy, s) for s in SEEDS])
    theirs = np.median([pycma_evaluations(cma, function, strategy == "sep-cma-es", s)
                        for s in SEEDS])
    print(f"{strategy} {function} 10-D to 1e-8: evoae {ours:.0f}, pycma {theirs:.0f}")
    assert theirs / 2 <= ours <= 2 * theirs


def test_test_functions_from_python():
    evo = _core.Evolution("rosenbrock", 4, {"strategy": "cma-es", "population": 8,
                                            "sigma": 0.5, "threads": 1})
    assert evo.metric_name == "f" and evo.population.shape == (8, 4)
    with pytest.raises(ValueError, match="unknown test function 'ackley'"):
        _core.Evolution("ackley", 4, {})
    with pytest.raises(ValueError, match="at least 2 parameters"):
        _core.Evolution("sphere", 1, {})


@pytest.fixture(scope="module")
def net():
    return evoae.Network(7, 7).dense(3).dense(49).reshape(7, 7, 1)


@pytest.fixture(scope="module")
def images():
    digits = evoae.data.scale(evoae.data.ten_digits()[:4])
    return np.ascontiguousarray(digits[:, ::4, ::4])  # 7x7


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_each_strategy_improves_the_network_and_resumes_bit_for_bit(net, images, tmp_path,
                                                                    strategy):
    straight = evoae.Evolution(net, images, population=10, seed=3, strategy=strategy)
    assert straight.settings["strategy"] == strategy
    assert straight.settings["sigma"] == (0.02 if strategy == "openai-es" else 0.1)
    straight.run(generations=60)
    assert straight.history.min() < straight.history[0]
    assert straight.state()["strategy"].size > 0
    first = evoae.Evolution(net, images, population=10, seed=3, strategy=strategy)
    first.run(generations=25)
    first.save(tmp_path / "run.npz")
    resumed = evoae.Evolution.load(tmp_path / "run.npz", threads=2)
    resumed.run(generations=35)
    assert resumed.generation == 60
    np.testing.assert_array_equal(resumed.history, straight.history)
    np.testing.assert_array_equal(resumed.population, straight.population)
    np.testing.assert_array_equal(resumed.state()["strategy"], straight.state()["strategy"])
    assert resumed.sigma == straight.sigma
    np.testing.assert_array_equal(resumed.best_genome, straight.best_genome)


def test_the_ga_keeps_no_strategy_state(net, images):
    evo = evoae.Evolution(net, images, population=6)
    assert evo.settings["strategy"] == "ga"
    assert evo.state()["strategy"].size == 0


def test_strategy_settings_are_checked(net, images):
    assert SETTINGS["strategy"].choices == ("ga", *STRATEGIES)
    with pytest.raises(ValueError, match="mutation is an operator of strategy 'ga'"):
        evoae.Evolution(net, images, strategy="snes", mutation="gaussian")
    with pytest.raises(ValueError, match="population must be even"):
        evoae.Evolution(net, images, strategy="openai-es", population=7)
    with pytest.raises(ValueError, match="learning_rate needs strategy 'openai-es' or 'pgpe'"):
        evoae.Evolution(net, images, learning_rate=0.1)
    with pytest.raises(ValueError, match="weight_decay needs strategy 'openai-es', not 'pgpe'"):
        evoae.Evolution(net, images, strategy="pgpe", weight_decay=0.1)
    assert evoae.Evolution(net, images, strategy="pgpe").settings["learning_rate"] == 0.15
    evo = evoae.Evolution(net, images, strategy="openai-es", population=4, learning_rate=0.05,
                          weight_decay=0)
    assert evo.settings["learning_rate"] == 0.05 and evo.settings["weight_decay"] == 0


def test_cli_runs_a_strategy(tmp_path):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    done = subprocess.run([sys.executable, "-m", "evoae.cli", "run", "--strategy", "sep-cma-es",
                           "--generations", "20", "--quiet", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    settings = json.loads((tmp_path / "settings.json").read_text())
    assert "sep-cma-es" in json.dumps(settings)


def test_compare_has_a_preset_for_every_strategy():
    for strategy in STRATEGIES:
        assert PRESETS[strategy]["strategy"] == strategy


def test_the_mean_and_the_viewer_with_a_strategy(tmp_path):
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # as test_viewer.py: no display needed
    os.environ.setdefault("SDL_RENDER_DRIVER", "software")
    from evoae import viewer

    images = evoae.data.scale(evoae.data.ten_digits())
    evo = evoae.Evolution(evoae.varadi_network(), images, population=6, seed=2,
                          strategy="sep-cma-es")
    assert evo.mean.shape == (evo.network.num_params,) and evo.mean.dtype == np.float32
    progress = viewer.watch(evo, generations=20, window=False, record=tmp_path,
                            record_every=10)
    assert progress.generation == 20
    assert len(viewer.frame_files(tmp_path)) == 3
    assert evoae.Evolution(evoae.varadi_network(), images, population=4).mean is None


def test_each_strategy_s_default_population(net, images):
    assert SETTINGS["population"].default is None  # resolved per strategy, as the help says
    assert "4+floor(3 ln n)" in SETTINGS["population"].help
    n = net.num_params
    published = {"ga": 20, "openai-es": 10_000, "pgpe": 200}
    for strategy in ["ga", *STRATEGIES]:
        evo = evoae.Evolution(net, images, strategy=strategy)
        expected = published.get(strategy, 4 + math.floor(3 * math.log(n)))  # 21 here
        assert evo.settings["population"] == expected, strategy
        assert evo.population.shape == (expected, n) and evo.errors.shape == (expected,)
    assert evoae.Evolution(net, images, strategy="snes", population=8).population.shape[0] == 8


@pytest.fixture(scope="module")
def tiny():
    """A 2x2 autoencoder of 13 weights on 3 images: its runs stall within 1,000 generations."""
    digits = evoae.data.scale(evoae.data.ten_digits()[:3])
    return evoae.Network(2, 2).dense(1).dense(4).reshape(2, 2, 1), digits[:, ::14, ::14]


@pytest.mark.parametrize("strategy", ["cma-es", "sep-cma-es"])
def test_ipop_restarts_grow_the_population_and_resume_across_one(tiny, tmp_path, strategy):
    net, images = tiny
    settings = dict(seed=1, strategy=strategy, restarts=2, sigma=1.0)
    straight = evoae.Evolution(net, images, threads=1, **settings)
    assert straight.settings["restart_growth"] == 2.0
    sizes = [straight.population.shape[0]]
    for _ in range(1300):
        straight.step()
        sizes.append(straight.population.shape[0])
    runs = sorted(set(sizes))
    assert runs == [11, 22, 44] and sizes == sorted(sizes)  # 4 + floor(3 ln 13), doubled
    assert straight.evaluations == sum(sizes) * len(images)
    restart = sizes.index(22) - 1  # its tell ended the first run; the arrays are still its
    first = evoae.Evolution(net, images, threads=1, **settings)
    first.run(generations=restart)
    assert first.population.shape[0] == 11
    first.save(tmp_path / "run.npz")
    resumed = evoae.Evolution.load(tmp_path / "run.npz", threads=2)
    resumed.run(generations=1300 - restart)
    np.testing.assert_array_equal(resumed.history, straight.history)
    np.testing.assert_array_equal(resumed.population, straight.population)
    np.testing.assert_array_equal(resumed.state()["strategy"], straight.state()["strategy"])
    assert resumed.sigma == straight.sigma
    with pytest.raises(ValueError, match="restarts needs strategy 'cma-es' or 'sep-cma-es'"):
        evoae.Evolution(net, images, strategy="snes", restarts=1)
    with pytest.raises(ValueError, match="restart_growth needs restarts >= 1"):
        evoae.Evolution(net, images, strategy=strategy, restart_growth=3)
