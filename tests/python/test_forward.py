"""The C++ forward pass against the NumPy reference (reference.py, written from the reference
page), on random genomes; plus hand-worked cases that check the reference itself."""
import json

import numpy as np
import pytest

import evoae
import reference as ref

TOL = 1e-5

# Other networks than the paper's, each made to exercise something the paper's does not:
# conv multipliers > 1 on several input channels, odd sizes into maxpool, conv_transpose
# reducers > 1 over several channels, several output channels, a dense output.
OTHER_SPECS = {
    "multiplier_and_reducer": [
        ["input", 12, 10], ["conv", 3, 3, 2], ["conv", 2, 3, 3], ["maxpool"],
        ["conv_transpose", 3, 2, 3], ["unpool"], ["conv_transpose", 2, 2, 2],
    ],
    "dense_middle_multichannel_out": [
        ["input", 9, 11], ["conv", 2, 2, 3], ["maxpool"], ["dense", 7], ["dense", 24],
        ["reshape", 2, 3, 4], ["unpool"], ["conv_transpose", 3, 3, 2], ["unpool"],
        ["conv", 2, 2, 2], ["conv_transpose", 2, 3, 1],
    ],
    "dense_output": [
        ["input", 7, 6], ["conv", 2, 2, 4], ["maxpool"], ["dense", 5],
    ],
    "square_autoencoder": [
        ["input", 16, 16], ["conv", 3, 3, 3], ["maxpool"], ["dense", 3], ["dense", 147],
        ["reshape", 7, 7, 3], ["unpool"], ["conv_transpose", 3, 3, 3],
    ],
}


def build(spec) -> evoae.Network:
    (_, h, w), rest = spec[0], spec[1:]
    net = evoae.Network(h, w)
    for kind, *args in rest:
        getattr(net, kind)(*args)
    return net


def random_genomes(rng, count, n):
    return rng.uniform(-1.0, 1.0, size=(count, n)).astype(np.float32)


def random_images(rng, count, h, w):
    return rng.uniform(0.1, 0.9, size=(count, h, w)).astype(np.float32)


def report(name, diff):
    print(f"\nforward vs NumPy reference, {name}: max abs difference {diff:.3g}")


# -- the reference itself, on cases worked on paper ------------------------------------------------

def test_reference_maxpool_hand_worked():
    x = np.array([[1, 2, 5, 0],
                  [3, 4, 1, 1],
                  [0, -1, 7, 8],
                  [-2, -3, 6, 9]], dtype=float)[None]
    assert ref.maxpool(x)[0].tolist() == [[4, 5], [0, 9]]


def test_reference_conv_hand_worked():
    x = np.arange(9, dtype=float).reshape(1, 3, 3) - 2  # [[-2,-1,0],[1,2,3],[4,5,6]]
    k = np.array([[[1, 0], [0, -1]], [[0, 1], [0, 0]]], dtype=float)  # two kernels
    out = ref.conv(x, k)
    # kernel 0: x[r,c] - x[r+1,c+1] = -4 everywhere -> ReLU 0; kernel 1: x[r, c+1]
    assert out[0].tolist() == [[0, 0], [0, 0]]
    assert out[1].tolist() == [[0, 0], [2, 3]]  # -1, 0 clipped by ReLU


def test_reference_conv_transpose_hand_worked():
    x = np.array([[[1.0, 2.0]], [[10.0, 0.0]]])  # two channels of 1x2, reducer 2
    k = np.array([[[1.0, -1.0]], [[0.5, 0.0]]])  # two 1x2 kernels
    out = ref.conv_transpose(x, k)
    # channel 0 with kernel 0: [1, -1+2, -2] = [1, 1, -2]; channel 1 with kernel 1: [5, 0, 0]
    np.testing.assert_allclose(out, ref.sigmoid(np.array([[[6.0, 1.0, -2.0]]])))


def test_reference_unpool_and_dense_hand_worked():
    x = np.array([[[1.0, 2.0]], [[3.0, 4.0]]])  # (2, 1, 2)
    up = ref.unpool(x)
    assert up[1].tolist() == [[3, 3, 4, 4], [3, 3, 4, 4]]
    W = np.array([[1.0, 0, 0, 0], [0, 0, 0, -1.0]])  # flat order: c0 (1, 2), c1 (3, 4)
    y = ref.dense(x, W, np.array([0.0, 2.0]))
    np.testing.assert_allclose(y.ravel(), ref.sigmoid(np.array([1.0, -2.0])))


def test_reference_varadi_shapes_and_params():
    layers = ref.build(ref.VARADI_SPEC)
    shapes = [layer.output_shape for layer in layers]
    assert shapes == [(28, 28, 1), (24, 24, 1), (12, 12, 1), (8, 8, 1), (4, 4, 1), (1, 1, 5),
                      (1, 1, 2), (1, 1, 5), (1, 1, 160), (4, 4, 10), (8, 8, 10), (12, 12, 10),
                      (24, 24, 10), (28, 28, 1)]
    assert ref.num_params(ref.VARADI_SPEC) == 1397


# -- hand-worked cases through the C++ core --------------------------------------------------------

def test_maxpool_hand_worked_cpp():
    net = evoae.Network(4, 4).maxpool()
    x = np.array([[1, 2, 5, 0], [3, 4, 1, 1], [0, -1, 7, 8], [-2, -3, 6, 9]], np.float32)
    out = net.forward(np.zeros(0, np.float32), x[None])
    assert out.shape == (1, 2, 2)
    assert out[0].tolist() == [[4, 5], [0, 9]]


def test_unpool_hand_worked_cpp():
    net = evoae.Network(2, 2).unpool()
    out = net.forward(np.zeros(0, np.float32), np.array([[[1, 2], [3, 4]]], np.float32))
    assert out[0].tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]


def test_conv_is_cross_correlation_not_convolution_cpp():
    # A kernel with one 1 in its top-left corner picks x[r, c]; a flipped kernel would pick
    # x[r+1, c+1].
    net = evoae.Network(3, 3).conv(2, 2, 1)
    x = np.arange(9, dtype=np.float32).reshape(1, 3, 3)
    out = net.forward(np.array([1, 0, 0, 0], np.float32), x)
    assert out[0].tolist() == [[0, 1], [3, 4]]


def test_conv_transpose_is_full_cpp():
    # A 1x1 input with value 1 scatters the kernel itself: the output is sigmoid(kernel).
    net = evoae.Network(1, 1).conv_transpose(2, 3, 1)
    kernel = np.array([0.5, -1, 2, 0, 0.25, -0.75], np.float32)
    out = net.forward(kernel, np.ones((1, 1, 1), np.float32))
    np.testing.assert_allclose(out[0], ref.sigmoid(kernel.reshape(2, 3).astype(float)), atol=1e-6)


# -- random genomes against the reference ----------------------------------------------------------

def test_varadi_forward_matches_reference():
    net = evoae.varadi_network()
    assert json.loads(evoae.network_spec(net)) == ref.VARADI_SPEC
    rng = np.random.default_rng(1)
    genomes = random_genomes(rng, 3, 1397)
    images = np.concatenate([evoae.data.scale(evoae.data.ten_digits()[:3]),
                             random_images(rng, 2, 28, 28)])
    worst = 0.0
    for g in genomes:
        out = net.forward(g, images)
        assert out.shape == (5, 28, 28) and out.dtype == np.float32
        expected = ref.forward_many(ref.VARADI_SPEC, g, images)
        worst = max(worst, float(np.abs(out - expected).max()))
    report("varadi_network", worst)
    assert worst < TOL


def test_varadi_forward_scaled_weights_matches_reference():
    # Uniform [-1, 1] weights saturate the dense sigmoids; dense weights scaled by
    # 3/sqrt(fan_in) keep the layers in their sensitive range, so that a wrong weight order or
    # offset cannot hide behind saturated outputs.
    net = evoae.varadi_network()
    rng = np.random.default_rng(2)
    g = rng.uniform(-1, 1, 1397)
    for layer in ref.build(ref.VARADI_SPEC):
        if layer.kind == "dense":
            fan_in = layer.num_weights // layer.num_biases
            g[layer.offset:layer.offset + layer.num_params] *= 3 / np.sqrt(fan_in)
        elif layer.kind == "conv_transpose":
            g[layer.offset:layer.offset + layer.num_params] *= 0.5
    g = g.astype(np.float32)
    images = evoae.data.scale(evoae.data.ten_digits()[3:6])
    out = net.forward(g, images)
    expected = ref.forward_many(ref.VARADI_SPEC, g, images)
    worst = float(np.abs(out - expected).max())
    report("varadi_network, scaled dense weights", worst)
    assert worst < TOL
    # the outputs differ between images, so the comparison is not of constants
    assert np.abs(expected[0] - expected[1]).max() > 1e-3


@pytest.mark.parametrize("name", sorted(OTHER_SPECS))
def test_other_networks_match_reference(name):
    spec = OTHER_SPECS[name]
    net = build(spec)
    assert net.num_params == ref.num_params(spec)
    out_shape = ref.output_array_shape(ref.build(spec)[-1].output_shape)
    rng = np.random.default_rng(sorted(OTHER_SPECS).index(name) + 10)
    h, w = spec[0][1], spec[0][2]
    images = random_images(rng, 3, h, w)
    worst = 0.0
    for scale in (1.0, 0.1):
        for g in random_genomes(rng, 2, net.num_params) * np.float32(scale):
            out = net.forward(g, images)
            assert out.shape == (3, *out_shape)
            expected = ref.forward_many(spec, g, images)
            # relative to the size of the values for outputs that are not squashed (ReLU)
            diff = np.abs(out - expected) / np.maximum(1.0, np.abs(expected))
            worst = max(worst, float(diff.max()))
    report(name, worst)
    assert worst < TOL


def test_layers_offsets_match_reference():
    for spec in [ref.VARADI_SPEC, *OTHER_SPECS.values()]:
        net = build(spec)
        got = [(d["kind"], d["offset"], d["num_weights"], d["num_biases"]) for d in net.layers]
        want = [(l.kind, l.offset, l.num_weights, l.num_biases) for l in ref.build(spec)]
        # reference-system.md leaves a parameterless layer's offset open: compare where it matters
        assert [(k, w, b) for k, _, w, b in got] == [(k, w, b) for k, _, w, b in want]
        assert [o for _, o, w, b in got if w + b] == [o for _, o, w, b in want if w + b]


# -- population forward and errors -----------------------------------------------------------------

def test_forward_population_equals_forward_per_genome():
    for spec in [ref.VARADI_SPEC, OTHER_SPECS["dense_middle_multichannel_out"]]:
        net = build(spec)
        rng = np.random.default_rng(3)
        genomes = random_genomes(rng, 5, net.num_params)
        images = random_images(rng, 4, spec[0][1], spec[0][2])
        many = net.forward_population(genomes, images)
        assert many.shape[:2] == (5, 4)
        for p, g in enumerate(genomes):
            np.testing.assert_array_equal(many[p], net.forward(g, images))
        # genomes really give different outputs
        assert np.abs(many[0] - many[1]).max() > 1e-3


def test_forward_thread_count_does_not_change_outputs():
    net = evoae.varadi_network()
    rng = np.random.default_rng(4)
    genomes = random_genomes(rng, 6, 1397)
    images = evoae.data.scale(evoae.data.ten_digits())
    one = net.forward_population(genomes, images, threads=1)
    two = net.forward_population(genomes, images, threads=2)
    np.testing.assert_array_equal(one, two)


def test_errors_equal_sum_abs_difference():
    net = evoae.varadi_network()
    rng = np.random.default_rng(5)
    genomes = random_genomes(rng, 4, 1397)
    images = evoae.data.scale(evoae.data.ten_digits())
    errors = net.errors(genomes, images)
    assert errors.shape == (4,)
    outputs = net.forward_population(genomes, images).astype(np.float64)
    expected = np.abs(outputs - images.astype(np.float64)).sum(axis=(1, 2, 3))
    print(f"\nerrors vs numpy sum |forward - target|: max rel difference "
          f"{float(np.max(np.abs(errors - expected) / expected)):.3g}")
    np.testing.assert_allclose(errors, expected, rtol=1e-6)
    # and against the float64 reference for the first genome
    ref_out = ref.forward_many(ref.VARADI_SPEC, genomes[0], images)
    np.testing.assert_allclose(errors[0], np.abs(ref_out - images).sum(), rtol=1e-5)


def test_errors_with_explicit_targets():
    spec = OTHER_SPECS["dense_output"]
    net = build(spec)
    rng = np.random.default_rng(6)
    genomes = random_genomes(rng, 3, net.num_params)
    images = random_images(rng, 2, 7, 6)
    targets = rng.uniform(0, 1, size=(2, 5)).astype(np.float32)
    errors = net.errors(genomes, images, targets)
    outputs = net.forward_population(genomes, images).astype(np.float64)
    expected = np.abs(outputs - targets).sum(axis=(1, 2))
    np.testing.assert_allclose(errors, expected, rtol=1e-6)
    with pytest.raises(ValueError, match="target"):
        net.errors(genomes, images)  # output (5,) differs from the input: targets needed


# -- activations of conv and conv_transpose -------------------------------------------------------

ACTIVATIONS = {
    "sigmoid": ref.sigmoid,
    "relu": lambda x: np.maximum(x, 0.0),
    "tanh": np.tanh,
    "identity": lambda x: x,
}


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_conv_activation_hand_worked_cpp(activation):
    # One 2x4 image, the 1x3 kernel (0.1, -0.2, 0.05): sums of both signs.
    net = evoae.Network(2, 4).conv(1, 3, 1, activation)
    image = np.array([[[1, 2, 3, 4], [0, 1, 0, 1]]], np.float32)
    sums = np.array([[-0.15, -0.2], [-0.2, 0.15]])
    got = net.forward(np.array([0.1, -0.2, 0.05], np.float32), image)[0]
    np.testing.assert_allclose(got, ACTIVATIONS[activation](sums), atol=1e-6)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_conv_transpose_activation_hand_worked_cpp(activation):
    # (1, -1) unpooled to two rows (1, 1, -1, -1), then the kernel (0.1 0.2 / 0.3 0.4): fused
    # with the unpool, and on its own on the unpooled image.
    kernel = np.array([0.1, 0.2, 0.3, 0.4], np.float32)
    sums = np.array([[0.1, 0.3, 0.1, -0.3, -0.2],
                     [0.4, 1.0, 0.2, -1.0, -0.6],
                     [0.3, 0.7, 0.1, -0.7, -0.4]])
    fused = evoae.Network(1, 2).unpool().conv_transpose(2, 2, 1, activation)
    plain = evoae.Network(2, 4).conv_transpose(2, 2, 1, activation)
    want = ACTIVATIONS[activation](sums)
    np.testing.assert_allclose(fused.forward(kernel, np.array([[[1, -1]]], np.float32))[0], want,
                               atol=1e-6)
    unpooled = np.array([[[1, 1, -1, -1], [1, 1, -1, -1]]], np.float32)
    np.testing.assert_allclose(plain.forward(kernel, unpooled)[0], want, atol=1e-6)


def test_default_activations_are_the_reference_pages():
    net = evoae.Network(6, 6).conv(3, 3, 1, "relu").conv_transpose(3, 3, 1, "sigmoid")
    default = evoae.Network(6, 6).conv(3, 3, 1).conv_transpose(3, 3, 1)
    rng = np.random.default_rng(3)
    genome = random_genomes(rng, 1, net.num_params)[0]
    images = random_images(rng, 3, 6, 6)
    np.testing.assert_array_equal(net.forward(genome, images), default.forward(genome, images))
    spec = [["input", 6, 6], ["conv", 3, 3, 1], ["conv_transpose", 3, 3, 1]]
    want = ref.forward_many(spec, genome, images)
    report("defaults", np.abs(net.forward(genome, images) - want).max())
    np.testing.assert_allclose(net.forward(genome, images), want, atol=TOL)


# -- the tape -------------------------------------------------------------------------------------

def test_activations_are_every_layers_output(net):
    """Network.activations reads a workspace that keeps every layer's output: the last is what
    forward() gives, each other what the network cut after that layer gives, bit for bit."""
    rng = np.random.default_rng(4)
    genome = random_genomes(rng, 1, net.num_params)[0]
    images = random_images(rng, 11, 28, 28)  # more than one call of 8 lanes
    tape = net.activations(genome, images)
    assert len(tape) == len(net.layers)
    np.testing.assert_array_equal(tape[0], images)
    np.testing.assert_array_equal(tape[-1], net.forward(genome, images))
    calls = json.loads(evoae.network_spec(net))
    for i in range(1, len(calls) - 1):
        head = evoae.network_from_spec(json.dumps(calls[: i + 1]))
        np.testing.assert_array_equal(tape[i], head.forward(genome[: head.num_params], images),
                                      err_msg=net.layers[i]["call"])
