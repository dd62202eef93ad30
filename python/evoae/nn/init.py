"""Glorot-initialised genomes for systems that build their own networks (the eVAE's encoder
and decoder, a GAN's generator and discriminator), drawn from a NumPy generator the caller
seeds. (The Trainer's `init="glorot"` draws in the core from its own keyed stream.)"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from .network import Network

__all__ = ["glorot_genome"]


def glorot_genome(networks: Iterable[Network], rng: np.random.Generator) -> np.ndarray:
    """The networks' parameters one after the other (float32): each layer's weights U(-r, r)
    with Glorot & Bengio (2010)'s r = sqrt(6 / (fan_in + fan_out)), drawn in layer order;
    biases 0. The fans as the core's Trainer counts them (train/trainer.cpp): a dense layer's
    inputs and units (r in the genome's units: divided by its scale); a conv's kernel area
    and multiplier x area; a conv_transpose's reducer x area and area."""
    parts = []
    for net in networks:
        genome = np.zeros(net.num_params, dtype=np.float32)
        for layer in net.layers:
            if not layer["num_weights"]:
                continue
            limit = np.sqrt(6.0 / sum(_fans(layer))) / (layer["scale"] or 1.0)
            start = layer["offset"]
            genome[start:start + layer["num_weights"]] = rng.uniform(-limit, limit,
                                                                     layer["num_weights"])
        parts.append(genome)
    return np.concatenate(parts)


def _fans(layer: dict) -> tuple:
    """(fan_in, fan_out) of a layer with weights (a layer dict of Network.layers)."""
    kind, arguments = layer["kind"], layer["arguments"]
    if kind == "dense":
        return int(np.prod(layer["input_shape"])), arguments[0]
    area = arguments[0] * arguments[1]
    if kind == "conv":  # an output reads one input channel; an input feeds `multiplier`
        return area, arguments[2] * area
    if kind == "conv_transpose":  # an output sums `reducer` input channels
        return arguments[2] * area, area
    raise ValueError(f"glorot_genome: no fans for a {kind} layer")
