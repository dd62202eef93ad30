"""The one run loop (evoae.run): every stop condition stops at the exact same generation
whichever path runs it (Evolution.run, the viewer with and without a window, recording
frames), Ctrl-C and SIGTERM stop `evoae run` with everything written (with and without
--view/--record), and what the loop reports (the viewer's MAE, the error curve) is the
objective's own number, whatever the fitness."""
import json
import os
import signal
import subprocess
import sys
import threading
import warnings

os.environ["SDL_VIDEODRIVER"] = "dummy"  # before SDL is loaded; no display is needed
os.environ["SDL_RENDER_DRIVER"] = "software"

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import evoae  # noqa: E402
from evoae import viewer  # noqa: E402
from evoae.viewer import live  # noqa: E402

IMAGES = evoae.data.scale(evoae.data.ten_digits()[:3])


def fresh(**settings):
    with warnings.catch_warnings():  # mutations=0 may warn that nothing changes
        warnings.simplefilter("ignore")
        return evoae.Evolution(evoae.varadi_network(), IMAGES, population=6, seed=3,
                               **settings)


PATHS = {
    "run": lambda evo, stop, tmp: evo.run(stop.generations, stop.seconds, stop.target,
                                          patience=stop.patience),
    "record": lambda evo, stop, tmp: viewer.watch(evo, stop=stop, window=False,
                                                  record=tmp / "frames", record_every=3),
    "window": lambda evo, stop, tmp: viewer.watch(evo, stop=stop, software=True,
                                                  record=tmp / "frames", record_every=4),
}


def target_generation(target):
    """The first generation at which the plain loop meets `target` (MAE per pixel)."""
    evo = fresh()
    evo.run(target=target)
    return evo.generation


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("stop, settings, expected", [
    (evoae.Stop(generations=7), {}, (7, "generations")),
    (evoae.Stop(patience=5, generations=1000), dict(mutations=0), (5, "patience")),
    (evoae.Stop(target=0.12, generations=5000), {}, ("target", "target")),
])
def test_every_path_stops_at_the_same_generation(path, stop, settings, expected, tmp_path):
    generation, reason = expected
    if generation == "target":
        generation = target_generation(stop.target)
        assert 1 < generation < 5000
    evo = fresh(**settings)
    final = PATHS[path](evo, stop, tmp_path)
    assert evo.generation == generation and final.generation == generation
    assert evo.stop_reason == reason


def test_recorded_frames_are_the_multiples_reached(tmp_path):
    evo = fresh(mutations=0)
    viewer.watch(evo, patience=5, generations=1000, window=False, record=tmp_path,
                 record_every=2)
    assert [p.name for p in viewer.frame_files(tmp_path)] == [
        "frame-000000000.png", "frame-000000002.png", "frame-000000004.png"]


def test_a_recorded_frame_shows_its_own_generation(tmp_path, monkeypatch):
    shown = {}
    monkeypatch.setattr(live, "save_png",
                        lambda path, frame: shown.setdefault(path.name, runner.snapshot))
    evo = fresh()
    runner = live.Runner(evo, viewer.Snapshotter(evo.network, evo.images),
                         evoae.Stop(generations=30), record=tmp_path, record_every=10)
    runner.run()
    assert {name: snap.generation for name, snap in shown.items()} == {
        f"frame-{g:09d}.png": g for g in (0, 10, 20, 30)}
    assert shown["frame-000000030.png"].best_error == evo.best_error


def test_actions_run_at_their_generations_and_their_time_is_not_counted():
    evo, seen = fresh(), []
    final = evo.run(generations=10, every=[evoae.Every(4, lambda: seen.append(evo.generation))])
    assert seen == [4, 8] and final.generation == 10


def test_a_stop_event_stops_after_the_generations_running():
    evo = fresh()
    event = threading.Event()
    final = evo.run(generations=10**6, interval=0.01,
                    callback=lambda p: event.set() if p.generation >= 3 else None,
                    stop_event=event)
    assert evo.stop_reason == "interrupted" and final.generation == evo.generation >= 3


@pytest.mark.parametrize("bad, message", [
    (dict(seconds=float("nan")), "seconds must be >= 0"),
    (dict(generations=-1), "generations must be >= 0"),
    (dict(patience=0), "patience must be >= 1"),
    (dict(target=-0.5), "target must be >= 0"),
    (dict(), "or it never stops"),
])
def test_impossible_stops_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        fresh().run(**bad)


# -- what the loop reports ---------------------------------------------------------------------
def test_the_viewer_shows_the_true_mae_and_names_the_curve_under_mse():
    evo = fresh(fitness="mse")
    runner = live.Runner(evo, viewer.Snapshotter(evo.network, evo.images),
                         evoae.Stop(generations=5))
    runner.run()
    out = evo.network.forward(evo.best_genome, IMAGES)
    assert runner.snapshot.best_mae == pytest.approx(np.abs(out - IMAGES).mean(), rel=1e-6)
    assert runner.snapshot.best_error == evo.best_error  # the MSE itself
    assert runner.snapshot.curve_label == "best mse (fitness)"
    np.testing.assert_array_equal(runner.snapshot.curve, evo.history)


def test_the_viewer_s_curve_under_batches_is_the_mae_of_each_batch():
    evo = fresh(batch=2)
    runner = live.Runner(evo, viewer.Snapshotter(evo.network, evo.images),
                         evoae.Stop(generations=5))
    runner.run()
    np.testing.assert_allclose(runner.snapshot.curve, evo.history / (2 * 784))
    assert runner.snapshot.best_mae == pytest.approx(evo.best_mae)


def test_evoae_view_of_a_batch_result_shows_its_true_mae(tmp_path, monkeypatch):
    from evoae.cli import main

    out = tmp_path / "out"
    assert main(["run", "--batch", "3", "--generations", "20", "--population", "6",
                 "--quiet", "--out", str(out)]) == 0
    shown = []
    real_render = live.render
    monkeypatch.setattr(live, "render", lambda snap, *a, **k: shown.append(snap) or
                        real_render(snap, *a, **k))
    assert main(["view", str(out / "result.npz"), "--no-window", "--save",
                 str(tmp_path / "v.png")]) == 0
    result = evoae.load_result(out / "result.npz")
    true_mae = np.abs(result.reconstructions() - result.images).mean()
    assert shown[0].best_mae == pytest.approx(true_mae, rel=1e-6)
    assert shown[0].best_mae == pytest.approx(result.settings["best_mae"], rel=1e-6)


def test_the_error_curve_of_a_mse_run_is_labelled_mse(tmp_path, monkeypatch):
    from evoae import pictures
    from evoae.cli import main

    labels = []
    real = pictures.save_error_curve
    monkeypatch.setattr(pictures, "save_error_curve",
                        lambda path, values, *a, **k: labels.append(k.get("label")) or
                        real(path, values, *a, **k))
    for fitness in ("mse", "sae"):
        assert main(["run", "--fitness", fitness, "--generations", "3", "--population", "4",
                     "--quiet", "--out", str(tmp_path / fitness)]) == 0
    assert labels == ["best mse (fitness)", "best MAE per pixel"]


# -- signals --------------------------------------------------------------------------------
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals to a child process")
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("extra", [[], ["--record", "frames"], ["--view"]])
def test_a_signal_stops_evoae_run_with_everything_written(sig, code, extra, tmp_path):
    out = tmp_path / "out"
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_RENDER_DRIVER="software")
    process = subprocess.Popen(
        [sys.executable, "-m", "evoae.cli", "run", "--seconds", "120", "--population", "8",
         "--out", str(out), *[str(tmp_path / e) if e == "frames" else e for e in extra]],
        cwd=tmp_path, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for line in process.stderr:  # the first progress line: generations are running
        if line.startswith("generation"):
            break
    process.send_signal(sig)
    _, rest = process.communicate(timeout=60)
    assert process.returncode == code, rest
    settings = json.loads((out / "settings.json").read_text())
    assert settings["stop_reason"] == "interrupted" and settings["interrupted"]
    resumed = evoae.Evolution.load(out / "checkpoint.npz")
    result = evoae.load_result(out / "result.npz")
    assert resumed.generation == settings["generations_done"] == len(result.history) - 1
