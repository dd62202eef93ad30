"""Gradients. First the NumPy reference's backward (reference.py) against central differences
of its own forward, layer by layer, loss by loss and through whole networks, in float64; then
the core's gradients (Network.gradients, population mode, and Network.gradient, one network
with images across lanes) against that reference.

Central differences need smooth points: the networks are drawn until no ReLU input lies
within MARGIN of 0 and no maxpool block has its two largest distinct values within MARGIN.
Exact zeros (a sum over inputs that a ReLU zeroed) and equal values (copies from an unpool,
ReLU zeros) stay so under a step and are no kink."""
import dataclasses
import json

import numpy as np
import pytest

import evoae
import reference as ref

STEP = 1e-5  # central differences: error O(STEP^2) from curvature, O(1e-16 / STEP) rounding
MARGIN = 1e-4  # a step moves a sum by STEP times what it multiplies (a few units at most)
NUMERIC_TOL = 1e-6  # max |numeric - backward| / max |backward|, float64

# Small networks that together hold every layer kind, odd sizes into maxpool, multipliers
# and reducers > 1 over several channels, dense scales != 1, tied layers (one of a tied
# pair), an unpool before a conv_transpose (the core fuses them) and each activation in a
# network (every kind with every activation is checked layer by layer below).
SMALL_SPECS = {
    "tied_autoencoder": [
        ["input", 8, 10], ["conv", 2, 2, 2, "tanh"], ["maxpool"],  # 7x9x2 -> 3x4x2
        ["dense", 5, "relu", 0.5], ["dense", 3, "tanh", 2.0],
        ["dense_tied", 4, "identity"], ["dense_tied", 3],  # 3 -> 5 -> 24, sigmoid
        ["reshape", 3, 4, 2], ["unpool"], ["conv_transpose", 2, 2, 2, "relu"],
    ],
    "multiplier_reducer": [
        ["input", 9, 7], ["conv", 3, 2, 3], ["conv", 2, 2, 2, "sigmoid"],  # 7x6x3 -> 6x5x6
        ["maxpool"], ["unpool"], ["conv_transpose", 2, 3, 3, "identity"],  # 3x2x6 -> 6x4x6 -> 7x6x2
        ["conv_transpose", 2, 2, 2],  # 8x7x1, sigmoid
    ],
    "dense_logits": [
        ["input", 6, 5], ["conv", 2, 2, 1, "identity"], ["maxpool"],  # 5x4 -> 2x2
        ["dense", 6, "sigmoid", 1.5], ["dense_tied", 3, "tanh"], ["dense", 4, "identity"],
    ],
}

# Outputs each loss suits: bce wants values in (0, 1) (a sigmoid's), the others take any.
SPEC_LOSSES = {
    "tied_autoencoder": ["mae", "sae", "mse", "softmax-ce"],
    "multiplier_reducer": ["mae", "sae", "mse", "bce", "softmax-ce"],
    "dense_logits": ["mae", "mse", "softmax-ce"],
}


def central_differences(f, x: np.ndarray, step: float = STEP) -> np.ndarray:
    """d f / d x of a scalar function f of the array x, one element at a time."""
    x = x.copy()
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + step
        up = f(x)
        x[i] = saved - step
        down = f(x)
        x[i] = saved
        grad[i] = (up - down) / (2 * step)
    return grad


def relative_error(numeric: np.ndarray, analytic: np.ndarray) -> float:
    scale = float(np.abs(analytic).max())
    assert scale > 0, "an all-zero gradient compares nothing"
    return float(np.abs(numeric - analytic).max()) / scale


def report(what: str, error: float, measure: str = "max |difference| / max |gradient|") -> None:
    print(f"\n{what}: {measure} = {error:.2g}")


def targets_for(loss: str, rng, shape: tuple) -> np.ndarray:
    """Targets of `shape` (images first) that suit the loss: probabilities over the values of
    each image for softmax-ce, values in (0.1, 0.9) for the others."""
    t = rng.uniform(0.1, 0.9, shape)
    if loss == "softmax-ce":
        t = t / t.reshape(shape[0], -1).sum(axis=1).reshape(-1, *[1] * (len(shape) - 1))
    return t


# -- smooth points --------------------------------------------------------------------------------

def kink_margin(spec, genome, image) -> float:
    """How far the point is from a ReLU kink or a maxpool tie (see the module's docstring)."""
    layers = ref.build(spec)
    tape = ref.activations(spec, genome, image)
    margin = np.inf
    for i, layer in enumerate(layers[1:], start=1):
        if layer.activation == "relu":
            linear = dataclasses.replace(layer, activation="identity")
            z = ref.layer_forward(layers, linear, np.asarray(genome, np.float64), tape[i - 1])
            z = np.abs(z[z != 0])
            margin = min(margin, float(z.min(initial=np.inf)))
        elif layer.kind == "maxpool":
            x = tape[i - 1]
            C, H, W = x.shape
            blocks = x[:, :H // 2 * 2, :W // 2 * 2].reshape(C, H // 2, 2, W // 2, 2)
            blocks = blocks.transpose(0, 1, 3, 2, 4).reshape(-1, 4)
            top = blocks.max(axis=1, keepdims=True)
            below = np.where(blocks < top, blocks, -np.inf).max(axis=1)
            margin = min(margin, float((top[:, 0] - below).min()))
    return margin


def smooth_point(spec, seed: int, images: int = 1, weight: float = 0.5):
    """(genome, images) drawn from seed, seed + 1, ... until every image is at a smooth point."""
    n = ref.num_params(spec)
    h, w = spec[0][1], spec[0][2]
    for attempt in range(50):
        rng = np.random.default_rng(seed + attempt)
        genome = rng.uniform(-weight, weight, n)
        x = rng.uniform(0.1, 0.9, (images, h, w))
        if all(kink_margin(spec, genome, image) > MARGIN for image in x):
            return genome, x
    raise AssertionError(f"no smooth point in 50 draws for {spec}")


# -- the reference's layers against central differences -------------------------------------------

def check_layer(name, forward, backward, inputs: dict, rng):
    """forward(**inputs) -> y; backward(dy, **inputs) -> gradients of every input, in the order
    of `inputs`. Compares them with central differences of sum(dy * y)."""
    y = forward(**inputs)
    dy = rng.normal(size=y.shape)
    analytic = backward(dy, **inputs)
    for (key, value), grad in zip(inputs.items(), analytic):
        assert grad.shape == value.shape, (name, key)

        def f(v, key=key):
            return float(np.sum(dy * forward(**{**inputs, key: v})))

        error = relative_error(central_differences(f, value), grad)
        report(f"{name}, d/d {key}", error)
        assert error < NUMERIC_TOL, (name, key)


def away_from_zero(rng, shape, low=0.05):
    """Values in +-[low, 1]: no ReLU kink within reach of a step."""
    return rng.uniform(low, 1.0, shape) * rng.choice([-1.0, 1.0], shape)


@pytest.mark.parametrize("activation", ref.ACTIVATIONS)
def test_conv_backward(activation):
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (2, 5, 6))
    kernels = rng.uniform(-1, 1, (3, 2, 3))  # multiplier 3
    if activation == "relu":  # an input of ones makes every sum a kernel's sum: away from 0
        x = np.ones((2, 5, 6)) + rng.uniform(0, 1e-2, (2, 5, 6))
        kernels = away_from_zero(rng, (3, 2, 3)) / 6
        kernels[:, 0, 0] += np.sign(kernels.sum(axis=(1, 2))) * 0.5
    check_layer(f"conv {activation}", lambda x, kernels: ref.conv(x, kernels, activation),
                lambda dy, x, kernels: ref.conv_backward(x, kernels, dy, activation),
                {"x": x, "kernels": kernels}, rng)


@pytest.mark.parametrize("activation", ref.ACTIVATIONS)
@pytest.mark.parametrize("scale", [1.0, 0.3])
def test_dense_backward(activation, scale):
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (2, 2, 3))
    weights = rng.uniform(-1, 1, (4, 12))
    biases = rng.uniform(-1, 1, 4)
    if activation == "relu":  # |W x| <= 1 < |b|: sums away from 0
        weights /= 12
        biases = away_from_zero(rng, 4, 0.5) * 2
    check_layer(f"dense {activation} scale {scale}",
                lambda x, weights, biases: ref.dense(x, weights, biases, activation, scale),
                lambda dy, x, weights, biases: ref.dense_backward(x, weights, biases, dy,
                                                                  activation, scale),
                {"x": x, "weights": weights, "biases": biases}, rng)


@pytest.mark.parametrize("activation", ref.ACTIVATIONS)
def test_conv_transpose_backward(activation):
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (4, 3, 2))
    kernels = rng.uniform(-1, 1, (2, 2, 3))  # reducer 2
    if activation == "relu":
        x = np.ones((4, 3, 2)) + rng.uniform(0, 1e-2, (4, 3, 2))
        kernels = rng.uniform(0.1, 1.0, (2, 2, 3)) * np.array([1.0, -1.0])[:, None, None]
        kernels[0] += 1.0  # sums of both kernels: positive everywhere
    check_layer(f"conv_transpose {activation}",
                lambda x, kernels: ref.conv_transpose(x, kernels, activation),
                lambda dy, x, kernels: ref.conv_transpose_backward(x, kernels, dy, activation),
                {"x": x, "kernels": kernels}, rng)


@pytest.mark.parametrize("shape", [(2, 4, 6), (3, 5, 7)])  # even, then an odd row and column
def test_maxpool_backward(shape):
    rng = np.random.default_rng(4)
    x = rng.permutation(np.prod(shape)).reshape(shape) / 10.0  # distinct: no ties
    check_layer(f"maxpool {shape}", ref.maxpool, lambda dy, x: (ref.maxpool_backward(x, dy),),
                {"x": x}, rng)


def test_maxpool_backward_hand_worked():
    # Ties go to the first maximum, row by row; the odd last row and column get nothing.
    x = np.array([[1, 3, 2, 2, 9],
                  [3, 0, 2, 2, 9],
                  [5, 5, 0, 1, 9]], dtype=float)[None]
    dx = ref.maxpool_backward(x, np.array([[[10.0, 20.0]]]))
    assert dx[0].tolist() == [[0, 10, 20, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]


def test_unpool_and_reshape_backward():
    rng = np.random.default_rng(5)
    check_layer("unpool", ref.unpool, lambda dy, x: (ref.unpool_backward(dy),),
                {"x": rng.uniform(-1, 1, (2, 3, 2))}, rng)
    check_layer("reshape", lambda x: ref.reshape(x, 3, 2, 2),
                lambda dy, x: (ref.reshape_backward(x, dy),),
                {"x": rng.uniform(-1, 1, (1, 3, 4))}, rng)
    dy = np.arange(16.0).reshape(1, 4, 4)
    assert ref.unpool_backward(dy)[0].tolist() == [[0 + 1 + 4 + 5, 2 + 3 + 6 + 7],
                                                   [8 + 9 + 12 + 13, 10 + 11 + 14 + 15]]


def test_activation_derivatives_hand_worked():
    z = np.array([-1.0, 0.0, 2.0])
    assert ref.activation_derivative("relu", z).tolist() == [0, 0, 1]  # 0 at 0, as ops.h
    assert ref.activation_derivative("sigmoid", z)[1] == 0.25
    assert ref.activation_derivative("tanh", z)[1] == 1.0
    assert ref.activation_derivative("identity", z).tolist() == [1, 1, 1]


# -- losses ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("loss", ref.LOSSES)
def test_loss_gradient_central_differences(loss):
    rng = np.random.default_rng(6)
    y = rng.uniform(0.05, 0.95, (3, 4))
    t = rng.uniform(0.1, 0.9, (3, 4))  # not probabilities: the formulas hold for any target
    assert np.abs(y - t).min() > MARGIN  # |y - t| is smooth here
    error = relative_error(central_differences(lambda v: ref.loss_value(loss, v, t), y),
                           ref.loss_gradient(loss, y, t))
    report(f"loss {loss}", error)
    assert error < NUMERIC_TOL


def test_losses_hand_worked():
    y, t = np.array([0.2, 0.7]), np.array([0.0, 1.0])
    expected = {
        "mae": (0.25, [0.5, -0.5]),
        "sae": (0.5, [1.0, -1.0]),
        "mse": ((0.04 + 0.09) / 2, [0.2, -0.3]),
        # -(log 0.8 + log 0.7) / 2; the slopes: of -log(1 - y) / 2, 1 / (2 (1 - y)); of
        # -log(y) / 2, -1 / (2 y)
        "bce": (-(np.log(0.8) + np.log(0.7)) / 2, [1 / 1.6, -1 / 1.4]),
    }
    for loss, (value, grad) in expected.items():
        assert ref.loss_value(loss, y, t) == pytest.approx(value, rel=1e-12), loss
        np.testing.assert_allclose(ref.loss_gradient(loss, y, t), grad, rtol=1e-12, err_msg=loss)
    # softmax of (0, ln 3) is (1/4, 3/4): the loss -ln(3/4), its gradient softmax - t
    logits = np.array([0.0, np.log(3.0)])
    assert ref.loss_value("softmax-ce", logits, t) == pytest.approx(np.log(4 / 3), rel=1e-12)
    np.testing.assert_allclose(ref.loss_gradient("softmax-ce", logits, t), [0.25, -0.25],
                               rtol=1e-12)
    # |y - t|' at y = t is 0; bce clamps y to p in [1e-7, 1 - 1e-7] and takes its slope there
    assert ref.loss_gradient("mae", t, t).tolist() == [0.0, 0.0]
    assert ref.loss_value("bce", np.array([0.0]), np.array([1.0])) == pytest.approx(
        -np.log(1e-7), rel=1e-12)
    np.testing.assert_allclose(ref.loss_gradient("bce", np.array([0.0, 1.0]), t[::-1]),
                               np.array([-1.0, 1.0]) / 1e-7 / 2, rtol=1e-8)


# -- the reference's whole-network backward against central differences ---------------------------

@pytest.mark.parametrize("name", sorted(SMALL_SPECS))
def test_network_backward_central_differences(name):
    spec = SMALL_SPECS[name]
    layers = ref.build(spec)
    genome, images = smooth_point(spec, seed=10 * sorted(SMALL_SPECS).index(name), images=2)
    rng = np.random.default_rng(7)
    out_shape = ref.output_array_shape(layers[-1].output_shape)
    for loss in SPEC_LOSSES[name]:
        targets = targets_for(loss, rng, (2, *out_shape))

        def f(g, loss=loss, targets=targets):
            return np.mean([ref.loss_value(loss, ref.forward(spec, g, x), t)
                            for x, t in zip(images, targets)])

        value, grad = ref.mean_loss_and_gradient(spec, genome, images, targets, loss)
        assert value == pytest.approx(f(genome), rel=1e-12)
        numeric = central_differences(f, genome)
        error = relative_error(numeric, grad)
        report(f"{name}, {loss}", error)
        assert error < NUMERIC_TOL, loss
        # every layer's parameters take part: no block of zeros compared with zeros
        for layer in layers:
            if layer.num_params:
                block = numeric[layer.offset:layer.offset + layer.num_params]
                assert np.abs(block).max() > 1e-9, (loss, layer)


def varadi_genome(rng, dense_gain: float = 3.0) -> np.ndarray:
    """A genome of the paper's network whose dense sigmoids are not saturated: dense weights
    scaled by dense_gain / sqrt(fan-in) (uniform [-1, 1] saturates them, and a gradient through
    a saturated sigmoid is near 0 wherever it is wrong), transposed kernels by 0.5."""
    g = rng.uniform(-1, 1, ref.num_params(ref.VARADI_SPEC))
    for layer in ref.build(ref.VARADI_SPEC):
        block = slice(layer.offset, layer.offset + layer.num_params)
        if layer.kind == "dense":
            g[block] *= dense_gain / np.sqrt(layer.num_weights // layer.num_biases)
        elif layer.kind == "conv_transpose":
            g[block] *= 0.5
    return g


def test_varadi_backward_directional_differences():
    # 1397 parameters: central differences along a few random directions, not each one. A
    # digit's flat background makes near ties (sums equal but for rounding): a noisy digit.
    rng = np.random.default_rng(8)
    genome = varadi_genome(rng)
    image = evoae.data.scale(evoae.data.ten_digits()[4]) + rng.uniform(-0.05, 0.05, (28, 28))
    assert kink_margin(ref.VARADI_SPEC, genome, image) > MARGIN
    value, grad = ref.loss_and_gradient(ref.VARADI_SPEC, genome, image, image, "mse")
    for _ in range(3):
        v = rng.normal(size=genome.size)
        v /= np.linalg.norm(v)
        up = ref.loss_value("mse", ref.forward(ref.VARADI_SPEC, genome + STEP * v, image), image)
        down = ref.loss_value("mse", ref.forward(ref.VARADI_SPEC, genome - STEP * v, image), image)
        numeric, analytic = (up - down) / (2 * STEP), float(grad @ v)
        print(f"\nvaradi, mse along a random direction: {numeric:.10g} vs {analytic:.10g}")
        assert numeric == pytest.approx(analytic, rel=1e-6, abs=1e-9 * np.linalg.norm(grad))


# -- the core's gradients against the reference ---------------------------------------------------
# float32 against float64: the measure is |core - reference| / |reference| over the whole
# gradient (2-norms), which a wrong layer, offset or lane fails by far more than rounding.

LANES = evoae._core.build_info()["lanes"]
CORE_TOL = 1e-4
LOSS_TOL = 1e-5  # relative, of the mean loss
NORM_ERROR = "|core - reference| / |reference| (2-norms)"


def norm_error(got, want) -> float:
    want = np.asarray(want, np.float64)
    return float(np.linalg.norm(np.asarray(got, np.float64) - want) / np.linalg.norm(want))


def core_network(spec) -> evoae.Network:
    net = evoae.network_from_spec(json.dumps(spec))
    assert json.loads(evoae.network_spec(net)) == spec  # the reference reads the same calls
    assert net.num_params == ref.num_params(spec)
    return net


def float32_case(spec, seed: int, genomes: int, images: int, weight: float = 0.5):
    """float32 genomes (P, G) and images (S, H, W) for the core; the reference gets the same
    values in float64."""
    rng = np.random.default_rng(seed)
    g = rng.uniform(-weight, weight, (genomes, ref.num_params(spec))).astype(np.float32)
    x = rng.uniform(0.1, 0.9, (images, spec[0][1], spec[0][2])).astype(np.float32)
    return g, x, rng


def core_targets(spec, loss: str, rng, images: int):
    """None (the images) where the output has the input's shape and the loss takes any
    values; else targets of the output's shape (probabilities for softmax-ce)."""
    out_shape = ref.output_array_shape(ref.build(spec)[-1].output_shape)
    if loss != "softmax-ce" and out_shape == tuple(spec[0][1:]):
        return None
    return targets_for(loss, rng, (images, *out_shape)).astype(np.float32)


def check_population(net, spec, genomes, images, targets, loss, compare=None):
    """Network.gradients against the reference for the genomes at indices `compare` (all by
    default); returns the worst norm_error."""
    losses, grads = net.gradients(genomes, images, targets, loss=loss)
    assert losses.shape == (len(genomes),) and losses.dtype == np.float64
    assert grads.shape == genomes.shape and grads.dtype == np.float32
    worst = 0.0
    for p in range(len(genomes)) if compare is None else compare:
        value, grad = ref.mean_loss_and_gradient(spec, genomes[p].astype(np.float64),
                                                 images.astype(np.float64), targets, loss)
        assert losses[p] == pytest.approx(value, rel=LOSS_TOL), (loss, p)
        worst = max(worst, norm_error(grads[p], grad))
    return worst


@pytest.mark.parametrize("name", sorted(SMALL_SPECS))
def test_core_gradients_match_reference(name):
    spec = SMALL_SPECS[name]
    net = core_network(spec)
    # P not a multiple of the lane count: a full block of lanes and a partial one
    genomes, images, rng = float32_case(spec, 20 + sorted(SMALL_SPECS).index(name),
                                        genomes=LANES + 3, images=3)
    for loss in SPEC_LOSSES[name]:
        worst = check_population(net, spec, genomes, images,
                                 core_targets(spec, loss, rng, 3), loss)
        report(f"core gradients, {name}, {loss}, {LANES + 3} genomes", worst, NORM_ERROR)
        assert worst < CORE_TOL, loss


@pytest.mark.parametrize("loss", ref.LOSSES)
def test_core_gradients_match_reference_varadi(loss):
    net = core_network(ref.VARADI_SPEC)
    rng = np.random.default_rng(30)
    genomes = np.stack([varadi_genome(rng) for _ in range(LANES + 1)]).astype(np.float32)
    images = evoae.data.scale(evoae.data.ten_digits()[:2])
    targets = None
    if loss == "softmax-ce":  # the image as a distribution over its pixels
        targets = images / images.sum(axis=(1, 2), keepdims=True)
    # NumPy is slow on 1397 parameters: the first and last lane of the full block and the
    # one genome of the partial block
    worst = check_population(net, ref.VARADI_SPEC, genomes, images, targets, loss,
                             compare=[0, LANES - 1, LANES])
    report(f"core gradients, varadi, {loss}", worst, NORM_ERROR)
    assert worst < CORE_TOL
    if loss == "bce":  # outputs inside the clamp, where its gradient convention is moot
        outputs = net.forward_population(genomes[[0, LANES - 1, LANES]], images)
        assert outputs.min() > 1e-3 and outputs.max() < 1 - 1e-3


@pytest.mark.parametrize("name", sorted(SMALL_SPECS))
def test_core_gradient_of_one_network_is_the_mean_over_images(name):
    spec = SMALL_SPECS[name]
    net = core_network(spec)
    S = LANES + 3  # images across lanes: a full block and a partial one
    genomes, images, rng = float32_case(spec, 40 + sorted(SMALL_SPECS).index(name),
                                        genomes=1, images=S)
    genome = genomes[0]
    for loss in SPEC_LOSSES[name]:
        targets = core_targets(spec, loss, rng, S)
        value, grad = net.gradient(genome, images, targets, loss=loss)
        assert grad.shape == genome.shape and grad.dtype == np.float32
        want_value, want = ref.mean_loss_and_gradient(spec, genome.astype(np.float64),
                                                      images.astype(np.float64), targets, loss)
        assert value == pytest.approx(want_value, rel=LOSS_TOL), loss
        error = norm_error(grad, want)
        report(f"core gradient, {name}, {loss}, {S} images", error, NORM_ERROR)
        assert error < CORE_TOL, loss
        # the mean of the core's own per-image gradients, and population mode's one genome
        one_by_one = [net.gradient(genome, images[s:s + 1],
                                   None if targets is None else targets[s:s + 1], loss=loss)
                      for s in range(S)]
        assert value == pytest.approx(np.mean([v for v, _ in one_by_one]), rel=1e-6)
        assert norm_error(grad, np.mean([g for _, g in one_by_one], axis=0)) < 1e-6, loss
        pop_losses, pop_grads = net.gradients(genome[None], images, targets, loss=loss)
        assert pop_losses[0] == pytest.approx(value, rel=1e-6)
        assert norm_error(pop_grads[0], grad) < 1e-6, loss


def test_core_gradient_varadi_defaults_are_mae_on_the_images():
    net = core_network(ref.VARADI_SPEC)
    genome = varadi_genome(np.random.default_rng(50)).astype(np.float32)
    images = evoae.data.scale(evoae.data.ten_digits()[5:8])
    value, grad = net.gradient(genome, images)
    want_value, want = ref.mean_loss_and_gradient(ref.VARADI_SPEC, genome.astype(np.float64),
                                                  images.astype(np.float64))
    assert value == pytest.approx(want_value, rel=LOSS_TOL)
    error = norm_error(grad, want)
    report("core gradient, varadi, default loss (mae)", error, NORM_ERROR)
    assert error < CORE_TOL


def test_core_gradients_do_not_depend_on_thread_count():
    net = core_network(ref.VARADI_SPEC)
    rng = np.random.default_rng(60)
    genomes = np.stack([varadi_genome(rng) for _ in range(LANES + 3)]).astype(np.float32)
    images = evoae.data.scale(evoae.data.ten_digits()[:4])
    one, two = (net.gradients(genomes, images, threads=t) for t in (1, 2))
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
    many = evoae.data.scale(evoae.data.ten_digits())  # 10 images: more than one call of lanes
    one, two = (net.gradient(genomes[0], many, threads=t) for t in (1, 2))
    assert one[0] == two[0]
    np.testing.assert_array_equal(one[1], two[1])
