"""The operators from Python and the CLI: every name runs and is deterministic, the defaults
are the original loop, fitness functions against NumPy, mini-batches, larger data, the errors
for impossible settings, the help text, and `evoae compare`."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import evoae
from evoae.cli.compare import PRESETS, parse_setting
from evoae.evo.evolution import DEFAULT_SIGMA, OPERATORS
from evoae.io.checkpoint import STORE_IMAGES_MAX_BYTES
from idx_files import mnist_like, write_idx

PIXELS = 28 * 28


@pytest.fixture(scope="module")
def net():
    return evoae.varadi_network()


@pytest.fixture(scope="module")
def images():
    return evoae.data.scale(evoae.data.ten_digits()[:4])


def cli(*args, timeout=120):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "evoae.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)


EVERY_OPERATOR = [
    dict(),
    dict(mutation="per-agent"),
    dict(mutation="gaussian", sigma=0.2),
    dict(mutation="gaussian-all", sigma=0.01),
    dict(mutation="reset"),
    dict(mutation="zero", mutations=2),
    dict(mutation="gaussian", step_control="self-adaptive"),
    dict(mutation="gaussian", step_control="one-fifth"),
    dict(step_control="schedule", sigma_end=0.1, mutations_end=2, schedule_generations=10),
    dict(selection="truncation", truncation=3, mutation="gaussian"),
    dict(selection="tournament", tournament_size=2, crossover="uniform"),
    dict(selection="truncation", crossover="layer", elites=2),
    dict(elites=0, selection="tournament"),
    dict(fitness="mse"),
    dict(fitness="rmse", batch=2),
]


def test_operator_names():
    assert OPERATORS["mutation"] == ["original", "per-agent", "gaussian", "gaussian-all",
                                     "reset", "zero"]
    assert OPERATORS["step_control"] == ["fixed", "schedule", "one-fifth", "self-adaptive"]
    assert OPERATORS["crossover"] == ["none", "uniform", "layer"]
    assert OPERATORS["selection"] == ["copy-best", "truncation", "tournament"]
    assert OPERATORS["fitness"] == ["sae", "mse", "rmse", "cross-entropy"]
    assert set(DEFAULT_SIGMA) == set(OPERATORS["mutation"])


@pytest.mark.parametrize("kwargs", EVERY_OPERATOR, ids=lambda k: ",".join(
    f"{a}={b}" for a, b in k.items()) or "original")
def test_every_operator_runs_and_is_deterministic(net, images, kwargs):
    a = evoae.Evolution(net, images, population=7, seed=3, threads=1, **kwargs)
    b = evoae.Evolution(net, images, population=7, seed=3, threads=2, **kwargs)
    a.run(generations=15)
    for _ in range(15):
        b.step()
    np.testing.assert_array_equal(a.history, b.history)
    np.testing.assert_array_equal(a.population, b.population)
    np.testing.assert_array_equal(a.sigmas, b.sigmas)
    assert a.generation == 15 and len(a.history) == 16
    assert np.all(np.isfinite(a.errors))
    if kwargs.get("elites", 1) >= 1 and not kwargs.get("batch"):
        assert np.all(np.diff(a.history) <= 0)  # an elite keeps the best
    # the errors are the fitness of the genomes on this generation's images
    settings = a.settings
    used = images if not settings["batch"] else images[a.batch]
    out = net.forward_population(a.population, used).astype(np.float64)
    d = out - used
    fitness = {"sae": np.abs(d).sum(axis=(1, 2, 3)),
               "mse": (d ** 2).mean(axis=(1, 2, 3)),
               "rmse": np.sqrt((d ** 2).mean(axis=(1, 2, 3)))}[settings["fitness"]]
    np.testing.assert_allclose(a.errors, fitness, rtol=1e-5)
    best = int(np.argmin(a.errors))
    assert a.best_mae == pytest.approx(np.abs(d[best]).mean(), rel=2e-6)


def test_defaults_given_by_name_are_the_original_loop(net, images):
    plain = evoae.Evolution(net, images, population=6, mutations=10, seed=7)
    named = evoae.Evolution(net, images, population=6, mutations=10, seed=7,
                            mutation="original", sigma=1.0, step_control="fixed",
                            crossover="none", selection="copy-best", elites=1, fitness="sae")
    plain.run(generations=30)
    named.run(generations=30)
    np.testing.assert_array_equal(plain.history, named.history)
    np.testing.assert_array_equal(plain.population, named.population)
    assert plain.settings == named.settings
    assert plain.settings["mutation"] == "original" and plain.settings["sigma"] == 1.0


def test_settings_resolve_defaults(net, images):
    evo = evoae.Evolution(net, images, population=23, mutation="gaussian",
                          step_control="self-adaptive", selection="truncation")
    s = evo.settings
    assert s["sigma"] == DEFAULT_SIGMA["gaussian"]
    assert s["truncation"] == 4  # max(2, 23 // 5)
    assert s["tau"] == pytest.approx(1 / np.sqrt(2 * 1397))  # 1 / sqrt(2 n), n parameters
    assert s["tournament_size"] is None and s["batch"] is None  # none: they do not act
    assert list(evo.sigmas) == [DEFAULT_SIGMA["gaussian"]] * 23
    t = evoae.Evolution(net, images, population=5, selection="tournament").settings
    assert t["tournament_size"] == 3


def test_mutation_kinds_change_what_they_should(net, images):
    # gaussian-all: every weight of every child moves
    evo = evoae.Evolution(net, images, population=4, mutation="gaussian-all", sigma=0.01,
                          seed=1)
    best = evo.best_genome.copy()
    evo.step()
    pop = evo.population
    np.testing.assert_array_equal(pop[0], best)
    assert np.mean(pop[1:] != best) > 0.999  # (a step below float32 resolution may vanish)
    assert (pop[1:].astype(np.float64) - best).std() == pytest.approx(0.01, rel=0.05)
    # zero: children differ from the best only where they hold 0
    evo = evoae.Evolution(net, images, population=5, mutation="zero", mutations=5, seed=2)
    best = evo.best_genome.copy()
    evo.step()
    for child in evo.population[1:]:
        changed = child != best
        assert 1 <= changed.sum() <= 5
        assert np.all(child[changed] == 0)
    # per-agent: each child its own positions
    evo = evoae.Evolution(net, images, population=5, mutation="per-agent", mutations=3, seed=2)
    best = evo.best_genome.copy()
    evo.step()
    positions = [tuple(np.flatnonzero(c != best)) for c in evo.population[1:]]
    assert len(set(positions)) > 1


def test_mini_batch_and_full_evaluation(net):
    images = evoae.data.scale(evoae.data.ten_digits())
    evo = evoae.Evolution(net, images, population=6, batch=3, seed=4, mutations=5)
    assert evo.images_per_generation == 3
    seen = set()
    for _ in range(8):
        evo.step()
        batch = evo.batch
        assert len(batch) == 3 and list(batch) == sorted(set(batch))
        seen.add(tuple(batch))
    assert len(seen) > 3
    assert evo.evaluations == 6 * 3 * 9  # everyone, elite included, on every new batch
    full = evo.evaluate_best_on_all_images()
    out = net.forward(evo.best_genome, images).astype(np.float64)
    assert full.mae == pytest.approx(np.abs(out - images).mean(), rel=1e-6)
    assert full.error == pytest.approx(np.abs(out - images).sum(), rel=1e-6)
    batch_out = out[evo.batch]
    assert evo.best_mae == pytest.approx(np.abs(batch_out - images[evo.batch]).mean(), rel=1e-6)
    # without batches the full evaluation is the best's own error
    plain = evoae.Evolution(net, images[:3], population=4, seed=4)
    plain.run(generations=5)
    assert plain.evaluate_best_on_all_images().error == pytest.approx(plain.best_error,
                                                                      rel=1e-12)


@pytest.mark.parametrize("kwargs, words", [
    (dict(selection="truncation", truncation=9), ["truncation", "population"]),
    (dict(elites=6), ["elites", "population"]),
    (dict(elites=-1), ["elites"]),
    (dict(sigma=0.0), ["sigma"]),
    (dict(sigma=-1.0), ["sigma"]),
    (dict(mutation="reset", sigma=0.5), ["reset", "sigma"]),
    (dict(mutation="gauss"), ["gauss", "gaussian-all"]),
    (dict(selection="best"), ["best", "truncation"]),
    (dict(fitness="mae"), ["mae", "rmse"]),
    (dict(crossover="uniform"), ["crossover", "copy-best"]),
    (dict(step_control="schedule"), ["schedule_generations"]),
    (dict(sigma_end=0.1), ["schedule"]),
    (dict(tau=0.2), ["self-adaptive"]),
    (dict(tournament_size=2), ["tournament"]),
    (dict(mutation="zero", step_control="one-fifth"), ["step size"]),
    (dict(batch=5), ["batch", "4"]),
    (dict(batch=0), ["batch"]),
    (dict(truncation=2), ["truncation"]),
])
def test_impossible_settings_refused(net, images, kwargs, words):
    with pytest.raises(ValueError) as e:
        evoae.Evolution(net, images, population=6, **kwargs)
    for word in words:
        assert word in str(e.value), (word, str(e.value))


def test_run_help_documents_operators():
    done = cli("run", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for option in ("--mutation", "--sigma", "--step-control", "--sigma-end", "--mutations-end",
                   "--schedule-generations", "--tau", "--crossover", "--selection",
                   "--truncation", "--tournament-size", "--elites", "--fitness", "--batch",
                   "--patience", "--resume", "--checkpoint-every"):
        assert option in text, option
    for source in ("Varadi 2021", "Such et al. 2017", "David & Greental 2014", "1/5",
                   "Schwefel", "Syswerda", "Goldberg & Deb"):
        assert source in text, source
    for name in sum(OPERATORS.values(), []):
        assert name in text, name


def test_cli_run_with_operators(tmp_path):
    done = cli("run", "--generations", "20", "--population", "6", "--mutation", "gaussian",
               "--step-control", "self-adaptive", "--selection", "truncation", "--truncation",
               "2", "--elites", "2", "--fitness", "mse", "--quiet", "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    settings = json.loads((tmp_path / "settings.json").read_text())
    ops = settings["operators"]
    assert (ops["mutation"], ops["step_control"], ops["selection"], ops["truncation"],
            ops["elites"], ops["fitness"]) == ("gaussian", "self-adaptive", "truncation", 2, 2,
                                               "mse")
    assert settings["generations_done"] == 20 and settings["stop_reason"] == "generations"
    evo = evoae.Evolution(evoae.varadi_network(), evoae.data.scale(evoae.data.ten_digits()),
                          population=6, seed=0, mutation="gaussian",
                          step_control="self-adaptive", selection="truncation", truncation=2,
                          elites=2, fitness="mse")
    evo.run(generations=20)
    result = evoae.load_result(tmp_path / "result.npz")
    np.testing.assert_array_equal(result.genome, evo.best_genome)
    assert settings["best_mae"] == pytest.approx(evo.best_mae, rel=1e-12)


@pytest.mark.parametrize("args, word", [
    (["--selection", "truncation", "--truncation", "30"], "truncation"),
    (["--elites", "20"], "elites"),
    (["--sigma", "0"], "--sigma"),
    (["--mutation", "gauss"], "--mutation"),
    (["--crossover", "uniform"], "copy-best"),
    (["--batch", "11"], "batch"),
    (["--patience", "0"], "--patience"),
])
def test_cli_impossible_settings(tmp_path, capsys, args, word):
    from evoae.cli import main  # in this process: test_cli.py runs the subprocess kind

    try:
        code = main(["run", *args, "--generations", "1", "--out", str(tmp_path)])
    except SystemExit as e:  # argparse's own errors
        code = e.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert word in err, err
    assert not (tmp_path / "result.npz").exists()


@pytest.fixture(scope="module")
def larger_data(tmp_path_factory):
    """10,000 MNIST-like images, as the MNIST test set: gzip for the CLI, raw for Python."""
    images, _ = mnist_like(10000, seed=1)
    folder = tmp_path_factory.mktemp("larger")
    return (images, write_idx(folder / "images-idx3-ubyte.gz", images),
            write_idx(folder / "images-idx3-ubyte", images))


def test_cli_larger_data_with_batches(tmp_path, larger_data):
    images, packed, _ = larger_data
    done = cli("run", "--data", packed, "--samples", "1500", "--batch", "20", "--generations",
               "10", "--population", "5", "--quiet", "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    settings = json.loads((tmp_path / "settings.json").read_text())
    assert settings["samples"] == 1500 and settings["operators"]["batch"] == 20
    result = evoae.load_result(tmp_path / "result.npz")
    np.testing.assert_array_equal(result.images, evoae.data.scale(images[:1500]))
    out = result.reconstructions().astype(np.float64)
    # best_mae is the best agent measured on all 1500 images, not on the last batch
    assert settings["best_mae"] == pytest.approx(np.abs(out - result.images).mean(), rel=1e-5)
    assert "batch_best_mae" in settings
    # the checkpoint keeps a fingerprint of 1500 images (4.7 MB), not the images, and resumes from
    # the data file it names
    assert result.images.astype(np.float32).nbytes > STORE_IMAGES_MAX_BYTES
    with np.load(tmp_path / "checkpoint.npz") as f:
        assert "images" not in f.files
    done = cli("run", "--resume", tmp_path / "checkpoint.npz", "--generations", "3",
               "--quiet", "--out", tmp_path / "more")
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "more" / "settings.json").read_text())[
        "generations_done"] == 13


def test_all_ten_thousand_images_with_a_batch(net, larger_data):
    images = evoae.data.scale(evoae.data.load_idx(larger_data[2]))
    assert images.shape == (10000, 28, 28)
    evo = evoae.Evolution(net, images, population=4, batch=16, seed=0)
    evo.run(generations=3)
    assert evo.batch.max() < 10000 and evo.evaluations == 4 * 16 * 4
    assert 0 < evo.evaluate_best_on_all_images().mae < 1


def test_compare_settings_parse():
    assert parse_setting("original") == ("original", PRESETS["original"])
    name, kw = parse_setting("mine:mutation=gaussian,sigma=0.05,population=30")
    assert name == "mine" and kw == dict(mutation="gaussian", sigma=0.05, population=30)
    name, kw = parse_setting("original+mutations=1")
    assert name == "original+mutations=1" and kw == dict(population=20, mutations=1)
    for bad, message in (("nosuch", "unknown setting 'nosuch'"),
                         ("x:mutation", "'mutation' is not key=value"),
                         (":a=1", "has no name"), ("nosuch+a=1", "unknown preset 'nosuch'")):
        with pytest.raises(ValueError, match=message):
            parse_setting(bad)
    for name, kwargs in PRESETS.items():  # every preset is a valid setting
        evoae.Evolution(evoae.varadi_network(), evoae.data.scale(evoae.data.ten_digits()[:1]),
                        **kwargs)


def test_compare_command(tmp_path):
    done = cli("compare", "original", "fast:mutation=per-agent,mutations=1,population=6",
               "--seconds", "0.4", "--seeds", "2", "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "median" in done.stdout and "original" in done.stdout and "fast" in done.stdout
    assert "median image 0.0970" in done.stdout
    assert (tmp_path / "compare.png").read_bytes().startswith(b"\x89PNG")
    report = json.loads((tmp_path / "compare.json").read_text())
    assert [row["setting"] for row in report["table"]] == ["original", "fast"]
    assert len(report["runs"]) == 4
    for run in report["runs"]:
        assert run["curve"][-1][0] >= 0.4 and run["generations"] > 0
        assert 0 < run["final_mae"] < 0.3
    bad = cli("compare", "x:selection=truncation,truncation=50", "--seconds", "0.1",
              "--out", tmp_path)
    assert bad.returncode == 2 and "truncation" in bad.stderr and "Traceback" not in bad.stderr


def test_compare_keeps_finished_runs_on_ctrl_c(monkeypatch):
    from evoae.cli import compare as cmp

    calls = []

    def fake_run(name, kwargs, seed, *rest):
        calls.append(seed)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return {"setting": name, "seed": seed, "generations": 1, "final_mae": 0.1,
                "curve": [(0.0, 0, 0.2), (1.0, 1, 0.1)]}

    monkeypatch.setattr(cmp, "run_one", fake_run)
    with pytest.raises(cmp.Interrupted) as e:
        cmp.compare([("a", {}), ("b", {})], [0, 1], 1.0, log=None)
    assert [(r["setting"], r["seed"]) for r in e.value.results] == [("a", 0), ("a", 1)]
    assert cmp.summarise(e.value.results)[0]["runs"] == 2


def test_compare_resume_keeps_earlier_runs(tmp_path):
    first = cli("compare", "original", "fast:mutation=per-agent,mutations=1,population=6",
                "--seconds", "0.3", "--seeds", "1", "--out", tmp_path)
    assert first.returncode == 0, first.stderr
    before = {(r["setting"], r["seed"]): r for r in
              json.loads((tmp_path / "compare.json").read_text())["runs"]}
    more = cli("compare", "original", "fast:mutation=per-agent,mutations=1,population=6",
               "gaussian-sa", "--seconds", "0.3", "--seeds", "2", "--resume", "--out", tmp_path)
    assert more.returncode == 0, more.stderr
    assert "4 to run (2 kept)" in more.stderr
    after = json.loads((tmp_path / "compare.json").read_text())
    assert sorted((r["setting"], r["seed"]) for r in after["runs"]) == sorted(
        (name, seed) for name in ("original", "fast", "gaussian-sa") for seed in (0, 1))
    for key, run in before.items():  # kept as they were, not run again
        assert next(r for r in after["runs"] if (r["setting"], r["seed"]) == key) == run
    changed = cli("compare", "fast:mutation=per-agent,mutations=2,population=6", "--seconds",
                  "0.3", "--seeds", "1", "--resume", "--out", tmp_path)  # other kwargs: rerun
    assert changed.returncode == 0 and "1 to run (0 kept)" in changed.stderr
    other = cli("compare", "original", "--seconds", "0.5", "--resume", "--out", tmp_path)
    assert other.returncode == 2 and "ran with seconds 0.3" in other.stderr


def test_compare_on_an_idx_file_with_mini_batches(tmp_path):
    digits, _ = mnist_like(30)
    path = write_idx(tmp_path / "digits-idx3-ubyte.gz", digits)
    done = cli("compare", "original+batch=8", "--data", path, "--samples", "24",
               "--seconds", "0.3", "--seeds", "1", "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "24 images of digits-idx3-ubyte.gz" in done.stdout
    assert "backpropagation in the reference system" not in done.stdout  # the ten digits' own
    report = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert report["samples"] == 24 and report["data"] == str(path.resolve())
    scaled = evoae.data.scale(digits[:24])
    median = np.abs(scaled - np.median(scaled, axis=0)).mean()
    assert report["median_image_mae"] == pytest.approx(median, rel=1e-6)
    run = report["runs"][0]
    assert run["settings"]["batch"] == 8
    # the final MAE is the best agent's over all 24 images, not over a batch of 8
    evo = evoae.Evolution(evoae.varadi_network(), scaled, **PRESETS["original"], batch=8,
                          seed=0, threads=1)
    evo.run(generations=run["generations"])
    assert run["final_mae"] == pytest.approx(evo.evaluate_best_on_all_images().mae, rel=1e-6)
    other = cli("compare", "original+batch=8", "--seconds", "0.3", "--seeds", "1",
                "--resume", "--out", tmp_path / "out")  # the ten digits, not the file
    assert other.returncode == 2 and "ran with data" in other.stderr
    too_many = cli("compare", "original", "--data", path, "--samples", "31", "--out", tmp_path)
    assert too_many.returncode == 2 and "has 30 images" in too_many.stderr


def test_compare_saves_after_every_run(monkeypatch):
    from evoae.cli import compare as cmp

    def fake_run(name, kwargs, seed, *rest):
        return {"setting": name, "seed": seed, "kwargs": kwargs, "generations": 1,
                "final_mae": 0.1, "curve": [(0.0, 0, 0.2)]}

    monkeypatch.setattr(cmp, "run_one", fake_run)
    saved = []
    earlier = [fake_run("a", {}, 0)]
    results = cmp.compare([("a", {}), ("b", {})], [0, 1], 1.0, log=None, earlier=earlier,
                          saved=lambda runs: saved.append([(r["setting"], r["seed"]) for r in runs]))
    assert [len(s) for s in saved] == [2, 3, 4]  # the kept run, then one more each time
    assert [(r["setting"], r["seed"]) for r in results] == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    assert results[0] is earlier[0]
