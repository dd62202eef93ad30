"""Stopping: patience, target (also for other fitness functions and mini-batches), time,
the stop reason, and Ctrl-C on `evoae run`: the generation finishes, the results and the
checkpoint are written, and the process exits cleanly."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import evoae

PIXELS = 28 * 28


def test_patience_without_any_change(net, images):
    with pytest.warns(UserWarning, match="nothing can change"):
        evo = evoae.Evolution(net, images, population=4, mutations=0)
    final = evo.run(patience=5, generations=1000)
    assert evo.generation == 5 and final.generation == 5
    assert evo.stop_reason == "patience"
    evo.run(patience=5, generations=1000)
    assert evo.generation == 5  # still no improvement: stops at once


def test_patience_stops_after_g_generations_without_a_new_best(net):
    images = evoae.data.scale(evoae.data.ten_digits()[:1])
    evo = evoae.Evolution(net, images, population=2, mutations=10, seed=1, threads=1)
    evo.run(patience=20, generations=20000)
    assert evo.stop_reason == "patience"
    history = np.asarray(evo.history)
    assert evo.generation - evo.improved_at == 20
    best_at = int(np.argmin(history))  # the first generation at the lowest value
    assert best_at == evo.improved_at == evo.generation - 20
    assert np.all(history[best_at:] == history[best_at])
    assert history[best_at] < history[best_at - 1]  # it was an improvement
    # never 20 generations without one before: it would have stopped there
    improved = np.flatnonzero(np.diff(history) < 0) + 1
    assert len(improved) > 5
    assert np.all(np.diff(np.concatenate([[0], improved])) <= 20)


def test_stop_reasons(net, images):
    evo = evoae.Evolution(net, images, population=4)
    evo.run(generations=3)
    assert evo.stop_reason == "generations"
    evo.run(seconds=0.05)
    assert evo.stop_reason == "seconds"
    evo.run(callback=lambda p: True)
    assert evo.stop_reason == "callback"
    evo.run(target=1.0)  # already better than 1 per pixel
    assert evo.stop_reason == "target"
    with pytest.raises(ValueError, match="patience"):
        evo.run(patience=0)


@pytest.mark.parametrize("kwargs", [dict(fitness="mse"), dict(batch=2)])
def test_target_is_mae_for_any_fitness(net, images, kwargs):
    evo = evoae.Evolution(net, images, population=6, seed=1, **kwargs)
    target = evo.best_mae * 0.97
    evo.run(target=target, generations=3000)
    assert evo.stop_reason == "target"
    assert evo.best_mae <= target


@pytest.mark.parametrize("record", [[], ["--record-every", "2"], ["--record-every", "100"]],
                         ids=["plain", "record-every-2", "record-every-100"])
def test_cli_patience(tmp_path, record):
    # With --record the run goes through the viewer's runner: it stops at the same generation.
    if record:
        record = ["--record", tmp_path / "frames", *record]
    done = subprocess.run([sys.executable, "-m", "evoae.cli", "run", "--mutations", "0",
                           "--population", "3", "--patience", "5", "--quiet",
                           "--out", tmp_path, *record], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    settings = json.loads((tmp_path / "settings.json").read_text())
    assert settings["stop_reason"] == "patience" and settings["generations_done"] == 5
    assert settings["stop"]["patience"] == 5
    with pytest.warns(UserWarning, match="nothing can change"):  # mutations 0
        assert evoae.Evolution.load(tmp_path / "checkpoint.npz").generation == 5


def start_run(tmp_path, *extra, progress=False):
    env = dict(os.environ, PYTHONWARNINGS="ignore", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "evoae.cli", "run", "--generations", "100000000",
         "--population", "6", "--out", str(tmp_path), *extra],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    header = proc.stderr.readline()  # printed when the evolution is set up
    assert header.startswith("evoae "), header
    if progress:  # the first progress line: generations are running
        line = proc.stderr.readline()
        assert line.startswith("generation "), line
    return proc


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
@pytest.mark.parametrize("extra, kwargs", [
    ([], {}),
    (["--checkpoint-every", "50", "--mutation", "gaussian", "--step-control", "self-adaptive"],
     dict(mutation="gaussian", step_control="self-adaptive")),
], ids=["original", "checkpoint-every-self-adaptive"])
def test_ctrl_c_writes_results_and_exits_cleanly(tmp_path, extra, kwargs):
    proc = start_run(tmp_path, *extra)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err  # the shell's code for "ended by Ctrl-C"
    assert "Traceback" not in err, err
    assert out.startswith("interrupted (interrupted): generation"), out
    for name in ("result.npz", "reconstructions.png", "error_curve.png", "settings.json",
                 "checkpoint.npz"):
        assert (tmp_path / name).exists(), name
    settings = json.loads((tmp_path / "settings.json").read_text())
    assert settings["interrupted"] and settings["stop_reason"] == "interrupted"
    generations = settings["generations_done"]
    assert generations > 0
    # the checkpoint is the state at the end of that (whole) generation
    evo = evoae.Evolution.load(tmp_path / "checkpoint.npz")
    assert evo.generation == generations
    result = evoae.load_result(tmp_path / "result.npz")
    np.testing.assert_array_equal(result.genome, evo.best_genome)
    np.testing.assert_array_equal(result.history, evo.history)
    assert len(result.history) == generations + 1
    # and it goes on from there exactly as a run that was never interrupted
    straight = evoae.Evolution(evoae.varadi_network(), evo.images, population=6, seed=0,
                               **kwargs)
    straight.run(generations=generations + 5)
    evo.run(generations=5)
    np.testing.assert_array_equal(evo.population, straight.population)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to a child process")
@pytest.mark.parametrize("extra", [[], ["--record-every", "50"]], ids=["plain", "record"])
def test_sigterm_writes_results_and_exits_143(tmp_path, extra):
    # What `timeout` and batch schedulers send: handled as Ctrl-C is, with the shell's code.
    if extra:
        extra = ["--record", str(tmp_path / "frames"), *extra]
    proc = start_run(tmp_path / "out", *extra, progress=True)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "Traceback" not in err, err
    assert out.startswith("interrupted (interrupted)"), out
    settings = json.loads((tmp_path / "out" / "settings.json").read_text())
    assert settings["interrupted"] and settings["stop_reason"] == "interrupted"
    evo = evoae.Evolution.load(tmp_path / "out" / "checkpoint.npz")
    result = evoae.load_result(tmp_path / "out" / "result.npz")
    assert evo.generation == settings["generations_done"] > 0
    np.testing.assert_array_equal(result.genome, evo.best_genome)
    if extra:
        assert any((tmp_path / "frames").glob("*.png"))
