"""The training bindings: Network.gradients / gradient (population and one-network modes) and
_core.Trainer: shapes, dtypes, agreement with central differences and with each other, and
the errors for bad arguments."""
import numpy as np
import pytest

import evoae
from evoae import _core


def small_net():
    """6x6 -> 5 sigmoid units -> 36 sigmoid outputs -> 6x6: smooth, so central differences
    hold."""
    return evoae.Network(6, 6).dense(5).dense(36).reshape(6, 6, 1)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(4)
    images = rng.uniform(0.1, 0.9, (11, 6, 6)).astype(np.float32)
    genomes = rng.uniform(-0.5, 0.5, (3, small_net().num_params)).astype(np.float32)
    return images, genomes


def mse(net, genome, images):
    out = net.forward(genome, images).astype(np.float64)
    return float(np.mean((out - images) ** 2))


def test_gradients_shapes_and_dtypes(data):
    images, genomes = data
    net = small_net()
    losses, grads = net.gradients(genomes, images, loss="mse")
    assert losses.shape == (3,) and losses.dtype == np.float64
    assert grads.shape == (3, net.num_params) and grads.dtype == np.float32
    loss, grad = net.gradient(genomes[1], images, loss="mse")
    assert isinstance(loss, float)
    assert grad.shape == (net.num_params,) and grad.dtype == np.float32
    # one image (H, W) is a set of one
    one_losses, _ = net.gradients(genomes, images[0], loss="mse")
    assert one_losses.shape == (3,)


def test_gradient_matches_central_differences(data):
    images, genomes = data
    net = small_net()
    loss, grad = net.gradient(genomes[0], images, loss="mse")
    assert loss == pytest.approx(mse(net, genomes[0], images), rel=1e-5)
    h = 1e-2
    for i in (0, 7, 100, 181, net.num_params - 1):
        up, down = genomes[0].copy(), genomes[0].copy()
        up[i] += h
        down[i] -= h
        numeric = (mse(net, up, images) - mse(net, down, images)) / (2 * h)
        assert grad[i] == pytest.approx(numeric, rel=2e-2, abs=1e-5), i


def test_population_and_one_network_agree(data):
    images, genomes = data
    net = small_net()
    losses, grads = net.gradients(genomes, images, loss="mse")
    for p in range(3):
        loss, grad = net.gradient(genomes[p], images, loss="mse")
        assert loss == pytest.approx(losses[p], rel=1e-5)
        np.testing.assert_allclose(grad, grads[p], rtol=1e-4, atol=1e-6)
    # lanes are independent: a genome alone gives the same bits as in a population
    alone_losses, alone_grads = net.gradients(genomes[2:], images, loss="mse")
    assert alone_losses[0] == losses[2]
    np.testing.assert_array_equal(alone_grads[0], grads[2])


def test_threads_give_the_same_bits(data):
    images, genomes = data
    net = small_net()
    one = net.gradients(genomes, images, threads=1)
    two = net.gradients(genomes, images, threads=2)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
    assert net.gradient(genomes[0], images, threads=1)[0] == \
        net.gradient(genomes[0], images, threads=3)[0]


def test_targets_default_to_the_images_and_are_checked(data):
    images, genomes = data
    net = small_net()
    default = net.gradients(genomes, images)
    given = net.gradients(genomes, images, targets=images)
    np.testing.assert_array_equal(default[1], given[1])
    with pytest.raises(ValueError, match=r"targets must have shape \(11, 6, 6\)"):
        net.gradients(genomes, images, targets=images[:5])
    coder = evoae.Network(6, 6).dense(2)
    g = np.zeros((1, coder.num_params), np.float32)
    with pytest.raises(ValueError, match="targets are needed"):
        coder.gradients(g, images)
    losses, _ = coder.gradients(g, images, targets=np.full((11, 2), 0.5, np.float32))
    assert losses == pytest.approx([0.0])  # sigmoid(0) is the target everywhere
    bad = np.full((11, 2), 0.5, np.float32)
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match=r"targets: 1 NaN .* first at index \(1, 1\)"):
        coder.gradient(g[0], images, targets=bad)


@pytest.mark.parametrize("call", ["gradients", "gradient"])
def test_bad_arguments_are_refused(data, call):
    images, genomes = data
    net = small_net()
    genome = genomes if call == "gradients" else genomes[0]
    method = getattr(net, call)
    with pytest.raises(ValueError, match="must have shape"):
        method(genome[..., :-1], images)
    with pytest.raises(ValueError, match=r"images must have shape \(6, 6\)"):
        method(genome, images[:, :5])
    with pytest.raises(ValueError, match="uint8"):
        method(genome, (images * 255).astype(np.uint8))
    with pytest.raises(ValueError, match="NaN"):
        method(genome, np.where(images > 0.85, np.nan, images))
    with pytest.raises(ValueError, match="NaN"):
        method(np.full_like(genome, np.nan), images)
    with pytest.raises(ValueError, match='unknown loss "l1"'):
        method(genome, images, loss="l1")
    with pytest.raises(TypeError):
        method(genome, images, loss=3)


def test_loss_names_and_train_setting_specs():
    assert _core.loss_names()[0] == "mae"
    assert {"mae", "sae", "mse", "bce", "softmax-ce"} == set(_core.loss_names())
    specs = _core.train_setting_specs()
    assert {tuple(sorted(s)) for s in specs} == {tuple(sorted(_core.setting_specs()[0]))}
    names = [s["name"] for s in specs]
    assert names[0] == "networks" and "learning_rate" in names
    assert set(_core.train_per_network_settings()) == {
        "learning_rate", "momentum", "beta1", "beta2", "weight_decay"}
    loss = next(s for s in specs if s["name"] == "loss")
    assert loss["choices"] == _core.loss_names() and loss["default"] == "mae"


def test_trainer_runs_restores_and_evaluates(data):
    images, _ = data
    net = small_net()
    settings = {"networks": 3, "learning_rate": [0.05, 0.1, 0.2], "batch": 4, "holdout": 0.2,
                "threads": 2, "seed": 5}
    t = _core.Trainer(net, images, settings)
    assert (t.generation, t.num_train, t.num_holdout) == (0, 9, 2)
    assert t.metric_name == "MAE" and t.evaluations == 3 * 4
    assert t.settings["learning_rate"] == [0.05, 0.1, 0.2]
    assert t.settings["weight_decay"] == 0.0 and t.settings["momentum"] is None
    assert t.advance(3, 60.0) == (3, "generations")
    assert t.history.shape == (4,) and t.losses.shape == (3,) and t.metrics.shape == (3,)
    assert t.best_error == t.losses[t.best_index] == t.history[-1]
    assert t.best_metric == t.metrics[t.best_index]
    assert t.genomes().shape == (3, net.num_params)
    np.testing.assert_array_equal(t.best_genome(), t.genomes()[t.best_index])
    state = t.state()
    assert state["generation"] == 3 and state["first"].shape == (3, net.num_params)
    t.advance(2, 60.0)
    u = _core.Trainer(net, images, settings, state=state)
    u.advance(2, 60.0)
    np.testing.assert_array_equal(u.genomes(), t.genomes())
    np.testing.assert_array_equal(u.history, t.history)
    all_loss, all_mae = t.evaluate()
    train, held = t.evaluate(part="train"), t.evaluate(t.best_genome(), "holdout")
    assert all_loss == pytest.approx((9 * train[0] + 2 * held[0]) / 11, rel=1e-6)
    assert 0 < all_mae < 1


def test_trainer_refuses_bad_settings_and_arguments(data):
    images, _ = data
    net = small_net()
    with pytest.raises(ValueError, match="learning_rate: a list of 2 values for networks = 3"):
        _core.Trainer(net, images, {"networks": 3, "learning_rate": [0.1, 0.2]})
    with pytest.raises(ValueError, match="seed takes one value, not a list"):
        _core.Trainer(net, images, {"seed": [1, 2]})
    with pytest.raises(ValueError, match="momentum applies to optimizer 'sgd'"):
        _core.Trainer(net, images, {"momentum": 0.5})
    with pytest.raises(ValueError, match="batch 12 exceeds the 11 training images"):
        _core.Trainer(net, images, {"batch": 12})
    with pytest.raises(ValueError, match="holdout"):
        _core.Trainer(net, images, {"holdout": 1.0})
    with pytest.raises(ValueError, match="unknown setting 'lr'"):
        _core.Trainer(net, images, {"lr": 0.1})
    with pytest.raises(ValueError, match=r"genomes must have shape \(networks, 401\)"):
        _core.Trainer(net, images, {"networks": 2}, genomes=np.zeros((3, 401), np.float32))
    t = _core.Trainer(net, images, {})
    with pytest.raises(ValueError, match="genomes or state, not both"):
        _core.Trainer(net, images, {}, genomes=t.genomes(), state=t.state())
    with pytest.raises(ValueError, match="unknown part 'test'"):
        t.evaluate(part="test")
    with pytest.raises(ValueError, match="no images are held out"):
        t.evaluate(part="holdout")
    with pytest.raises(ValueError, match="labels train a classifier"):
        _core.Trainer(evoae.Network(6, 6).dense(3), images, {}, labels=np.zeros(11, np.int32))
