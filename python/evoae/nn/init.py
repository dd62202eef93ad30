"""Glorot-initialised genomes for systems that build their own networks (the eVAE's encoder
and decoder, a GAN's generator and discriminator), drawn from a NumPy generator the caller
seeds. (The Trainer's `init="glorot"` draws in the core from its own keyed stream.)"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from .network import Network

__all__ = ["glorot_genome"]


def glorot_genome(networks: Iterable[Network], rng: np.random.Generator) -> np.ndarray:
    """The networks' parameters one after the other (float32): each dense layer's weights
    U(-r, r) with Glorot & Bengio (2010)'s r = sqrt(6 / (inputs + units)), in the genome's
    units (divided by the layer's scale), drawn in layer order; biases 0. ValueError for a
    layer with weights that is not dense."""
    parts = []
    for net in networks:
        genome = np.zeros(net.num_params, dtype=np.float32)
        for layer in net.layers:
            if not layer["num_weights"]:
                continue
            if layer["kind"] != "dense":
                raise ValueError(f"glorot_genome draws dense layers only, not {layer['kind']}")
            inputs, units = int(np.prod(layer["input_shape"])), layer["arguments"][0]
            limit = np.sqrt(6.0 / (inputs + units)) / layer["scale"]
            start = layer["offset"]
            genome[start:start + layer["num_weights"]] = rng.uniform(-limit, limit,
                                                                     layer["num_weights"])
        parts.append(genome)
    return np.concatenate(parts)
