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
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import evoae  # noqa: E402

EXAMPLES = int(os.environ.get("EVOAE_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=2000, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

# Networks small enough to run: larger ones are only built (their shapes checked).
RUN_VALUES, RUN_PARAMS = 200_000, 2_000_000

EDGES = [0, 1, 2, 3, 2**15, 2**16, 2**24, 2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64]
# Half the sequences have small sizes only, so that many build deep networks; the others mix
# in values around 0, the edges of int, int64 and beyond, negative ones, and anything.
small = st.integers(1, 4)
wild = st.one_of(small, small, small, st.integers(-3, 40), st.sampled_from(EDGES),
                 st.sampled_from(EDGES).map(lambda x: -x), st.integers(-2**70, 2**70))
activations = st.sampled_from(["relu", "sigmoid", "tanh", "identity"])


def layers_of(sizes):
    return st.one_of(
        st.tuples(st.just("conv"), sizes, sizes, sizes),
        st.tuples(st.just("conv"), sizes, sizes, sizes, activations),
        st.tuples(st.just("maxpool")),
        st.tuples(st.just("dense"), sizes),
        st.tuples(st.just("dense"), sizes, activations,
                  st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                            st.integers(-2, 5))),
        st.tuples(st.just("dense_tied"), sizes),
        st.tuples(st.just("reshape"), sizes, sizes, sizes),
        st.tuples(st.just("unpool")),
        st.tuples(st.just("conv_transpose"), sizes, sizes, sizes),
        st.tuples(st.just("conv_transpose"), sizes, sizes, sizes, activations),
    )


layer = st.one_of(layers_of(small), layers_of(wild))
networks = st.one_of(
    st.tuples(st.tuples(st.integers(1, 32), st.integers(1, 32)),
              st.lists(layers_of(small), max_size=12)),
    st.tuples(st.tuples(wild, wild), st.lists(layer, max_size=12)),
)


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
    event(f"built with {min(len(net.layers) - 1, 3)}{'+' if len(net.layers) > 3 else ''} "
          f"layers")
    if largest > RUN_VALUES or net.num_params > RUN_PARAMS:
        event("built, too large to run")
        return
    ih, iw, _ = net.input_shape
    out = net.forward(np.zeros(net.num_params, np.float32), np.zeros((1, ih, iw), np.float32))
    assert out.shape in ((1, h, w), (1, c, h, w), (1, h, w, c), (1, c)) and out.size == h * w * c
    assert np.all(np.isfinite(out))


@FUZZ
@given(networks)
def test_builder_calls_build_or_raise_value_error(network):
    # Layer by layer up to the first refused call: what was built before it still works.
    (height, width), layers = network
    try:
        net = evoae.Network(height, width)
    except ValueError:
        event("refused")
        return
    for layer in layers:
        before = net.layers
        try:
            add_layer(net, *layer)
        except ValueError:
            assert net.layers == before  # a refused call adds nothing
            break
    check_network(net)


@FUZZ
@given(networks)
def test_network_from_spec_builds_or_raises_value_error(network):
    # What a file holds: the same sequence builds from its description exactly when it builds
    # by calls, to the same network.
    (height, width), layers = network
    spec = json.dumps([["input", height, width], *[list(layer) for layer in layers]])
    try:
        by_calls = build_by_calls(*network)
    except ValueError:
        by_calls = None
    try:
        net = evoae.network_from_spec(spec)
    except ValueError:
        event("refused")
        assert by_calls is None
        return
    assert by_calls is not None and net.layers == by_calls.layers
    check_network(net)
    assert evoae.network_from_spec(evoae.network_spec(net)).layers == net.layers


def _divisors(n: int) -> list:
    return [d for d in range(1, min(n, 64) + 1) if n % d == 0]


@FUZZ
@given(st.data())
def test_deep_sequences_that_fit_build_and_run(data):
    # Each call drawn to fit the shape so far (a reshape that factors it, a tied layer on an
    # earlier dense one, a kernel no larger than the input): deep networks, every one runs.
    net = evoae.Network(data.draw(st.integers(1, 24)), data.draw(st.integers(1, 24)))
    for _ in range(data.draw(st.integers(1, 10))):
        h, w, c = net.output_shape
        dense = [i for i, l in enumerate(net.layers) if l["kind"] == "dense"
                 and int(np.prod(l["output_shape"])) == h * w * c]
        kind = data.draw(st.sampled_from(["conv", "maxpool", "dense", "reshape", "unpool",
                                          "conv_transpose"] + (["dense_tied"] if dense else [])))
        if kind == "conv":
            args = (data.draw(st.integers(1, min(h, 4))), data.draw(st.integers(1, min(w, 4))),
                    data.draw(st.integers(1, 3)))
        elif kind == "dense":
            args = (data.draw(st.integers(1, 64)),)
        elif kind == "reshape":
            rows = data.draw(st.sampled_from(_divisors(h * w * c)))
            cols = data.draw(st.sampled_from(_divisors(h * w * c // rows)))
            args = (rows, cols, h * w * c // (rows * cols))
        elif kind == "conv_transpose":
            args = (data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4)),
                    data.draw(st.sampled_from(_divisors(c))))
        elif kind == "dense_tied":
            args = (data.draw(st.sampled_from(dense)),)
        else:
            args = ()
        try:
            add_layer(net, kind, *args)
        except ValueError as e:  # only a maxpool of a 1-pixel side, or a layer too large
            assert kind == "maxpool" or "more than" in str(e), e
    check_network(net)
