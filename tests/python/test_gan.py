"""evoae gan's Python side: the system (same seed, same run at any thread count; settings
refused by name), the measures against hand-worked cases, the losses' binding against their
formulas, the live view's frames, and the command on a toy and on small IDX files."""
import json

import numpy as np
import pytest

import evoae
from evoae import _core
from evoae.nn.init import glorot_genome
from evoae.systems.gan import Gan, toy_networks
from evoae.systems.gan_measures import (TOYS, class_tvd, frechet_distance, toy_measures)
from idx_files import mnist_like, write_idx


def small_gan(method="egan", seed=3, threads=1, **settings):
    g, d = toy_networks(noise=4, width=16)
    return Gan(g, d, TOYS["grid"].sample(500, seed=0), method=method, seed=seed,
               threads=threads, batch=16, eval_batch=16, **settings)


@pytest.mark.parametrize("method", ["gan", "egan", "cegan"])
def test_same_seed_same_samples_at_any_thread_count(method):
    runs = []
    for threads in (1, 2):
        gan = small_gan(method, threads=threads)
        gan.run(generations=6)
        runs.append(gan.samples(50, seed=1))
        assert gan.generation == 6
        assert sum(gan.selected.values()) == 6 * gan._core.parents
    np.testing.assert_array_equal(runs[0], runs[1])
    other = small_gan(method, seed=4)
    other.run(generations=6)
    assert not np.array_equal(other.samples(50, seed=1), runs[0])


def test_settings_are_refused_by_name():
    with pytest.raises(ValueError, match="crossovers"):
        small_gan("cegan", crossovers=4)  # 3 mutants make 3 pairs
    with pytest.raises(ValueError, match="parents"):
        small_gan("gan", parents=2)
    with pytest.raises(ValueError, match="unknown GAN setting"):
        small_gan("egan", speed=2)
    with pytest.raises(ValueError, match="method"):
        small_gan("wgan")
    with pytest.raises(ValueError, match="least-squares"):
        small_gan("egan", mutations=["hinge"])
    g, d = toy_networks(noise=4, width=16)
    with pytest.raises(ValueError, match="real samples"):
        Gan(g, d, np.full((10, 2), np.nan))
    with pytest.raises(IndexError, match="parent 1 of 1"):
        small_gan("egan")._core.generator_genome(1)
    for bad in (np.zeros((0, 2)), np.zeros((5, 3))):
        with pytest.raises(ValueError, match="real images must be"):
            Gan(g, d, bad)


def test_glorot_genome_ranges():
    g, _ = toy_networks(noise=4, width=16)
    genome = glorot_genome((g,), np.random.default_rng(0))
    first = g.layers[1]
    weights = genome[first["offset"]:first["offset"] + first["num_weights"]]
    assert np.abs(weights).max() <= np.sqrt(6 / (4 + 16))
    assert np.abs(weights).max() > 0.8 * np.sqrt(6 / (4 + 16))
    biases = genome[first["offset"] + first["num_weights"]:first["offset"] + first["num_params"]]
    assert not biases.any()


def test_losses_binding_matches_the_formulas():
    d = np.linspace(-6, 6, 25).astype(np.float32)
    s = 1 / (1 + np.exp(-d.astype(np.float64)))
    want = {"minimax": (np.log(1 - s), -s), "nonsaturating": (-np.log(s), s - 1),
            "least-squares": ((s - 1) ** 2, 2 * (s - 1) * s * (1 - s)),
            "real": (-np.log(s), s - 1), "fake": (-np.log(1 - s), s)}
    assert _core.generator_loss_names() == ["minimax", "nonsaturating", "least-squares"]
    for name, (loss, slope) in want.items():
        got_loss, got_slope = _core.gan_losses(name, d)
        np.testing.assert_allclose(got_loss, loss, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got_slope, slope, rtol=1e-5, atol=1e-6)


def test_toy_measures_hand_worked():
    toy = TOYS["grid"]
    # 100 points on each of the first 5 modes, 50 far away: 5 modes, 500 / 550 good.
    points = np.concatenate([np.repeat(toy.modes[:5], 100, axis=0),
                             np.full((50, 2), 9.0)])
    points[:, 0] += 0.1  # 2 standard deviations off: still good
    assert toy_measures(toy, points) == {"modes_covered": 5, "high_quality": 500 / 550}
    # 4 standard deviations off: none good, none covered.
    assert toy_measures(toy, toy.modes + 0.2)["high_quality"] == 0.0
    # A mode needs a fifth of its fair share: 2 points of 25 * 100 do not cover it.
    few = np.concatenate([np.repeat(toy.modes[:1], 2498, axis=0), toy.modes[1:2].repeat(2, 0)])
    assert toy_measures(toy, few)["modes_covered"] == 1
    ring = TOYS["ring"].sample(4000, seed=1)
    assert toy_measures(TOYS["ring"], ring)["modes_covered"] == 8
    assert toy_measures(TOYS["ring"], ring)["high_quality"] > 0.98  # 3 sigma: 98.9% in 2-D


def test_frechet_distance_hand_worked():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 3))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    shift = np.array([1.0, -2.0, 0.5])
    assert frechet_distance(a, a + shift) == pytest.approx(5.25, rel=1e-9)
    # Diagonal covariances: sum of (sigma_a - sigma_b)^2 per axis.
    scale = np.array([1.0, 2.0, 3.0])
    stds = a.std(0, ddof=1)
    want = ((stds - scale * stds) ** 2).sum()
    b = (a - a.mean(0)) * scale + a.mean(0)
    assert frechet_distance(a, b) == pytest.approx(want, rel=1e-6)
    with pytest.raises(ValueError, match="two samples"):
        frechet_distance(a[:1], a)


def test_class_tvd_hand_worked():
    assert class_tvd(np.array([0, 0, 1, 1]), np.array([0, 1, 2, 3])) == pytest.approx(0.5)
    assert class_tvd(np.array([3, 3]), np.array([3])) == 0.0
    assert class_tvd(np.zeros(5, int), np.ones(5, int)) == 1.0


def test_live_frames():
    from evoae.viewer.gan import HEADER, SIZE, gan_frame

    digits = gan_frame(np.ones((64, 784), np.float32), None, "egan")
    assert digits.shape == (HEADER + SIZE, SIZE, 3)
    assert (digits[HEADER + 2, 2] == 255).all()  # a white pixel of the first digit
    points = gan_frame(TOYS["ring"].sample(100, 0), TOYS["ring"], "gan")
    assert points.shape == (HEADER + SIZE, SIZE, 3)
    assert (points[HEADER:] == (120, 180, 255)).all(axis=2).any()


def test_gan_command_on_a_toy(tmp_path):
    from evoae import cli

    out = tmp_path / "toy"
    code = cli.main(["gan", "ring", "--generations", "8", "--seeds", "0,1", "--snapshots",
                     "2", "--threads", "2", "--out", str(out)])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    for method in ("gan", "egan", "cegan"):
        for seed in ("0", "1"):
            entry = report[method][seed]
            assert 0 <= entry["modes_covered"] <= 8
            assert 0.0 <= entry["high_quality"] <= 1.0
            assert entry["generations"] == 8
    assert "| cegan | 1 |" in (out / "table.md").read_text()
    for name in ("measures.png", "samples-over-time.png", "samples/egan-seed1-000008.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_gan_command_on_idx_files(tmp_path):
    from evoae import cli

    images, labels = mnist_like(2500, seed=2)
    image_file = write_idx(tmp_path / "images.gz", images)
    label_file = write_idx(tmp_path / "labels.gz", labels)
    out = tmp_path / "mnist"
    code = cli.main(["gan", "mnist", "--images", str(image_file), "--labels", str(label_file),
                     "--generations", "2", "--seeds", "5", "--methods", "gan,cegan",
                     "--snapshots", "1", "--classifier-steps", "30", "--batch", "8",
                     "--out", str(out)])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert 0.5 < report["classifier_accuracy"] <= 1.0  # noisy copies of ten digits
    for method in ("gan", "cegan"):
        assert report[method]["5"]["frechet"] >= 0.0
        assert 0.0 <= report[method]["5"]["class_tvd"] <= 1.0
    assert "egan" not in report


def test_long_setting_takes_one_d_step_and_is_for_toys(tmp_path, capsys):
    from evoae import cli
    from evoae.cli.gan import LONG_TOY

    settings = {}
    for name, extra in (("long", ["--long"]), ("plain", []), ("long3", ["--long", "--d-steps",
                                                                         "3"])):
        out = tmp_path / name
        assert cli.main(["gan", "ring", "--generations", "3", "--methods", "gan", "--seeds",
                         "0", "--snapshots", "1", "--threads", "1", "--out", str(out),
                         *extra]) == 0
        settings[name] = json.loads((out / "report.json").read_text())["settings"]
    assert LONG_TOY["d_steps"] == 1 and LONG_TOY["generations"] == 20000
    assert settings["long"]["d_steps"] == 1
    assert settings["plain"]["d_steps"] == settings["long3"]["d_steps"] == 3
    assert cli.main(["gan", "mnist", "--long", "--out", str(tmp_path / "m")]) == 2
    assert "--long is a setting of the toys" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["gan", "grid", "--long", "--quick"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_glorot_genome_of_the_convolutional_pair():
    # Each layer's weights within its Glorot range and filling most of it; biases 0.
    from evoae.systems.gan import mnist_conv_networks

    g, d = mnist_conv_networks()
    fans = {"conv": lambda a: (a[0] * a[1], a[2] * a[0] * a[1]),
            "conv_transpose": lambda a: (a[2] * a[0] * a[1], a[0] * a[1])}
    for net in (g, d):
        genome = glorot_genome((net,), np.random.default_rng(3))
        for layer in net.layers:
            if layer["kind"] not in fans:
                continue
            limit = np.sqrt(6 / sum(fans[layer["kind"]](layer["arguments"])))
            weights = genome[layer["offset"]:layer["offset"] + layer["num_weights"]]
            assert limit * 0.7 < np.abs(weights).max() <= limit


def test_the_convolutional_pair_trains_the_same_at_any_thread_count(tmp_path):
    from evoae.systems.gan import mnist_conv_networks

    real = np.random.default_rng(1).uniform(0, 1, (64, 28, 28)).astype(np.float32)
    runs = []
    for threads in (1, 2):
        g, d = mnist_conv_networks(noise=8)
        system = Gan(g, d, real, method="cegan", seed=4, threads=threads, batch=8,
                     eval_batch=8)
        system.run(generations=2)
        runs.append(system.samples(6, seed=9))
    assert runs[0].shape == (6, 784)
    assert np.array_equal(runs[0], runs[1])


def test_gan_command_errors(tmp_path, capsys):
    from evoae import cli

    assert cli.main(["gan", "mnist", "--out", str(tmp_path / "x")]) == 2
    assert "--images and --labels" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["gan", "grid", "--methods", "gan,wgan"])
    assert "unknown method 'wgan'" in capsys.readouterr().err
    assert cli.main(["gan", "grid", "--networks", "conv", "--out", str(tmp_path / "c")]) == 2
    assert "--networks conv is for mnist" in capsys.readouterr().err


def test_live_view_draws_and_q_stops(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")  # headless: SDL's dummy driver
    from evoae.run import Progress
    from evoae.viewer.gan import GanViewer

    viewer = GanViewer(TOYS["grid"])
    if viewer.window is None:
        pytest.skip("no SDL library")
    try:
        gan = small_gan("gan")
        draw = viewer.callback(gan, "gan", 0)
        progress = Progress(0, 1.0, 0.5, 0.0, 0.0, "D(G(z))")
        assert draw(progress) is False
        viewer.window.push_key("q")
        assert draw(progress) is True and viewer.closed
    finally:
        viewer.close()
