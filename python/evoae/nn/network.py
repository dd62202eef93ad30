"""Networks: the C++ Network class, the paper's network, and a plain description
(a list of builder calls) to save a network with its genome and rebuild it later."""
from __future__ import annotations

import json

from .._core import Network, varadi_network

__all__ = ["Network", "varadi_network", "network_spec", "network_from_spec"]

_BUILDERS = {"conv", "maxpool", "dense", "reshape", "unpool", "conv_transpose", "dense_tied"}
_WITH_ACTIVATION = {"conv", "conv_transpose", "dense", "dense_tied"}
_ACTIVATIONS = {"sigmoid", "relu", "tanh", "identity"}


def _call(layer: dict) -> list:
    # The options (activation, scale) follow the integers only where they are not the kind's
    # defaults, so that the networks of the paper keep their descriptions.
    return [layer["kind"], *layer["arguments"], *layer["options"]]


def network_spec(net: Network) -> str:
    """The builder calls that make `net`, as JSON: [["input", 28, 28], ["conv", 5, 5, 1], ...,
    ["conv", 3, 3, 2, "tanh"], ["dense", 500, "relu", 0.0678], ["dense_tied", 1, "identity"]]
    (a layer's activation and scale last, left out for the kind's defaults: relu for conv,
    sigmoid for the others, a scale of 1)."""
    return json.dumps([_call(layer) for layer in net.layers])


def network_from_spec(spec: str) -> Network:
    """Rebuild a network from network_spec()'s JSON. Raises ValueError for a bad description."""
    try:
        calls = json.loads(spec)
        if not isinstance(calls, list) or not all(isinstance(c, list) and c for c in calls):
            raise ValueError("it must be a list of [kind, arguments...] lists")
        if not calls or calls[0][0] != "input" or len(calls[0]) != 3:
            raise ValueError("it must start with ['input', height, width]")
        net = Network(*calls[0][1:])
        for kind, *args in calls[1:]:
            if kind not in _BUILDERS:
                raise ValueError(f"unknown layer kind {kind!r}")
            options = {}
            if kind == "dense" and len(args) == 3 and type(args[2]) in (int, float):
                *args, options["scale"] = args
            if kind in _WITH_ACTIVATION and args and isinstance(args[-1], str):
                if args[-1] not in _ACTIVATIONS:
                    raise ValueError(f"{kind}{tuple(args)}: unknown activation {args[-1]!r}")
                *args, options["activation"] = args
            if not all(type(a) is int for a in args):
                raise ValueError(f"{kind}{tuple(args)}: arguments must be integers")
            getattr(net, kind)(*args, **options)
    except (TypeError, IndexError, json.JSONDecodeError) as e:
        raise ValueError(f"not a network description: {e}") from e
    return net
