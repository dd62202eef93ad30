"""Property-based fuzzing of the network builder (issue 10): random layer sequences with random
sizes, small, at the edges of int and far beyond, through the builder calls and through
network_from_spec (what a checkpoint or result file holds). Each either builds a network
whose forward pass of a zero genome on a zero image gives finite values of the stated shape,
or raises ValueError: never a crash, a hang, another exception or a shape of <= 0.

EVOAE_FUZZ_EXAMPLES sets the number of examples per test (default 200, about 10 s)."""
import json
import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import evoae  # noqa: E402

EXAMPLES = int(os.environ.get("EVOAE_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=2000, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

# Networks small enough to run: larger ones are only built (their shapes checked).
RUN_VALUES, RUN_PARAMS = 200_000, 2_000_000

EDGES = [0, 1, 2, 3, 2**15, 2**16, 2**24, 2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64]
sizes = st.one_of(st.integers(1, 6), st.integers(-3, 40), st.sampled_from(EDGES),
                  st.sampled_from(EDGES).map(lambda x: -x),
                  st.integers(-2**70, 2**70))
activations = st.sampled_from(["relu", "sigmoid", "tanh", "identity"])
layer = st.one_of(
    st.tuples(st.just("conv"), sizes, sizes, sizes),
    st.tuples(st.just("conv"), sizes, sizes, sizes, activations),
    st.tuples(st.just("maxpool")),
    st.tuples(st.just("dense"), sizes),
    st.tuples(st.just("dense"), sizes, activations,
              st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2, 5))),
    st.tuples(st.just("dense_tied"), sizes),
    st.tuples(st.just("reshape"), sizes, sizes, sizes),
    st.tuples(st.just("unpool")),
    st.tuples(st.just("conv_transpose"), sizes, sizes, sizes),
    st.tuples(st.just("conv_transpose"), sizes, sizes, sizes, activations),
)
networks = st.tuples(st.tuples(sizes, sizes), st.lists(layer, max_size=12))


def add_layer(net, kind, *args):
    options = {}
    if kind == "dense" and len(args) == 3:
        *args, options["activation"], options["scale"] = args
    elif kind in ("conv", "conv_transpose") and len(args) == 4:
        *args, options["activation"] = args
    getattr(net, kind)(*args, **options)


def build_by_calls(input_size, layers):
    net = evoae.Network(*input_size)
    for layer in layers:
        add_layer(net, *layer)
    return net


def check_network(net):
    """Shapes positive and in range; a small network runs to finite values of its shape."""
    h, w, c = net.output_shape
    assert min(h, w, c) >= 1 and h * w * c <= 2**24
    assert all(min(layer["output_shape"]) >= 1 for layer in net.layers)
    assert 0 <= net.num_params < 2**31
    largest = max(int(np.prod(layer["output_shape"])) for layer in net.layers)
    if largest > RUN_VALUES or net.num_params > RUN_PARAMS:
        return
    ih, iw, _ = net.input_shape
    out = net.forward(np.zeros(net.num_params, np.float32), np.zeros((1, ih, iw), np.float32))
    assert out.shape in ((1, h, w), (1, c, h, w), (1, h, w, c), (1, c)) and out.size == h * w * c
    assert np.all(np.isfinite(out))


@FUZZ
@given(networks)
def test_builder_calls_build_or_raise_value_error(network):
    try:
        net = build_by_calls(*network)
    except ValueError:
        return
    check_network(net)


@FUZZ
@given(networks)
def test_network_from_spec_builds_or_raises_value_error(network):
    (height, width), layers = network
    spec = json.dumps([["input", height, width], *[list(layer) for layer in layers]])
    try:
        net = evoae.network_from_spec(spec)
    except ValueError:
        return
    check_network(net)
    assert evoae.network_from_spec(evoae.network_spec(net)).layers == net.layers


@FUZZ
@given(st.lists(layer, min_size=1, max_size=40))
def test_valid_prefix_keeps_the_network_usable_after_a_refused_call(layers):
    # A refused call leaves the network as it was: it goes on building and running.
    net = evoae.Network(8, 8)
    for layer in layers:
        before = net.layers
        try:
            add_layer(net, *layer)
        except ValueError:
            assert net.layers == before
    check_network(net)
