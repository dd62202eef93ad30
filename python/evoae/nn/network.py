"""Networks: the C++ Network class, the paper's network, and a plain description
(a list of builder calls) to save a network with its genome and rebuild it later. The
forward passes are wrapped here so that images and genomes from outside are checked once,
in Python, before the C++ core sees them (the evolution's inner loop checks nothing)."""
from __future__ import annotations

import json

import numpy as np

from .._core import Network, varadi_network
from ..data import require_finite

__all__ = ["Network", "varadi_network", "network_spec", "network_from_spec", "check_images",
           "check_genomes", "UINT8_IMAGES"]

UINT8_IMAGES = "images are uint8: scale them first with evoae.data.scale(images)"

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


def check_images(network: Network, images) -> np.ndarray:
    """`images` as contiguous float32 (S, H, W) for `network`'s input (H, W): one image (H, W)
    or many (S, H, W), S >= 1. Raises ValueError for uint8 (unscaled) pixels, another shape,
    no images, NaN or infinite values; TypeError for arrays that are not numbers."""
    images = np.asarray(images)
    height, width, _ = network.input_shape
    if images.dtype == np.uint8:
        raise ValueError(UINT8_IMAGES)
    if images.dtype.kind not in "biuf":
        raise TypeError(f"images must be an array of numbers, got dtype {images.dtype}")
    if images.ndim not in (2, 3) or images.shape[-2:] != (height, width):
        raise ValueError(f"images must have shape ({height}, {width}) (one image) or "
                         f"(S, {height}, {width}), got {images.shape}")
    if images.size == 0:
        raise ValueError(f"images: none given (shape {images.shape}), expected "
                         f"(S, {height}, {width}) with S >= 1")
    with np.errstate(over="ignore"):  # float64 beyond float32's range: reported as inf below
        images = np.ascontiguousarray(images.reshape(-1, height, width), dtype=np.float32)
    require_finite(images, "images")
    return images


def check_genomes(genomes, what: str = "genome") -> np.ndarray:
    """`genomes` (one or a population) as contiguous float32, refused with ValueError when
    they hold NaN or infinite weights, TypeError when they are not numbers. The shape is the
    core's to check."""
    genomes = np.asarray(genomes)
    if genomes.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be an array of numbers, got dtype {genomes.dtype}")
    with np.errstate(over="ignore"):
        genomes = np.ascontiguousarray(genomes, dtype=np.float32)
    require_finite(genomes, what)
    return genomes


def _forward(self: Network, genome, images, threads: int = 0) -> np.ndarray:
    """Run images (S, H, W) through the network with one genome (num_params,): returns
    (S, ...output), or (...output) for one image (H, W)."""
    one = np.ndim(images) == 2
    out = _core_forward(self, check_genomes(genome), check_images(self, images), threads)
    return out[0] if one else out


def _forward_population(self: Network, genomes, images, threads: int = 0) -> np.ndarray:
    """Run images (S, H, W) through P genomes (P, num_params): returns (P, S, ...output), or
    (P, ...output) for one image (H, W)."""
    one = np.ndim(images) == 2
    out = _core_forward_population(self, check_genomes(genomes, "genomes"),
                                   check_images(self, images), threads)
    return out[:, 0] if one else out


def _activations(self: Network, genome, images) -> list:
    """Every layer's output for one genome (num_params,) on images (S, H, W): a list of
    arrays (S, ...), one per layer, the input first and the output last (without the S axis
    for one image (H, W))."""
    one = np.ndim(images) == 2
    tape = _core_activations(self, check_genomes(genome), check_images(self, images))
    return [a[0] for a in tape] if one else tape


def _check_targets(targets, one: bool):
    """Targets as contiguous float32 (S, ...output) or None; the core checks the shape."""
    if targets is None:
        return None
    targets = check_genomes(targets, "targets")  # numbers, finite, float32
    return targets[None] if one else targets


def _gradients(self: Network, genomes, images, targets=None, loss: str = "mae",
               threads: int = 0) -> tuple:
    """Population mode: P genomes (P, num_params) on images (S, H, W) (or one image (H, W))
    against targets (S, ...output; default: the images, when the output shape is the
    input's). Returns (losses (P,) float64, grads (P, num_params) float32): each genome's
    loss and its gradient, means over the images. loss: one of evoae._core.loss_names()."""
    one = np.ndim(images) == 2
    return _core_gradients(self, check_genomes(genomes, "genomes"), check_images(self, images),
                           _check_targets(targets, one), loss, threads)


def _gradient(self: Network, genome, images, targets=None, loss: str = "mae",
              threads: int = 0) -> tuple:
    """One network: genome (num_params,) on images (S, H, W) (or one image (H, W)), the
    images spread across the SIMD lanes. Returns (loss, grad (num_params,) float32), means
    over the images."""
    one = np.ndim(images) == 2
    return _core_gradient(self, check_genomes(genome), check_images(self, images),
                          _check_targets(targets, one), loss, threads)


# The public Network is the core's class: its methods that take genomes and images from
# outside are replaced by the checked ones, for every network however it was made.
_core_forward, _core_forward_population, _core_activations = (
    Network.forward, Network.forward_population, Network.activations)
_core_gradients, _core_gradient = Network.gradients, Network.gradient
for _name, _method in (("forward", _forward), ("forward_population", _forward_population),
                       ("activations", _activations), ("gradients", _gradients),
                       ("gradient", _gradient)):
    _method.__name__ = _method.__qualname__ = _name
    setattr(Network, _name, _method)
del _name, _method
