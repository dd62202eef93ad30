"""The command line: `evoae run` in a subprocess, its files, its help and its errors."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import evoae
from idx_files import write_idx

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RUN_ARGS = ["--generations", "30", "--population", "8", "--mutations", "10", "--seed", "1"]


def console_script() -> Path:
    folder = Path(sys.executable).parent
    for name in ("evoae", "evoae.exe"):
        if (folder / name).exists():
            return folder / name
    pytest.skip(f"no evoae console script next to {sys.executable}")


def evoae_cli(*args, script=False, timeout=120):
    command = [str(console_script())] if script else [sys.executable, "-m", "evoae.cli"]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run([*command, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def error_lines(stderr: str) -> list:
    # matplotlib may announce building its font cache on a first import; that is not ours
    return [line for line in stderr.splitlines() if line and not line.startswith("Matplotlib")]


@pytest.fixture(scope="module")
def module_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run-module")
    done = evoae_cli("run", *RUN_ARGS, "--out", out)
    assert done.returncode == 0, done.stderr
    return out, done


def test_run_writes_result(module_run):
    out, _ = module_run
    result = evoae.load_result(out / "result.npz")
    assert result.genome.shape == (1397,) and result.genome.dtype == np.float32
    assert result.network.num_params == 1397
    assert evoae.network_spec(result.network) == evoae.network_spec(evoae.varadi_network())
    targets = evoae.data.scale(evoae.data.ten_digits())
    np.testing.assert_array_equal(result.images, targets)
    history = np.asarray(result.history)
    assert len(history) == 31 and np.all(np.diff(history) <= 0)
    reconstructions = result.reconstructions()
    assert reconstructions.shape == (10, 28, 28)
    # the saved genome gives the recorded best error
    error = float(np.abs(reconstructions.astype(np.float64) - targets).sum())
    assert error == pytest.approx(history[-1], rel=1e-6)
    assert error == pytest.approx(result.settings["best_error"], rel=1e-6)
    assert result.settings["best_mae"] == pytest.approx(error / (10 * 784), rel=1e-6)


def test_run_equals_the_same_run_in_python(module_run):
    out, _ = module_run
    result = evoae.load_result(out / "result.npz")
    evo = evoae.Evolution(evoae.varadi_network(), evoae.data.scale(evoae.data.ten_digits()),
                          population=8, mutations=10, seed=1)
    evo.run(generations=30)
    np.testing.assert_array_equal(result.genome, evo.best_genome)
    np.testing.assert_array_equal(result.history, evo.history)


def test_run_writes_pictures_and_settings(module_run):
    out, done = module_run
    for name in ("reconstructions.png", "error_curve.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE), name
        assert len(data) > 1000, name
    settings = json.loads((out / "settings.json").read_text())
    assert settings["population"] == 8
    assert settings["mutations"] == 10
    assert settings["seed"] == 1
    assert settings["samples"] == 10
    assert settings["generations_done"] == 30
    assert settings["stop"]["generations"] == 30
    assert settings == evoae.load_result(out / "result.npz").settings
    assert "Traceback" not in done.stderr


def test_run_result_line_on_stdout_progress_on_stderr(module_run):
    # `evoae run > log` keeps the result; progress and the header stay on the terminal.
    out, done = module_run
    assert done.stdout.startswith("done (generations): generation 30, best MAE ")
    assert f"wrote {out}" in done.stdout and len(done.stdout.splitlines()) == 1
    assert "done" not in done.stderr and "generation " in done.stderr


def test_console_script_same_run_on_one_thread(module_run, tmp_path):
    out, _ = module_run
    done = evoae_cli("run", *RUN_ARGS, "--threads", "1", "--quiet", "--out", tmp_path / "x",
                     script=True)
    assert done.returncode == 0, done.stderr
    a = evoae.load_result(out / "result.npz")
    b = evoae.load_result(tmp_path / "x" / "result.npz")
    np.testing.assert_array_equal(a.genome, b.genome)
    np.testing.assert_array_equal(a.history, b.history)
    assert json.loads((tmp_path / "x" / "settings.json").read_text())["threads"] == 1
    for name in ("reconstructions.png", "error_curve.png", "settings.json"):
        assert (tmp_path / "x" / name).exists()


def test_run_on_idx_data(tmp_path):
    # a user's IDX file: three images; --samples 2 takes the first two
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    path = write_idx(tmp_path / "mine-idx3-ubyte.gz", images)
    done = evoae_cli("run", "--data", path, "--samples", "2", "--generations", "3",
                     "--population", "3", "--quiet", "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    result = evoae.load_result(tmp_path / "out" / "result.npz")
    np.testing.assert_array_equal(result.images, evoae.data.scale(images[:2]))


def test_help():
    done = evoae_cli("--help", script=True)
    assert done.returncode == 0
    assert "run" in done.stdout
    done = evoae_cli("run", "--help", script=True)
    assert done.returncode == 0
    for option in ("--population", "--mutations", "--generations", "--seconds", "--target",
                   "--seed", "--samples", "--data", "--threads", "--out"):
        assert option in done.stdout, option
    assert "result.npz" in done.stdout


def subcommand_helps() -> dict:
    from evoae.cli.main import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return dict(commands.choices)


@pytest.mark.parametrize("command", sorted(subcommand_helps()))
def test_every_option_has_help_and_no_default_none(command):
    parser = subcommand_helps()[command]
    text = " ".join(parser.format_help().split())
    assert "(default: None)" not in text
    for action in parser._actions:
        assert action.help, (command, action.option_strings or action.dest)


def test_help_shows_ranges_and_exit_codes():
    text = " ".join(evoae_cli("run", "--help").stdout.split())
    assert "ga 20, as the original loop" in text and "(1 to 10,000,000)" in text  # --population
    assert "(default: 10; 0 to 10,000,000)" in text  # --mutations
    assert "(1 to 1,024)" in text  # --threads
    for words in ("0 done", "2 bad input", "130 stopped by Ctrl-C", "143 by SIGTERM"):
        assert words in text, words
    tied = evoae_cli("tied", "--help").stdout
    assert "--data IMAGES --labels LABELS" in " ".join(tied.split())  # required: no brackets
    assert "(required)" not in tied


def test_version():
    done = evoae_cli("--version")
    assert done.returncode == 0
    assert evoae.__version__ in done.stdout + done.stderr


def check_error(done, *words):
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in error_lines(done.stderr) if "error" in line.lower()]
    assert len(errors) == 1, done.stderr
    for word in words:
        assert word in errors[0], (word, errors[0])
    return errors[0]


def test_bad_samples(tmp_path):
    done = evoae_cli("run", "--samples", "11", "--generations", "1", "--out", tmp_path)
    check_error(done, "11")
    assert len(error_lines(done.stderr)) == 1, done.stderr  # one line, nothing else
    assert not (tmp_path / "result.npz").exists()


def test_corrupt_data_file(tmp_path):
    bad = tmp_path / "bad-idx3-ubyte.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00" + b"garbage" * 10)
    done = evoae_cli("run", "--data", bad, "--generations", "1", "--out", tmp_path / "o")
    check_error(done, bad.name)
    assert len(error_lines(done.stderr)) == 1, done.stderr


def test_truncated_data_file(tmp_path):
    truncated = tmp_path / "short-idx3-ubyte"
    truncated.write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 28, 0, 0, 0, 28]) + bytes(100))
    done = evoae_cli("run", "--data", truncated, "--generations", "1", "--out", tmp_path / "o")
    check_error(done, truncated.name)


def test_missing_and_wrong_shape_data_file(tmp_path):
    done = evoae_cli("run", "--data", tmp_path / "missing.gz", "--generations", "1",
                     "--out", tmp_path / "o")
    check_error(done, "missing.gz")
    labels = tmp_path / "labels-idx1-ubyte"
    labels.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]))
    done = evoae_cli("run", "--data", labels, "--generations", "1", "--out", tmp_path / "o")
    check_error(done, "28x28")


@pytest.mark.parametrize("args, word", [
    (["--population", "0"], "--population"),
    (["--population", "many"], "--population"),
    (["--samples", "0"], "--samples"),
    (["--seconds", "-1"], "--seconds"),
    (["--mutations", "-2"], "--mutations"),
])
def test_bad_options(tmp_path, args, word):
    done = evoae_cli("run", *args, "--generations", "1", "--out", tmp_path)
    check_error(done, word)
    assert not (tmp_path / "result.npz").exists()


def test_bad_options_are_one_line_errors(capsys):
    from evoae.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["run", "--population", "0"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "usage:" not in err
    assert err.startswith("evoae run: error: argument --population: must be an integer from 1")


def test_compare_puts_backprop_beside_evolution(tmp_path):
    done = evoae_cli("compare", "original", "backprop", "backprop+learning_rate=0.003",
                     "--seconds", "0.4", "--seeds", "1", "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "compare.json").read_text())
    assert [row["setting"] for row in report["table"]] == [
        "original", "backprop", "backprop+learning_rate=0.003"]
    for run in report["runs"][1:]:
        assert run["settings"]["optimizer"] == "adam" and run["generations"] > 0
        assert run["final_mae"] < run["curve"][0][2]  # backprop lowered the error
    assert report["runs"][2]["settings"]["learning_rate"] == 0.003
    assert "optimiser steps" in done.stdout
    bad = evoae_cli("compare", "x:system=backprop,optimizer=nope", "--seconds", "0.1",
                    "--out", tmp_path)
    check_error(bad, "optimizer")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals to a child process")
def test_sigterm_stops_evoae_train_with_everything_written(tmp_path):
    import signal

    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "evoae.cli", "train", "--seconds", "120", "--out", str(out)],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONWARNINGS="ignore"))
    for line in process.stderr:  # the first progress line: steps are running
        if line.startswith("step"):
            break
    process.send_signal(signal.SIGTERM)
    stdout, rest = process.communicate(timeout=60)
    assert process.returncode == 143, rest
    assert stdout.startswith("interrupted (interrupted): step ")
    settings = json.loads((out / "settings.json").read_text())
    assert settings["interrupted"] and settings["stop_reason"] == "interrupted"
    resumed = evoae.Trainer.load(out / "checkpoint.npz")
    result = evoae.load_result(out / "result.npz")
    assert resumed.generation == settings["steps_done"] == len(result.history) - 1 > 0
    np.testing.assert_array_equal(resumed.best_genome, result.genome)
