"""The latent plane of an autoencoder: split a network at its 2-unit bottleneck into an
encoder (image -> 2-D code) and a decoder (2-D code -> image), each a Network of its own
built with the ordinary builder, sharing the one genome (the decoder takes its tail).

    split = evoae.nn.latent.split_at_bottleneck(net)
    codes = split.encode(genome, images)          # (S, 2), in (0, 1) after a sigmoid layer
    pictures = split.decode(genome, grid_codes(8))  # (64, 28, 28)
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from .network import Network, network_from_spec, network_spec

__all__ = ["LatentSplit", "split_at_bottleneck", "grid_codes"]


@dataclass(frozen=True)
class LatentSplit:
    """A network cut after its bottleneck layer (index `layer` in network.layers).

    Genome entries [0, split) belong to the encoder, [split, num_params) to the decoder.
    """

    network: Network
    encoder: Network  # input(H, W) ... dense(units)
    decoder: Network  # input(1, units) dense(...) ... the rest of the network
    layer: int
    split: int
    units: int

    def _genome(self, genome: np.ndarray) -> np.ndarray:
        genome = np.ascontiguousarray(genome, dtype=np.float32)
        if genome.shape != (self.network.num_params,):
            raise ValueError(f"genome has shape {genome.shape}, the network needs "
                             f"({self.network.num_params},)")
        return genome

    def encode(self, genome: np.ndarray, images: np.ndarray) -> np.ndarray:
        """The bottleneck codes of images (S, H, W): float32 (S, units)."""
        codes = self.encoder.forward(self._genome(genome)[: self.split], images)
        return codes.reshape(len(codes), self.units)

    def decode(self, genome: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """The network's outputs for bottleneck codes (N, units): float32 (N, ...output)."""
        codes = np.asarray(codes, dtype=np.float32)
        if codes.ndim != 2 or codes.shape[1] != self.units:
            raise ValueError(f"codes must have shape (N, {self.units}), got {codes.shape}")
        tail = self._genome(genome)[self.split:]
        return self.decoder.forward(tail, np.ascontiguousarray(codes.reshape(-1, 1, self.units)))


def split_at_bottleneck(network: Network, units: int = 2) -> LatentSplit:
    """Cut `network` after its first dense layer of `units` units (the paper's network: the
    dense(2) in the middle). Raises ValueError when it has none, or when it is the last layer."""
    calls = json.loads(network_spec(network))
    layers = network.layers
    for i, layer in enumerate(layers):
        if layer["kind"] == "dense" and layer["arguments"] == [units]:
            break
    else:
        raise ValueError(f"the network has no dense({units}) layer to split at: "
                         f"{network!r}")
    if i == len(layers) - 1:
        raise ValueError(f"dense({units}) is the network's last layer: there is no decoder")
    encoder = network_from_spec(json.dumps(calls[: i + 1]))
    # The decoder's input is 1 x units x 1, the bottleneck's output 1 x 1 x units: the same
    # buffer for a dense layer (it flattens) or a reshape, not for a layer that reads an image.
    if layers[i + 1]["kind"] not in ("dense", "reshape"):
        raise ValueError(f"the layer after dense({units}) is {layers[i + 1]['call']}; "
                         "the decoder must start with a dense or reshape layer")
    decoder = network_from_spec(json.dumps([["input", 1, units], *calls[i + 1:]]))
    split = layers[i]["offset"] + layers[i]["num_params"]
    if encoder.num_params != split or decoder.num_params != network.num_params - split:
        raise ValueError("the split networks' parameters do not add up to the network's")
    return LatentSplit(network, encoder, decoder, i, split, units)


def grid_codes(k: int) -> np.ndarray:
    """k x k evenly spaced points of the unit square (cell centres), float32 (k*k, 2), as
    (x, y) pairs in reading order: the top row (largest y) first, x growing along a row."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    centres = (np.arange(k, dtype=np.float32) + 0.5) / k
    y, x = np.meshgrid(centres[::-1], centres, indexing="ij")
    return np.stack([x.ravel(), y.ravel()], axis=1).astype(np.float32)
