"""The eVAE system (evoae.systems.evae), its methods (evae_methods.py) and `evoae evae`: the
schedules, the controller and the genetic operators on hand-worked cases; the same seed giving
the same run at 1 and 2 threads; the CLI's files and report keys on tiny runs; bad input."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from evoae import data
from evoae.cli.main import main
from evoae.systems.evae import BASELINES, METHODS, EvaeRun, active_units, resolve_settings
from evoae.systems.evae_methods import (PiController, cauchy_step, cyclical_annealing,
                                        evae_fitness, evolve_betas, linear_annealing, sbx)

TINY = dict(steps=12, hidden=8, latent=2, population=3, evolve_every=4, batch=8)


@pytest.fixture(scope="module")
def digits():
    return data.ten_digits().astype(np.float32) / 255.0


def test_schedules_hand_worked():
    assert linear_annealing(0, 100, 0.5) == 0.0
    assert linear_annealing(25, 100, 0.5) == 0.5
    assert linear_annealing(80, 100, 0.5) == 1.0
    assert linear_annealing(3, 100, 0.0) == 1.0
    # 4 cycles of 25 steps, rising over the first 12.5 of each
    assert cyclical_annealing(0, 100, 4, 0.5) == 0.0
    assert cyclical_annealing(5, 100, 4, 0.5) == pytest.approx(0.4)
    assert cyclical_annealing(20, 100, 4, 0.5) == 1.0
    assert cyclical_annealing(30, 100, 4, 0.5) == pytest.approx(0.4)


def test_pi_controller_hand_worked():
    c = PiController(target=10.0, kp=0.01, ki=0.001, beta_min=0.0, beta_max=5.0)
    # KL 20 over the target: e = -10, P = 0.01 / (1 + e^-10), I = 0.01
    assert c.update(20.0) == pytest.approx(0.01 / (1 + math.exp(-10)) + 0.01)
    assert c.integral == pytest.approx(0.01)
    # below the target at the lower clamp: the integral winds no further than -P
    low = PiController(target=10.0, kp=0.01, ki=0.001, beta_min=0.0, beta_max=5.0)
    for _ in range(5):
        low.update(0.0)
    assert low.integral == pytest.approx(-0.01 / (1 + math.exp(10))) and low.beta == 0.0
    low.update(11.0)  # and leaves the clamp at the first error of the other sign
    assert low.beta > 0.0
    # at the upper clamp: beta_max - P at most, then back down at once
    high = PiController(target=10.0, kp=0.01, ki=1.0, beta_min=0.0, beta_max=5.0)
    high.update(20.0)
    assert high.beta == 5.0
    assert high.integral == pytest.approx(5.0 - 0.01 / (1 + math.exp(-10)))
    high.update(9.0)
    assert high.beta < 5.0


def test_sbx_and_cauchy():
    assert sbx(1.0, 3.0, 2.0, 0.5) == pytest.approx((1.0, 3.0))  # spread factor 1
    for u in (0.05, 0.3, 0.7, 0.95):
        a, b = sbx(1.0, 3.0, 2.0, u)
        assert (a + b) / 2 == pytest.approx(2.0)  # the parents' mean
    near = sbx(1.0, 3.0, 1000.0, 0.95)[0]
    far = sbx(1.0, 3.0, 0.5, 0.95)[0]
    assert abs(near - 1.0) < abs(far - 1.0)
    assert cauchy_step(0.1, 0.5) == 0.0
    assert cauchy_step(0.1, 0.75) == pytest.approx(0.1)  # tan(pi / 4)


def test_fitness_and_evolution():
    fitness = evae_fitness(np.array([100.0, 100.0, 100.0]), np.array([90.0, 99.0, 90.0]),
                           np.array([10.0, 10.0, 20.0]), 10.0, 1.0)
    assert fitness == pytest.approx([0.1, 0.01, -0.9])
    assert evae_fitness(np.array([1.0]), np.array([np.nan]), np.array([1.0]), 1.0,
                        1.0)[0] == -np.inf
    log_betas = np.array([0.0, 0.5, -0.5, 1.0])
    kwargs = dict(seed=3, round_=0, survival=0.5, eta=10.0, crossover_probability=0.9,
                  mutation_scale=0.05, low=-1.0, high=1.0)
    a = evolve_betas(log_betas, [4.0, 1.0, 3.0, 2.0], **kwargs)
    assert list(a.sources[[0, 2]]) == [0, 2]  # survivors: the best half keep their genes
    assert a.log_betas[0] == 0.0 and a.log_betas[2] == -0.5
    assert set(a.sources[[1, 3]]) <= {0, 2}  # children continue a survivor's weights
    assert np.all((-1.0 <= a.log_betas) & (a.log_betas <= 1.0))
    b = evolve_betas(log_betas, [4.0, 1.0, 3.0, 2.0], **kwargs)
    assert np.array_equal(a.log_betas, b.log_betas)  # keyed by (seed, round)
    c = evolve_betas(log_betas, [4.0, 1.0, 3.0, 2.0], **dict(kwargs, round_=1))
    assert not np.array_equal(a.log_betas, c.log_betas)


def test_active_units():
    means = np.zeros((50, 3))
    means[:, 1] = np.linspace(-1, 1, 50)
    means[:, 2] = np.linspace(-0.05, 0.05, 50)  # variance ~ 0.0009
    assert active_units(means) == 1


def test_same_seed_same_run_at_one_and_two_threads(digits):
    runs = []
    for threads in (1, 2):
        run = EvaeRun(digits, threads=threads, seed=5, **TINY)
        run.run(generations=TINY["steps"])
        run.finish()
        runs.append(run)
    one, two = runs
    assert one.rounds == 2  # steps 4 and 8, not at the last
    assert np.array_equal(one._pop.genomes(), two._pop.genomes())
    assert np.array_equal(one.log_betas, two.log_betas)
    assert one.results() == two.results()
    other = EvaeRun(digits, threads=2, seed=6, **TINY)
    other.run(generations=TINY["steps"])
    assert not np.array_equal(one._pop.genomes(), other._pop.genomes())


def test_results_and_methods(digits):
    run = EvaeRun(digits, seed=1, **TINY)
    run.run()
    run.finish()
    table = run.results()
    assert list(table) == list(METHODS)
    for method, entry in table.items():
        assert entry["elbo"] == pytest.approx(-(entry["reconstruction"] + entry["kl"]))
        assert entry["kl"] >= 0 and 0 <= entry["active_units"] <= TINY["latent"]
        assert ("kl_target" in entry) == (method in ("evae", "control"))
    betas = np.array(run.beta_history)
    assert np.all(betas[:, BASELINES.index("vae")] == 1.0)
    assert np.all(betas[:, BASELINES.index("beta-vae")] == 4.0)
    assert betas[0, BASELINES.index("annealing")] == 0.0
    assert len(run.leader_history) == TINY["steps"] == run.generation
    run.run(generations=5)  # past the setting `steps`: nothing more to do
    assert run.generation == TINY["steps"] and run.stop_reason == "generations"


def test_cli_writes_its_files(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["evae", "--out", str(out), "--quiet", "--seeds", "2"]
    for name, value in TINY.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    assert main(args) == 0
    for name in ("table.md", "report.json", "curves.png", "samples.png", "traversal.png"):
        assert (out / name).stat().st_size > 0, name
    report = json.loads((out / "report.json").read_text())
    for method in METHODS:
        for key in ("elbo", "reconstruction", "kl", "active_units"):
            assert len(report[method]["per_seed"][key]) == 2
            assert report[method][key] == pytest.approx(np.mean(report[method]["per_seed"][key]))
        assert ("kl_target" in report[method]) == (method in ("evae", "control"))
    assert report["seeds"] == [0, 1] and report["images"]["holdout"] == 2
    table = (out / "table.md").read_text()
    assert all(f"| {method} |" in table for method in METHODS)
    assert "done: 2 seed(s)" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--data", "/nonexistent/images.gz"], "nonexistent"),
    (["--beta-min", "10", "--beta-max", "1"], "beta_min"),
    (["--batch", "9"], "batch 9"),
    (["--holdout", "0.01"], "holdout"),
    (["--initial-beta-low", "1000"], "initial_beta_low"),
])
def test_cli_bad_input(tmp_path, capsys, args, message):
    assert main(["evae", "--out", str(tmp_path / "o"), "--steps", "2", *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # refused before any work


def test_cli_refuses_options_out_of_range(capsys):
    with pytest.raises(SystemExit) as e:
        main(["evae", "--population", "1"])
    assert e.value.code == 2 and "--population" in capsys.readouterr().err


def test_bad_settings_and_images(digits):
    with pytest.raises(ValueError, match="unknown setting"):
        resolve_settings({"populations": 3})
    with pytest.raises(ValueError, match="kl_target"):
        resolve_settings({"kl_target": -1.0})
    with pytest.raises(ValueError, match="steps must be an integer"):
        resolve_settings({"steps": 2.5})
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        EvaeRun(digits * 255, **TINY)
    with pytest.raises(ValueError, match="float intensities"):
        EvaeRun(data.ten_digits(), **TINY)
    run = EvaeRun(digits, **TINY)
    with pytest.raises(ValueError, match="784 pixels"):
        run._pop.evaluate(np.zeros((2, 5, 5), np.float32), 0)
    with pytest.raises(ValueError, match="betas must have shape"):
        run._pop.step(np.ones(3))
