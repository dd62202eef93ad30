"""The tied autoencoder: dense layers with an activation and a scale, their tied (transposed)
form against a NumPy reference, the genome holding each tied weight once, descriptions that
save and reload, layer-wise evolution with frozen layers, the GA-assisted recipe (its parts
against evoae.Evolution and evoae.Trainer run by hand), and `evoae tied` on small runs."""
import json
import math

import numpy as np
import pytest

import evoae
from evoae.systems import tied
from idx_files import mnist_like, write_idx

ACTS = {
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "relu": lambda x: np.maximum(x, 0.0),
    "tanh": np.tanh,
    "identity": lambda x: x,
}


def numpy_tied(genome, images, sizes, acts, scales):
    """The encoder dense layers then their mirrors, written from the definition in float64:
    layer i: h = act_i(scale_i (W_i h + b_i)); mirror of layer i: act(scale_i (W_i^T h + c_i))."""
    g = genome.astype(np.float64)
    h = images.reshape(len(images), -1).astype(np.float64)
    at, weights = 0, []
    for n_in, n_out, act, s in zip(sizes[:-1], sizes[1:], acts["encoder"], scales):
        W = g[at:at + n_in * n_out].reshape(n_out, n_in)
        b = g[at + n_in * n_out:at + n_in * n_out + n_out]
        at += n_in * n_out + n_out
        weights.append((W, s))
        h = ACTS[act](s * (h @ W.T + b))
    for (W, s), act in zip(reversed(weights), acts["decoder"]):
        c = g[at:at + W.shape[1]]
        at += W.shape[1]
        h = ACTS[act](s * (h @ W + c))
    assert at == len(g)
    return h


@pytest.fixture(scope="module")
def digits():
    return evoae.data.scale(evoae.data.ten_digits())


@pytest.mark.parametrize("act, out_act, scale", [("relu", "identity", 0.2), ("tanh", "sigmoid", 1.0),
                                                 ("sigmoid", "relu", 0.5),
                                                 ("identity", "tanh", 0.07)])
def test_tied_layer_forward_matches_numpy(digits, act, out_act, scale):
    net = evoae.Network(28, 28).dense(12, act, scale).dense_tied(1, out_act).reshape(28, 28, 1)
    genome = np.random.default_rng(1).uniform(-1, 1, net.num_params).astype(np.float32)
    got = net.forward(genome, digits)
    want = numpy_tied(genome, digits, (784, 12), {"encoder": [act], "decoder": [out_act]},
                      [scale])
    assert got.shape == (10, 28, 28)
    np.testing.assert_allclose(got.reshape(10, -1), want, atol=2e-5 * max(1, np.abs(want).max()))
    # The population path (8 genomes per SIMD block, other lanes) gives the same.
    pop = np.stack([genome, genome[::-1].copy()])
    outs = net.forward_population(pop, digits)
    np.testing.assert_array_equal(outs[0], got)


def test_deep_tied_autoencoder_matches_numpy(digits):
    sizes, scales = (784, 20, 9, 4), (0.3, 0.5, 0.9)
    net = tied.autoencoder_network(sizes, "relu", "sigmoid", scales, (28, 28))
    assert [d["kind"] for d in net.layers] == ["input", "dense", "dense", "dense", "dense_tied",
                                               "dense_tied", "dense_tied", "reshape"]
    assert [d["source"] for d in net.layers[4:7]] == [3, 2, 1]
    genome = np.random.default_rng(2).uniform(-1, 1, net.num_params).astype(np.float32)
    want = numpy_tied(genome, digits, sizes,
                      {"encoder": ["relu"] * 3, "decoder": ["relu", "relu", "sigmoid"]}, scales)
    np.testing.assert_allclose(net.forward(genome, digits).reshape(10, -1), want, atol=1e-5)


def test_genome_holds_each_tied_weight_once(digits):
    net = evoae.Network(28, 28).dense(50, "relu").dense_tied(1, "identity").reshape(28, 28, 1)
    assert net.num_params == 784 * 50 + 50 + 784
    d, t = net.layers[1], net.layers[2]
    assert (d["num_weights"], d["num_biases"]) == (784 * 50, 50)
    assert (t["kind"], t["num_weights"], t["num_biases"], t["offset"]) == (
        "dense_tied", 0, 784, 784 * 50 + 50)
    assert (t["source"], t["activation"], t["scale"]) == (1, "identity", 1.0)
    # One weight W[3][5] is both the encoder's and (transposed) the decoder's: changing its
    # one genome entry changes code unit 3 and the decoder's output through W^T's [5][3].
    genome = np.random.default_rng(3).uniform(-0.1, 0.1, net.num_params).astype(np.float32)
    genome[784 * 50:784 * 50 + 50] = 1.0  # every code unit active (relu > 0)
    image = np.zeros((1, 28, 28), np.float32)
    image[0, 0, 5] = 1.0  # only pixel 5 is on: code unit i = W[i][5] + b[i]
    before = net.forward(genome, image).ravel()
    changed = genome.copy()
    changed[3 * 784 + 5] += 0.5
    after = net.forward(changed, image).ravel()
    # out[j] = sum_i W[i][j] h_i + c_j; h_3 grew by 0.5 and W[3][5] by 0.5: out[5] moves by
    # (W35 + 0.5) (h3 + 0.5) - W35 h3, every other out[j] by W[3][j] * 0.5.
    w35 = float(genome[3 * 784 + 5])
    h3 = w35 + 1.0
    assert after[5] - before[5] == pytest.approx((w35 + 0.5) * (h3 + 0.5) - w35 * h3, abs=1e-5)
    j = 100
    assert after[j] - before[j] == pytest.approx(float(genome[3 * 784 + j]) * 0.5, abs=1e-5)


def test_tied_builder_errors_name_the_problem():
    with pytest.raises(ValueError, match="not a dense layer"):
        evoae.Network(28, 28).conv(5, 5, 1).dense_tied(1)
    with pytest.raises(ValueError, match="10 outputs"):
        evoae.Network(28, 28).dense(10).dense(5).dense_tied(1)
    with pytest.raises(ValueError, match="earlier layer"):
        evoae.Network(28, 28).dense(10).dense_tied(2)
    with pytest.raises(ValueError, match="unknown activation"):
        evoae.Network(28, 28).dense(10, "softmax")
    with pytest.raises(ValueError, match="scale"):
        evoae.Network(28, 28).dense(10, "relu", 0.0)


def test_specs_with_activations_and_scales_save_and_reload(tmp_path):
    net = tied.autoencoder_network((784, 30, 7), "tanh", "identity",
                                   (math.sqrt(6 / 814), 0.25), (28, 28))
    spec = evoae.network_spec(net)
    calls = json.loads(spec)
    assert calls[1] == ["dense", 30, "tanh", pytest.approx(math.sqrt(6 / 814), rel=1e-7)]
    assert calls[3:5] == [["dense_tied", 2, "tanh"], ["dense_tied", 1, "identity"]]
    again = evoae.network_from_spec(spec)
    assert evoae.network_spec(again) == spec and repr(again) == repr(net)
    assert again.layers[1]["scale"] == net.layers[1]["scale"]  # the same float, bit for bit
    # A sigmoid dense layer of scale 1 keeps the paper's description.
    plain = evoae.Network(28, 28).dense(5).dense_tied(1)
    assert json.loads(evoae.network_spec(plain))[1:] == [["dense", 5], ["dense_tied", 1]]
    assert "dense(30, \"tanh\", 0.0858" in net.summary()
    for bad, message in (('[["input", 28, 28], ["dense", 5, "softmax"]]', "unknown activation"),
                         ('[["input", 28, 28], ["dense", 5], ["dense_tied", 3]]',
                          "the source must be the index of an earlier layer"),
                         ('[["input", 28, 28], ["dense", 5, "relu", -1.0]]',
                          "scale must be a finite number > 0")):
        with pytest.raises(ValueError, match=message):
            evoae.network_from_spec(bad)


def test_frozen_layer_does_not_change_while_the_next_is_evolved(digits):
    settings = tied.TiedSettings(sizes=(784, 16, 8), population=8, elites=0, generations=6,
                                 seed=4, threads=1,
                                 operators=dict(tied.RECIPE, selection="tournament"))
    snapshots = {}

    def stage_done(k, result):
        snapshots[k] = result.genome.copy()

    model = tied.train_layerwise(digits, settings, stage_callback=stage_done)
    assert [s.generations for s in model.stages] == [6, 6]
    first = model.stages[0]
    np.testing.assert_array_equal(first.genome, snapshots[1])  # unchanged by pair 2
    dense1 = 784 * 16 + 16
    np.testing.assert_array_equal(model.genome()[:dense1], snapshots[1][:dense1])
    np.testing.assert_array_equal(model.genome()[-784:], snapshots[1][dense1:])  # its mirror
    # Pair 2 was trained on the codes of the frozen layer 1: they are its reconstruction's
    # input, so its RMSE is measured on exactly those codes.
    enc1 = evoae.Network(28, 28).dense(16, "relu", model.scales[0])
    codes = enc1.forward(snapshots[1][:dense1], digits).reshape(10, 1, 16)
    pair2 = tied.stage_network(16, 8, "relu", "relu", model.scales[1])
    out = pair2.forward(model.stages[1].genome, codes)
    assert model.stages[1].rmse == pytest.approx(float(np.sqrt(np.mean((out - codes) ** 2))))
    # The whole model's codes are layer 2 applied to those codes.
    enc2 = evoae.Network(1, 16).dense(8, "relu", model.scales[1])
    np.testing.assert_array_equal(
        model.encode(digits), enc2.forward(model.stages[1].genome[:16 * 8 + 8], codes))
    # The reported RMSE of pair 1 is its best genome's, on the images.
    assert first.rmse == pytest.approx(
        float(np.sqrt(np.mean((first_stage_out(model, digits) - digits) ** 2))), rel=1e-6)


def first_stage_out(model, images):
    s = model.stages[0]
    net = tied.stage_network(784, s.n_out, model.activation, model.output_activation,
                             model.scales[0], (28, 28))
    return net.forward(s.genome, images)


def test_settings_are_checked():
    for bad, message in ((dict(population=0), "population"), (dict(elites=16), "elites"),
                         (dict(sizes=(784,)), "sizes"), (dict(activation="softmax"), "activation"),
                         (dict(scale=-1.0), "scale"), (dict(generations=None), "never stops"),
                         (dict(mutation_rate=2.0), "mutation_rate")):
        with pytest.raises(ValueError, match=message):
            tied.TiedSettings(**bad).check()
    tied.TiedSettings(population=12, elites=3).check()  # no multiple-of-8 rule any more


def test_split_is_fixed_by_the_seed_and_disjoint():
    a, b = tied.split_indices(100, 60, 30, seed=5)
    assert len(a) == 60 and len(b) == 30 and not set(a) & set(b)
    a2, b2 = tied.split_indices(100, 60, 30, seed=5)
    assert (a == a2).all() and (b == b2).all()
    with pytest.raises(ValueError, match=r"train \(80\) \+ held-out \(30\) images must be"):
        tied.split_indices(100, 80, 30, seed=5)


# -- the GA-assisted recipe ----------------------------------------------------------------------

def tiny_settings(recipe="assisted", **changes):
    """Two small pairs on the ten digits, a few generations: seconds."""
    base = dict(sizes=(784, 16, 8), activation="tanh", population=8, elites=4, generations=4,
                seed=3, threads=1, recipe=recipe)
    if recipe == "assisted":
        base.update(finetune_steps=10, finetune=dict(tied.FINETUNE, learning_rate=0.01,
                                                     batch=None),
                    learning=dict(tied.LEARNING, gradient_steps=4, gradient_rate=0.03,
                                  batch=None))
    return tied.TiedSettings(**{**base, **changes})


def test_assisted_recipe_reconstructs_better_than_the_ga_at_equal_generations(digits):
    ga = tied.train_layerwise(digits, tiny_settings(recipe="ga"))
    learned = tied.train_layerwise(digits, tiny_settings(finetune_steps=0))
    tuned = tied.train_layerwise(digits, tiny_settings())
    for plain, memetic, final in zip(ga.stages, learned.stages, tuned.stages):
        assert plain.generations == memetic.generations == final.generations == 4
        assert plain.finetune is None and plain.evolved_rmse is None
        # Learning in the GA alone beats the GA; fine-tuning the selected lowers it further.
        assert memetic.rmse < plain.rmse and final.rmse < plain.rmse
        assert memetic.finetune.steps == 0 and memetic.rmse == memetic.evolved_rmse
        assert final.finetune.steps == 10
        assert final.rmse < final.evolved_rmse
    # Pair 1 sees the same images in all three (pair 2 the codes of each one's layer 1), so
    # its RMSEs compare directly: 0.32 by the GA, 0.20 with learning, 0.19 fine-tuned.
    assert tuned.stages[0].rmse < learned.stages[0].rmse < 0.7 * ga.stages[0].rmse


def test_assisted_pair_is_the_memetic_evolution_then_the_trainer(digits):
    """Pair 1 of the recipe, remade by hand from its two parts with the keywords the recipe
    names: the same genome bit for bit."""
    settings = tiny_settings(sizes=(784, 16),
                             learning=dict(tied.LEARNING, gradient_steps=2, batch=5,
                                           gradient_optimizer="sgd", gradient_rate=0.05))
    model = tied.train_layerwise(digits, settings)
    stage = model.stages[0]
    net = tied.stage_network(784, 16, "tanh", "identity", model.scales[0], (28, 28))
    evolution = evoae.Evolution(net, digits, population=8, mutations=stage.mutations,
                                seed=3 + 1000, threads=1, elites=4,
                                **dict(tied.RECIPE, truncation=4), gradient_steps=2,
                                memetic="lamarckian", gradient_optimizer="sgd",
                                gradient_rate=0.05, gradient_loss="mse", batch=5)
    evolution.run(generations=4)
    np.testing.assert_array_equal(evolution.history, stage.history)
    trainer = evoae.Trainer(net, digits, genomes=evolution.best_genome[None, :], seed=3 + 1000,
                            threads=1, loss="mse", optimizer="adam", learning_rate=0.01)
    trainer.run(generations=10)
    np.testing.assert_array_equal(trainer.best_genome, stage.genome)
    np.testing.assert_array_equal(trainer.history, stage.finetune.history)
    assert stage.settings["gradient_steps"] == 2 and stage.settings["memetic"] == "lamarckian"
    assert stage.finetune.settings["learning_rate"] == 0.01
    assert stage.evolved_rmse == pytest.approx(float(np.sqrt(np.mean(
        (net.forward(evolution.best_genome, digits) - digits) ** 2))), rel=1e-6)


def test_assisted_recipe_gives_the_same_model_at_1_and_2_threads(digits):
    settings = dict(learning=dict(tied.LEARNING, gradient_steps=2, batch=6),
                    finetune=dict(tied.FINETUNE, batch=4))
    one = tied.train_layerwise(digits, tiny_settings(threads=1, **settings))
    two = tied.train_layerwise(digits, tiny_settings(threads=2, **settings))
    np.testing.assert_array_equal(one.genome(), two.genome())
    for a, b in zip(one.stages, two.stages):
        np.testing.assert_array_equal(a.history, b.history)
        np.testing.assert_array_equal(a.finetune.history, b.finetune.history)


def test_assisted_settings_are_checked():
    for bad, message in ((dict(recipe="memetic"), "recipe must be one of ga, assisted"),
                         (dict(learning={"gradient_steps": 0}), r"gradient_steps'\] >= 1"),
                         (dict(learning={}), r"gradient_steps'\] >= 1"),
                         (dict(finetune_steps=None), "fine-tuning never stops"),
                         (dict(finetune_steps=-1), "finetune_steps must be an integer >= 0"),
                         (dict(finetune_steps=2.5), "finetune_steps must be an integer >= 0"),
                         (dict(finetune_seconds=0.0), "finetune_seconds must be > 0")):
        with pytest.raises(ValueError, match=message):
            tied.TiedSettings(**dict(dict(recipe="assisted"), **bad)).check()
    tied.TiedSettings(recipe="assisted", finetune_steps=None, finetune_seconds=3.0).check()
    for name, value in (("learning", {}), ("finetune", {"learning_rate": 0.1}),
                        ("finetune_steps", 5), ("finetune_seconds", 2.0)):
        with pytest.raises(ValueError, match=f"{name} is a setting of the assisted recipe: it "
                                             "needs recipe 'assisted', got 'ga'"):
            tied.TiedSettings(**{name: value}).check()


def test_assisted_settings_the_core_refuses_name_the_setting(digits):
    for learning, message in (({"gradient_steps": 1, "gradient_rate": -1.0}, "gradient_rate"),
                              ({"gradient_steps": 1, "memetic": "darwinian"}, "memetic")):
        with pytest.raises(ValueError, match=message):
            tied.train_layerwise(digits, tiny_settings(learning=learning))
    with pytest.raises(ValueError, match="learning_rate"):
        tied.train_layerwise(digits, tiny_settings(finetune={"learning_rate": -1.0}))


# -- the command -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_mnist(tmp_path_factory):
    """400 images: the ten digits shifted by up to 2 pixels, with noise; labels 0..9."""
    folder = tmp_path_factory.mktemp("mnist")
    images, labels = mnist_like(400, seed=6)
    return write_idx(folder / "images.gz", images), write_idx(folder / "labels.gz", labels)


def test_tied_command_small_run_writes_report_and_pictures(small_mnist, tmp_path):
    pytest.importorskip("sklearn")
    from evoae import cli

    images, labels = small_mnist
    out = tmp_path / "tied"
    code = cli.main(["tied", "--quick", "--data", str(images), "--labels", str(labels),
                     "--sizes", "784,24,6", "--fit-images", "40", "--train", "300",
                     "--held-out", "100", "--generations", "5", "--threads", "2",
                     "--out", str(out), "--quiet"])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    for key in ("svm_accuracy", "pca_svm_accuracy", "pixels_svm_accuracy", "rmse", "pca_rmse",
                "settings", "seconds", "stages"):
        assert key in report
    for key in ("svm_accuracy", "pca_svm_accuracy", "pixels_svm_accuracy"):
        assert 0.0 <= report[key] <= 1.0
    assert report["pixels_svm_accuracy"] > 0.5  # shifted noisy copies of ten digits
    assert report["settings"]["sizes"] == [784, 24, 6]
    assert report["settings"]["operators"] == tied.RECIPE
    assert [s["generations"] for s in report["stages"]] == [5, 5]
    assert (out / "reconstructions.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The saved model reconstructs with the reported RMSE.
    net, genome, settings = tied.load_model(out / "tied-model.npz")
    assert settings["sizes"] == [784, 24, 6]
    all_images = evoae.data.scale(evoae.data.load_idx(images))
    _, held_out = tied.split_indices(400, 300, 100, seed=0)
    recon = net.forward(genome, all_images[held_out])
    rmse = float(np.sqrt(np.mean((recon - all_images[held_out]) ** 2, dtype=np.float64)))
    assert rmse == pytest.approx(report["rmse"], rel=1e-6)


def test_tied_command_assisted_small_run(small_mnist, tmp_path, capsys):
    pytest.importorskip("sklearn")
    from evoae import cli

    images, labels = small_mnist
    out = tmp_path / "assisted"
    code = cli.main(["tied", "--assisted", "--quick", "--data", str(images), "--labels",
                     str(labels), "--sizes", "784,24,6", "--train", "300", "--held-out", "100",
                     "--generations", "2", "--gradient-steps", "1", "--batch", "20",
                     "--finetune-steps", "5", "--finetune-batch", "30", "--threads", "2",
                     "--out", str(out)])
    assert code == 0
    captured = capsys.readouterr()
    assert "assisted codes" in captured.out
    assert "fine-tuned in 5 steps" in captured.err  # a progress line per pair
    report = json.loads((out / "report.json").read_text())
    settings = report["settings"]
    assert settings["recipe"] == "assisted" and settings["fit_images"] == 300  # every image
    assert settings["learning"] == dict(tied.LEARNING, gradient_steps=1, batch=20)
    assert settings["finetune"] == dict(tied.FINETUNE, batch=30)
    assert [s["finetune_steps"] for s in report["stages"]] == [5, 5]
    assert [e["batch"] for e in settings["evolution"]] == [20, 20]
    assert [t["batch"] for t in settings["trainer"]] == [30, 30]
    for stage in report["stages"]:
        assert stage["rmse"] < stage["evolved_rmse"]
    for key in ("svm_accuracy", "pca_svm_accuracy", "pixels_svm_accuracy"):
        assert 0.0 <= report[key] <= 1.0
    net, genome, _ = tied.load_model(out / "tied-model.npz")
    all_images = evoae.data.scale(evoae.data.load_idx(images))
    _, held_out = tied.split_indices(400, 300, 100, seed=0)
    recon = net.forward(genome, all_images[held_out])
    rmse = float(np.sqrt(np.mean((recon - all_images[held_out]) ** 2, dtype=np.float64)))
    assert rmse == pytest.approx(report["rmse"], rel=1e-6)


def test_tied_command_assisted_help_and_refusals(small_mnist, capsys):
    from evoae import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["tied", "--assisted", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--assisted", "--gradient-steps", "--memetic", "--gradient-rate",
                   "--gradient-optimizer", "--gradient-loss", "--batch", "--finetune-steps",
                   "--finetune-seconds", "--finetune-rate", "--finetune-batch",
                   "--finetune-optimizer"):
        assert option in text
    for name in tied.LEARNING:  # every setting of the learning has its option
        assert "--" + name.replace("_", "-") in text
    assert f"(default {tied.LEARNING['gradient_steps']})" in text
    images, labels = small_mnist
    code = cli.main(["tied", "--data", str(images), "--labels", str(labels),
                     "--gradient-steps", "3", "--out", "/nonexistent-never-written"])
    assert code == 2
    assert "--gradient-steps is a setting of the assisted recipe: add --assisted" in (
        capsys.readouterr().err)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["tied", "--assisted", "--data", str(images), "--labels", str(labels),
                  "--gradient-steps", "0"])
    assert exit_info.value.code == 2


def test_tied_command_needs_data_and_labels(capsys):
    from evoae import cli

    with pytest.raises(SystemExit) as exit_info:  # argparse: a required option is missing
        cli.main(["tied", "--quick", "--out", "/nonexistent-never-written"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--data" in err and "--labels" in err


def test_unscaled_images_are_refused():
    images = evoae.data.ten_digits()  # uint8: the check must see them before any conversion
    with pytest.raises(ValueError, match="images are uint8: scale them first"):
        tied.train_layerwise(images, tied.TiedSettings(sizes=(784, 8), generations=1))
