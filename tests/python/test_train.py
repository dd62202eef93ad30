"""evoae.Trainer and `evoae train` (issue 12): backpropagation through the one run loop. A step
is checked against the gradient the core reports and the optimiser's rule; training lowers the
error; results and checkpoints are written, reloadable and continue bit for bit; any thread
count gives the same run; bad input is refused in one line with nothing half-written; the
Python keywords and the CLI options agree with the training settings table."""
import inspect
import json

import numpy as np
import pytest

import evoae
from evoae.cli.main import build_parser, main
from evoae.io import checkpoint
from evoae.train.settings import PER_NETWORK, TRAIN_SETTINGS
from idx_files import write_idx

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEN = evoae.data.scale(evoae.data.ten_digits())


def trainer(images=TEN, **kwargs) -> evoae.Trainer:
    return evoae.Trainer(evoae.varadi_network(), images, **{"seed": 3, **kwargs})


def assert_same_run(a, b):
    assert a.generation == b.generation and a.evaluations == b.evaluations
    np.testing.assert_array_equal(a.history, b.history)
    np.testing.assert_array_equal(a.genomes, b.genomes)
    np.testing.assert_array_equal(a.losses, b.losses)
    state_a, state_b = a.state(), b.state()
    for key in ("first", "second"):
        np.testing.assert_array_equal(state_a[key], state_b[key])
    assert a.settings == b.settings


def cli(capsys, *args) -> tuple:
    """main(args) in this process: (exit status, stdout, stderr lines)."""
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, [line for line in err.splitlines() if line]


# -- what a step does ---------------------------------------------------------------------------
def test_one_sgd_step_moves_the_genome_by_the_reported_gradient():
    # SGD's first step: v = g, p -= lr v, with g the gradient of the mean loss over the images
    net = evoae.varadi_network()
    start = np.random.default_rng(0).uniform(-1, 1, (1, net.num_params)).astype(np.float32)
    t = evoae.Trainer(net, TEN[:4], genomes=start, optimizer="sgd", learning_rate=0.1,
                      loss="mse")
    loss, grad = net.gradient(start[0], TEN[:4], loss="mse")
    assert t.best_error == pytest.approx(loss, rel=1e-6)  # step 0 measures the start
    t.step()
    expected = start[0] - np.float32(0.1) * grad
    np.testing.assert_allclose(t.genomes[0], expected, rtol=0, atol=1e-6)
    assert t.generation == 1 and len(t.history) == 2


def test_training_lowers_the_error_and_keeps_the_best_network():
    t = trainer(networks=3, learning_rate=[0.03, 0.01, 0.003])
    first = t.evaluate()
    t.run(generations=60)
    assert t.generation == 60 and len(t.history) == 61
    assert t.stop_reason == "generations"
    last = t.evaluate()
    assert last.mae < 0.75 * first.mae  # Adam from U(-1, 1): well below the start
    assert t.best_index == int(np.argmin(t.losses))
    np.testing.assert_array_equal(t.best_genome, t.genomes[t.best_index])
    assert t.history[-1] == t.losses[t.best_index] == t.best_error
    # the reported MAE is the best network's mean |error| per pixel, measured here again
    outputs = t.reconstructions()
    assert last.mae == pytest.approx(float(np.abs(outputs - TEN).mean()), rel=1e-5)


def test_holdout_images_are_not_trained_on():
    t = trainer(holdout=0.3, batch=3)
    assert (t.num_train, t.num_holdout) == (7, 3)
    assert t.images_per_generation == 3
    t.run(generations=20)
    train, held_out, every = (t.evaluate(part=p) for p in ("train", "holdout", "all"))
    # all images: the training and held-out parts' means, weighted by their sizes
    assert every.mae == pytest.approx((7 * train.mae + 3 * held_out.mae) / 10, rel=1e-5)
    with pytest.raises(ValueError, match="part must be one of all, train, holdout"):
        t.evaluate(part="test")
    with pytest.raises(ValueError, match="no images are held out"):
        trainer().evaluate(part="holdout")


def test_targets_and_labels():
    halves = TEN.reshape(10, 2, 392).mean(axis=2)
    t = evoae.Trainer(evoae.Network(28, 28).maxpool().dense(2), TEN, targets=halves, seed=1)
    t.run(generations=40)
    assert t.metric_name == "MAE" and t.history[-1] < t.history[0]
    labels = evoae.data.ten_digit_labels()
    c = evoae.Trainer(evoae.Network(28, 28).maxpool().maxpool().dense(10, "identity"), TEN,
                      labels=labels, seed=1)
    assert c.settings["loss"] == "softmax-ce" and c.metric_name == "error rate"
    c.run(generations=100)
    assert c.best_metric < 0.5 and c.history[-1] < c.history[0]


def test_same_run_at_one_and_two_threads():
    kwargs = dict(networks=2, batch=4, holdout=0.2, learning_rate=[0.02, 0.005])
    a, b = trainer(threads=1, **kwargs), trainer(threads=2, **kwargs)
    a.run(generations=15)
    b.run(generations=15)
    assert_same_run(a, b)


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(optimizer="sgd", momentum=0.8, batch=3, holdout=0.2),
    dict(optimizer="adamw", networks=2, learning_rate=[0.02, 0.005], weight_decay=0.1,
         init="glorot", loss="mse"),
], ids=["adam", "sgd-batch-holdout", "adamw-two-networks"])
def test_resume_is_bit_for_bit(tmp_path, kwargs):
    straight = trainer(**kwargs)
    straight.run(generations=25)
    first = trainer(**kwargs)
    first.run(generations=10)
    first.save(tmp_path / "c.npz")
    resumed = evoae.Trainer.load(tmp_path / "c.npz", threads=1)
    assert_same_run(resumed, first)
    resumed.run(generations=15)
    assert_same_run(resumed, straight)


def test_a_checkpoint_knows_its_system(tmp_path):
    trainer().save(tmp_path / "t.npz")
    evoae.Evolution(evoae.varadi_network(), TEN[:2], population=2).save(tmp_path / "e.npz")
    assert checkpoint.read_checkpoint(tmp_path / "t.npz").system == "backprop"
    with pytest.raises(ValueError, match="e.npz: a checkpoint of evolution, not of backprop"):
        evoae.Trainer.load(tmp_path / "e.npz")
    with pytest.raises(ValueError, match="t.npz: a checkpoint of backprop, not of evolution"):
        evoae.Evolution.load(tmp_path / "t.npz")


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(learning_rate=0), "learning_rate must be > 0"),
    (dict(optimizer="rmsprop"), "choose adam"),
    (dict(loss="nope"), "choose mae"),
    (dict(networks=2, learning_rate=[0.1, 0.2, 0.3]), "learning_rate"),
    (dict(seed=2**70), "seed must be"),
    (dict(rate=0.1), "unknown setting 'rate'"),
    (dict(holdout=0.99), "holdout"),  # 10 images: nothing left to train on
    (dict(batch=11), "batch"),
    (dict(genomes=np.zeros((2, 1397), np.float32)), "genomes"),
    (dict(genomes=np.full((1, 1397), np.nan, np.float32)), "NaN"),
])
def test_bad_settings_are_refused_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        trainer(**kwargs)


@pytest.mark.parametrize("images, message", [
    (TEN[:, :27], r"images must have shape \(28, 28\)"),
    (evoae.data.ten_digits(), "uint8"),
    (TEN * 255, "scale 0..255 pixels"),
    (TEN[:0], "none given"),
])
def test_bad_images_are_refused(images, message):
    with pytest.raises(ValueError, match=message):
        trainer(images)


def test_labels_that_do_not_fit_are_refused():
    net = evoae.Network(28, 28).maxpool().maxpool().dense(10, "identity")
    with pytest.raises(ValueError, match="labels"):
        evoae.Trainer(net, TEN, labels=np.arange(9))
    with pytest.raises(TypeError, match="labels must be integers"):
        evoae.Trainer(net, TEN, labels=np.zeros(10))


# -- the settings table -------------------------------------------------------------------------
def train_parser():
    commands = next(a for a in build_parser()._actions
                    if a.__class__.__name__ == "_SubParsersAction")
    return commands.choices["train"]


def test_keywords_options_and_defaults_are_the_table_s():
    signature = inspect.signature(evoae.Trainer).parameters
    options = {a.dest: a for a in train_parser()._actions}
    t = evoae.Trainer(evoae.varadi_network(), TEN)
    for name, spec in TRAIN_SETTINGS.items():
        assert signature[name].default == spec.default, name
        assert signature[name].kind is inspect.Parameter.KEYWORD_ONLY
        if spec.default is not None and name != "threads":
            assert t.settings[name] == spec.default, name
        assert options[name].option_strings == [spec.option] and options[name].default is None
        if spec.type == "choice":
            assert list(options[name].choices) == list(spec.choices)
    assert set(PER_NETWORK) >= {"learning_rate", "weight_decay"}
    assert all(TRAIN_SETTINGS[name].per_network for name in PER_NETWORK)


def test_per_network_options_take_comma_separated_lists(capsys):
    args = train_parser().parse_args(["--networks", "2", "--learning-rate", "0.01,0.003",
                                      "--beta1", "0.8"])
    assert args.learning_rate == [0.01, 0.003] and args.beta1 == 0.8
    with pytest.raises(SystemExit) as exit_:
        train_parser().parse_args(["--learning-rate", "0.01,-1"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "argument --learning-rate: must be a finite number > 0, got '-1' in '0.01,-1'" in err


# -- evoae train --------------------------------------------------------------------------------
TRAIN_ARGS = ["--steps", "30", "--seed", "2", "--networks", "2", "--learning-rate",
              "0.02,0.005", "--holdout", "0.2", "--quiet"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("train") / "out"
    assert main(["train", *TRAIN_ARGS, "--out", str(out)]) == 0
    return out


def test_train_writes_every_output_and_they_reload(trained):
    result = evoae.load_result(trained / "result.npz")
    python = trainer(seed=2, networks=2, learning_rate=[0.02, 0.005], holdout=0.2)
    python.run(generations=30)
    np.testing.assert_array_equal(result.genome, python.best_genome)
    np.testing.assert_array_equal(result.history, python.history)
    np.testing.assert_array_equal(result.images, TEN)
    settings = json.loads((trained / "settings.json").read_text())
    assert settings == result.settings
    assert settings["steps_done"] == 30 and settings["stop"]["steps"] == 30
    assert settings["stop_reason"] == "steps" and settings["system"] == "backprop"
    assert settings["operators"]["learning_rate"] == [0.02, 0.005]
    assert (settings["train_images"], settings["holdout_images"]) == (8, 2)
    assert settings["holdout_mae"] == pytest.approx(python.evaluate(part="holdout").mae)
    assert settings["best_mae"] == pytest.approx(
        float(np.abs(result.reconstructions() - TEN).mean()), rel=1e-5)
    for name in ("reconstructions.png", "error_curve.png"):
        assert (trained / name).read_bytes().startswith(PNG_SIGNATURE)
    resumed = evoae.Trainer.load(trained / "checkpoint.npz")
    assert_same_run(resumed, python)


def test_train_resumes_bit_for_bit(trained, tmp_path, capsys):
    half = [a if a != "30" else "12" for a in TRAIN_ARGS]
    assert cli(capsys, "train", *half, "--out", tmp_path / "a")[0] == 0
    status, out, err = cli(capsys, "train", "--resume", tmp_path / "a" / "checkpoint.npz",
                           "--steps", "18", "--quiet", "--out", tmp_path / "b")
    assert status == 0, err
    assert out.startswith("done (steps): step 30, best MAE ") and "held-out MAE" in out
    a, b = (evoae.load_result(p / "result.npz") for p in (trained, tmp_path / "b"))
    np.testing.assert_array_equal(a.genome, b.genome)
    np.testing.assert_array_equal(a.history, b.history)
    status, _, err = cli(capsys, "train", "--resume", tmp_path / "a" / "checkpoint.npz",
                         "--learning-rate", "0.1", "--out", tmp_path / "c")
    assert status == 2 and err == ["evoae: error: --resume continues with the checkpoint's "
                                   "settings: drop --learning-rate"]


def test_train_progress_and_header(tmp_path, capsys):
    status, out, err = cli(capsys, "train", "--steps", "5", "--optimizer", "sgd",
                           "--out", tmp_path)
    assert status == 0
    assert err[0].startswith(f"evoae {evoae.__version__} train: 1397 parameters, 10 images, "
                             "1 network, seed 0; ")
    assert "optimizer sgd" in err[0]
    assert any(line.startswith("step ") and " loss " in line for line in err[1:])
    assert out.count("\n") == 1 and out.startswith("done (steps): step 5, best MAE ")


def test_train_another_network_and_data(tmp_path, capsys):
    rng = np.random.default_rng(0)
    path = write_idx(tmp_path / "mine-idx3-ubyte.gz",
                     rng.integers(0, 256, size=(6, 28, 28), dtype=np.uint8))
    spec = evoae.network_spec(evoae.Network(28, 28).dense(8).dense(784).reshape(28, 28, 1))
    (tmp_path / "net.json").write_text(spec)
    status, _, err = cli(capsys, "train", "--data", path, "--samples", "5", "--network",
                         tmp_path / "net.json", "--steps", "4", "--quiet", "--out",
                         tmp_path / "out")
    assert status == 0, err
    result = evoae.load_result(tmp_path / "out" / "result.npz")
    assert evoae.network_spec(result.network) == spec and len(result.images) == 5
    assert result.settings["network"] == spec


@pytest.mark.parametrize("args, words", [
    (["--holdout", "0.99"], ["holdout"]),  # 10 images: none left to train on
    (["--networks", "2", "--learning-rate", "0.1,0.2,0.3"], ["learning_rate"]),
    (["--samples", "11"], ["--samples 11"]),
])
def test_train_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, args, words):
    out = tmp_path / "out"
    status, _, err = cli(capsys, "train", *args, "--steps", "1", "--out", out)
    assert status == 2 and len(err) == 1, err
    for word in words:
        assert word in err[0], (word, err[0])
    assert not out.exists()


def test_train_refuses_a_bad_network_description(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--network", '[["input", 28, 28], ["nope"]]', "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1
    assert "argument --network: " in err and "unknown layer kind 'nope'" in err


def test_train_refuses_a_bad_idx_file(tmp_path, capsys):
    bad = tmp_path / "bad-idx3-ubyte.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00" + b"garbage" * 10)
    status, _, err = cli(capsys, "train", "--data", bad, "--out", tmp_path / "out")
    assert status == 2 and len(err) == 1 and bad.name in err[0]
    assert not (tmp_path / "out").exists()


def test_train_help():
    text = " ".join(train_parser().format_help().split())
    for option in ("--steps", "--generations", "--seconds", "--target", "--patience",
                   "--networks", "--learning-rate", "--optimizer", "--loss", "--batch",
                   "--holdout", "--init", "--data", "--samples", "--network", "--out",
                   "--resume", "--checkpoint-every", "--threads"):
        assert option in text, option
    assert "{adam,adamw,sgd}" in text and "or one per network, comma-separated" in text
    for words in ("result.npz", "checkpoint.npz", "130 stopped by Ctrl-C", "143 by SIGTERM"):
        assert words in text, words


# -- evoae compare ------------------------------------------------------------------------------
def test_compare_settings_name_backprop():
    from evoae.cli.compare import DEFAULT_SETTINGS, parse_setting

    assert "backprop" in DEFAULT_SETTINGS
    assert parse_setting("backprop") == ("backprop", {"system": "backprop"})
    assert parse_setting("backprop+learning_rate=0.003") == (
        "backprop+learning_rate=0.003", {"system": "backprop", "learning_rate": 0.003})
    assert parse_setting("mine:system=backprop,optimizer=sgd")[1] == dict(system="backprop",
                                                                         optimizer="sgd")
