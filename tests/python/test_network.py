"""The network builder: the paper's network as docs/reference-system.md describes it, shape and
argument checks with clear errors, the original builder names, saved descriptions."""
import json
import re

import numpy as np
import pytest

import evoae
import reference as ref

# From docs/reference-system.md: layer calls and output shapes (height, width, channels).
VARADI_LAYERS = [
    ("input", (28, 28, 1)), ("conv", (24, 24, 1)), ("maxpool", (12, 12, 1)),
    ("conv", (8, 8, 1)), ("maxpool", (4, 4, 1)), ("dense", (1, 1, 5)), ("dense", (1, 1, 2)),
    ("dense", (1, 1, 5)), ("dense", (1, 1, 160)), ("reshape", (4, 4, 10)),
    ("unpool", (8, 8, 10)), ("conv_transpose", (12, 12, 10)), ("unpool", (24, 24, 10)),
    ("conv_transpose", (28, 28, 1)),
]
# Parameters of the layers that have any, in order: 25 + 25 + 85 + 12 + 15 + 960 + 25 + 250.
VARADI_PARAMS = [25, 25, 85, 12, 15, 960, 25, 250]


@pytest.fixture(scope="module")
def net():
    return evoae.varadi_network()


def test_num_params(net):
    assert net.num_params == 1397


def test_layer_shapes_as_on_reference_page(net):
    layers = net.layers
    assert [(d["kind"], tuple(d["output_shape"])) for d in layers] == VARADI_LAYERS
    # each layer's input is the previous layer's output
    for before, after in zip(layers, layers[1:]):
        assert tuple(after["input_shape"]) == tuple(before["output_shape"])
    assert tuple(net.input_shape) == (28, 28, 1)
    assert tuple(net.output_shape) == (28, 28, 1)


def test_layer_parameters_and_offsets(net):
    layers = net.layers
    assert [d["num_params"] for d in layers if d["num_params"]] == VARADI_PARAMS
    # conv 25 + 25, dense 16*5 + 5*2 + 2*5 + 5*160, conv_transpose 25 + 250 weights; dense biases
    # 5 + 2 + 5 + 160. (docs/reference-system.md's "(1215 weights, 182 biases)" has these wrong:
    # its own per-layer counts add up to 1225 and 172, total 1397.)
    assert sum(d["num_weights"] for d in layers) == 1225
    assert sum(d["num_biases"] for d in layers) == 172
    # biases only in dense layers, one per unit
    for d in layers:
        assert d["num_params"] == d["num_weights"] + d["num_biases"]
        if d["kind"] == "dense":
            assert d["num_biases"] == d["arguments"][0]
        else:
            assert d["num_biases"] == 0
    # the genome is laid out layer by layer, without gaps or overlaps
    with_params = [d for d in layers if d["num_params"]]
    assert with_params[0]["offset"] == 0
    for a, b in zip(with_params, with_params[1:]):
        assert b["offset"] == a["offset"] + a["num_params"]
    last = with_params[-1]
    assert last["offset"] + last["num_params"] == 1397


def test_summary_lists_every_layer(net):
    text = net.summary()
    for d in net.layers:
        assert d["call"] in text
    for call in ["conv(5, 5, 1)", "maxpool()", "dense(160)", "reshape(4, 4, 10)", "unpool()",
                 "conv_transpose(5, 5, 10)"]:
        assert call in text
    assert "1397" in text
    assert "28x28x1" in text and "4x4x10" in text


def test_repr_rebuilds_the_network(net):
    rebuilt = eval(repr(net), {"Network": evoae.Network})
    assert evoae.network_spec(rebuilt) == evoae.network_spec(net)


# -- builder errors ---------------------------------------------------------------------------------

def check_refused(make, *words):
    """make() must raise ValueError whose message contains every word (regex)."""
    with pytest.raises(ValueError) as info:
        make()
    message = str(info.value)
    for word in words:
        assert re.search(word, message), f"{word!r} not in error message {message!r}"
    return message


def test_reshape_size_mismatch_refused():
    net = evoae.Network(28, 28).dense(10)
    check_refused(lambda: net.reshape(4, 4, 1), r"reshape", r"16", r"10")
    # the refused call left the network as it was
    assert len(net.layers) == 2 and net.num_params == 7850
    net.reshape(5, 2, 1)  # and it still builds on
    assert tuple(net.output_shape) == (5, 2, 1)


def test_conv_bigger_than_input_refused():
    check_refused(lambda: evoae.Network(4, 6).conv(5, 5, 1), r"conv", r"5x5|5, 5", r"4x6")
    check_refused(lambda: evoae.Network(28, 28).conv(5, 29, 1), r"conv")
    check_refused(lambda: evoae.Network(28, 28).conv(0, 3, 1), r"conv")
    check_refused(lambda: evoae.Network(28, 28).conv(3, 3, 0), r"conv")


def test_conv_after_dense_refused_and_says_reshape():
    check_refused(lambda: evoae.Network(28, 28).dense(25).conv(3, 3, 1), r"conv", r"reshape")
    # with a reshape it is fine
    net = evoae.Network(28, 28).dense(25).reshape(5, 5, 1).conv(3, 3, 1)
    assert tuple(net.output_shape) == (3, 3, 1)


def test_maxpool_on_1x1_refused():
    check_refused(lambda: evoae.Network(1, 1).maxpool(), r"maxpool", r"1x1")
    check_refused(lambda: evoae.Network(28, 28).dense(4).maxpool(), r"maxpool", r"reshape")


def test_conv_transpose_reducer_must_divide_channels():
    check_refused(lambda: evoae.Network(6, 6).conv(2, 2, 3).conv_transpose(2, 2, 2),
                  r"conv_transpose", r"3", r"2", r"divis|divid")
    net = evoae.Network(6, 6).conv(2, 2, 3).conv_transpose(2, 2, 3)
    assert tuple(net.output_shape) == (6, 6, 1)


def test_bad_input_size_refused():
    check_refused(lambda: evoae.Network(0, 28), r"0")
    check_refused(lambda: evoae.Network(28, 28).dense(0), r"dense")


# -- forward argument checks ------------------------------------------------------------------------

def test_forward_wrong_genome_shape(net):
    images = np.zeros((1, 28, 28), np.float32)
    for genome in [np.zeros(1396, np.float32), np.zeros((1, 1397), np.float32),
                   np.zeros(0, np.float32)]:
        check_refused(lambda: net.forward(genome, images), re.escape("(1397,)"))


def test_forward_wrong_image_shape(net):
    genome = np.zeros(1397, np.float32)
    for images in [np.zeros((2, 27, 28), np.float32),  # one image (28, 28) is taken
                   np.zeros((0, 28, 28), np.float32), np.zeros((1, 28, 28, 1), np.float32)]:
        message = check_refused(lambda: net.forward(genome, images), re.escape("(S, 28, 28)"))
        assert str(images.shape) in message  # and it says what it got


def test_forward_population_wrong_shapes(net):
    images = np.zeros((1, 28, 28), np.float32)
    check_refused(lambda: net.forward_population(np.zeros(1397, np.float32), images),
                  re.escape("(P, 1397)"))
    check_refused(lambda: net.forward_population(np.zeros((2, 1000), np.float32), images),
                  re.escape("(P, 1397)"))
    check_refused(lambda: net.forward_population(np.zeros((2, 1397), np.float32),
                                                 np.zeros((2, 28, 27), np.float32)),
                  re.escape("(S, 28, 28)"))
    check_refused(lambda: net.errors(np.zeros((2, 1397), np.float32),
                                     np.zeros((3, 14, 14), np.float32)),
                  re.escape("(S, 28, 28)"))


def test_forward_accepts_views_and_float64(net):
    rng = np.random.default_rng(0)
    wide = rng.uniform(-1, 1, size=(3, 2 * 1397))
    genomes = wide[:, ::2]  # not contiguous, float64
    images = evoae.data.scale(evoae.data.ten_digits()).transpose(0, 2, 1)  # a transposed view
    out = net.forward_population(genomes, images)
    expected = net.forward_population(np.ascontiguousarray(genomes, np.float32),
                                      np.ascontiguousarray(images))
    np.testing.assert_array_equal(out, expected)


# -- the original builder names ---------------------------------------------------------------------

def test_original_builder_names_are_aliases(net):
    for name in ["sigm", "trconv", "addConvLayer", "addMaxPoolLayer", "addSigmLayer",
                 "addReshapeLayer", "addUnpoolLayer", "addTrConvLayer"]:
        assert callable(getattr(evoae.Network, name)), name
    old = evoae.Network(28, 28)
    old.addConvLayer(5, 5, 1).addMaxPoolLayer().addConvLayer(5, 5, 1).addMaxPoolLayer()
    old.addSigmLayer(5).addSigmLayer(2).sigm(5).sigm(160).addReshapeLayer(4, 4, 10)
    old.addUnpoolLayer().trconv(5, 5, 1).addUnpoolLayer().addTrConvLayer(5, 5, 10)
    assert evoae.network_spec(old) == evoae.network_spec(net)
    assert old.num_params == 1397


# -- saved descriptions -----------------------------------------------------------------------------

def test_spec_of_varadi_network(net):
    assert json.loads(evoae.network_spec(net)) == ref.VARADI_SPEC


@pytest.mark.parametrize("spec", [
    ref.VARADI_SPEC,
    [["input", 12, 10], ["conv", 3, 3, 2], ["conv", 2, 3, 3], ["maxpool"],
     ["conv_transpose", 3, 2, 3], ["unpool"], ["conv_transpose", 2, 2, 2]],
    [["input", 7, 6], ["dense", 5], ["dense", 12], ["reshape", 2, 3, 2]],
    [["input", 12, 10], ["conv", 3, 3, 2, "tanh"], ["conv", 2, 3, 3, "sigmoid"], ["maxpool"],
     ["conv_transpose", 3, 2, 3, "relu"], ["unpool"], ["conv_transpose", 2, 2, 2, "identity"],
     ["conv", 2, 2, 1, "identity"]],
])
def test_spec_round_trip(spec):
    net = evoae.network_from_spec(json.dumps(spec))
    assert json.loads(evoae.network_spec(net)) == spec
    again = evoae.network_from_spec(evoae.network_spec(net))
    assert [d["call"] for d in again.layers] == [d["call"] for d in net.layers]
    rng = np.random.default_rng(0)
    genome = rng.uniform(-1, 1, net.num_params).astype(np.float32)
    images = rng.uniform(0.1, 0.9, (2, spec[0][1], spec[0][2])).astype(np.float32)
    np.testing.assert_array_equal(net.forward(genome, images), again.forward(genome, images))


NOT_CALLS, NO_INPUT = r"must be a list of \[kind, arguments...\] lists", r"must start with \['input'"


@pytest.mark.parametrize("text, message", [
    ("not json", "not a network description"),
    ("[]", NO_INPUT),
    ("null", NOT_CALLS),
    ("5", NOT_CALLS),
    ("[[]]", NOT_CALLS),
    ('[["conv", 5, 5, 1]]', NO_INPUT),                  # no input layer
    ('[["input", 28]]', NO_INPUT),                      # input without a width
    ('[["input"]]', NO_INPUT),                          # input without its size
    ('{"input": [28, 28]}', NOT_CALLS),                 # not a list of calls
    ('[["input", 28, 28], ["blah", 3]]', "unknown layer kind 'blah'"),
    ('[["input", 28, 28], ["conv", 5, 5, 1, 7]]', r"conv\(\)"),     # too many arguments
    ('[["input", 28, 28], ["conv", "five", 5, 1]]', "must be integers"),
    ('[["input", 28, 28], ["dense", 10], ["reshape", 3, 3, 3]]', "needs 27 values"),
    ('[["input", 28, 28], ["__init__", 3, 3]]', "unknown layer kind '__init__'"),
    ('[["input", 28, 28], 7]', NOT_CALLS),              # a call that is not a list
    ('[["input", 28, 28], ["conv", 5, 5, 1, "swish"]]', "swish"),  # unknown activation
    ('[["input", 28, 28], ["maxpool", "relu"]]', "maxpool"),  # a kind without an activation
])
def test_bad_spec_refused(text, message):
    with pytest.raises(ValueError, match=message):
        evoae.network_from_spec(text)


def test_conv_activations_in_layers_and_spec():
    net = evoae.Network(10, 10).conv(3, 3, 2).conv(3, 3, 1, activation="tanh") \
        .conv_transpose(3, 3, 2).conv_transpose(2, 2, 1, "identity").maxpool()
    layers = net.layers
    assert [d["activation"] for d in layers] == [None, "relu", "tanh", "sigmoid", "identity", None]
    assert [d["options"] for d in layers] == [[], [], ["tanh"], [], ["identity"], []]
    assert layers[2]["call"] == 'conv(3, 3, 1, "tanh")'
    assert layers[4]["call"] == 'conv_transpose(2, 2, 1, "identity")'
    assert json.loads(evoae.network_spec(net))[1:] == [
        ["conv", 3, 3, 2], ["conv", 3, 3, 1, "tanh"], ["conv_transpose", 3, 3, 2],
        ["conv_transpose", 2, 2, 1, "identity"], ["maxpool"]]
    assert repr(net).endswith('.conv_transpose(2, 2, 1, "identity").maxpool()')
    with pytest.raises(ValueError, match="swish"):
        evoae.Network(4, 4).conv(2, 2, 1, "swish")


def test_dense_options_keep_their_order():
    net = evoae.Network(4, 4).dense(3, "sigmoid", 0.25).dense_tied(1, "tanh").dense(2, "relu")
    assert [d["options"] for d in net.layers[1:]] == [["sigmoid", 0.25], ["tanh"], ["relu"]]
    assert net.layers[2]["scale"] == 0.25  # the source's
