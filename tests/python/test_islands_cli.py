"""`evoae islands`: the files it writes, a resumed run that ends as a straight one, and one-line
errors for what cannot run."""
import json
import sys

import numpy as np
import pytest

from evoae.cli.main import main
from evoae.io.results import load_result

SMALL = ["--islands", "3", "--population", "8", "--migration-interval", "10", "--samples", "3",
         "--threads", "1", "--quiet"]


def test_islands_writes_results_and_resumes_as_a_straight_run(tmp_path, capsys):
    assert main(["islands", *SMALL, "--generations", "30", "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "done (generations): generation 30" in out and "islands.json" in out
    for name in ("result.npz", "reconstructions.png", "error_curve.png", "settings.json",
                 "islands.png", "islands/islands.json"):
        assert (tmp_path / "a" / name).is_file(), name
    history = json.loads((tmp_path / "a" / "islands.json").read_text())
    assert len(history["curves"]) == 3 and len(history["curves"][0]) == 31
    assert [m["generation"] for m in history["migrations"]] == [10, 20, 30]
    settings = json.loads((tmp_path / "a" / "settings.json").read_text())
    assert settings["operators"]["islands"] == 3 and settings["generations_done"] == 30
    straight = load_result(tmp_path / "a" / "result.npz")
    assert np.isclose(min(min(c) for c in history["curves"]), straight.history[-1] / (3 * 784))

    assert main(["islands", *SMALL, "--generations", "12", "--out", str(tmp_path / "b")]) == 0
    assert main(["islands", "--resume", str(tmp_path / "b" / "islands"), "--generations", "18",
                 "--quiet", "--out", str(tmp_path / "c")]) == 0
    resumed = load_result(tmp_path / "c" / "result.npz")
    assert np.array_equal(resumed.history, straight.history)
    assert np.array_equal(resumed.genome, straight.genome)


@pytest.mark.parametrize("args, message", [
    (["--resume", "{out}"], "--resume continues with the run's settings: drop --population, "
                            "--islands, --migration-interval"),
    (["--address", "auto"], "--address is for --backend ray"),
    (["--migrants", "8"], "migrants must be < the population (8), got 8"),
])
def test_bad_input_is_one_line(tmp_path, capsys, args, message):
    args = [a.format(out=tmp_path) for a in args]
    assert main(["islands", *SMALL, *args, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("evoae: error:")
    assert message in err
    assert not (tmp_path / "x").exists()  # a refused run leaves nothing


def test_ray_backend_without_ray(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    assert main(["islands", *SMALL, "--backend", "ray", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == ('evoae: error: the ray backend needs Ray: '
                                       'pip install "evoae[ray]"\n')


def test_sigterm_stops_evoae_islands_with_everything_written(tmp_path):
    import os
    import signal
    import subprocess

    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "evoae.cli", "islands", *SMALL[:-1], "--seconds", "120",
         "--out", str(out)], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONWARNINGS="ignore"))
    for line in process.stderr:  # the first progress line: the islands are running
        if line.startswith("generation"):
            break
    process.send_signal(signal.SIGTERM)
    stdout, rest = process.communicate(timeout=60)
    assert process.returncode == 143, rest
    assert stdout.startswith("interrupted (interrupted): generation ")
    settings = json.loads((out / "settings.json").read_text())
    assert settings["interrupted"] and settings["generations_done"] > 0
    manifest = json.loads((out / "islands" / "islands.json").read_text())
    assert manifest["generation"] == settings["generations_done"]  # resumable from there
