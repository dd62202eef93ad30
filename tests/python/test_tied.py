"""The tied autoencoder: dense layers with an activation and a scale, their tied (transposed)
form against a NumPy reference, the genome holding each tied weight once, descriptions that
save and reload, layer-wise evolution with frozen layers, and `evoae tied` on a small run."""
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
