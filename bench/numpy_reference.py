"""The network and the original loop in plain NumPy, the population vectorised as a NumPy
user would write it: einsum over sliding windows for the convolutions, batched matmul for the
dense layers, shift-and-add over the 25 kernel taps for the transposed convolutions.

This is the benchmarks' NumPy peer, not the reference: that is tests/python/reference.py
(written from docs/reference-system.md, float64, one image at a time, any network). This one
is float32 and hard-codes the paper's network to be as fast as NumPy gets, which the
reference's loops are not meant to be; tests/python/test_bench_reference.py checks the two
compute the same outputs and errors."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from workload import MUTATIONS, POPULATION, SEED, initial_population, split


def sigmoid(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp overflow -> inf -> 0, the right limit
        return 1.0 / (1.0 + np.exp(-z))


def conv_relu(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Valid cross-correlation + ReLU. x (P|1, S, H, W), k (P, 5, 5) -> (P, S, H-4, W-4)."""
    windows = sliding_window_view(x, k.shape[1:], axis=(-2, -1))  # (P|1, S, H-4, W-4, 5, 5)
    if x.shape[0] == 1:  # the images, shared by all genomes: optimize=True makes it one GEMM
        y = np.einsum("syxij,pij->psyx", windows[0], k, optimize=True)
    else:
        y = np.einsum("psyxij,pij->psyx", windows, k)
    return np.maximum(y, 0.0)


def maxpool(x: np.ndarray) -> np.ndarray:
    """2x2 max, stride 2, over the last two axes."""
    *lead, h, w = x.shape
    return x.reshape(*lead, h // 2, 2, w // 2, 2).max(axis=(-3, -1))


def unpool(x: np.ndarray) -> np.ndarray:
    """Nearest-neighbour 2x upsampling over the last two axes."""
    return x.repeat(2, axis=-2).repeat(2, axis=-1)


def conv_transpose_each(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Full transposed convolution of every channel with one kernel (reducer 1): each tap
    (i, j) adds the input times k[i, j] at offset (i, j).
    x (P, S, C, H, W), k (P, 5, 5) -> (P, S, C, H+4, W+4)."""
    P, S, C, H, W = x.shape
    kh, kw = k.shape[-2:]
    y = np.zeros((P, S, C, H + kh - 1, W + kw - 1), dtype=np.float32)
    for i in range(kh):
        for j in range(kw):
            y[..., i:i + H, j:j + W] += x * k[:, None, None, i, j, None, None]
    return y


def conv_transpose_sum(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Full transposed convolution of channel c with kernel c, summed over c (reducer C):
    one batched matmul gives every tap's channel sum, then each tap is added at its offset.
    x (P, S, C, H, W), k (P, C, 5, 5) -> (P, S, H+4, W+4)."""
    P, S, C, H, W = x.shape
    kh, kw = k.shape[-2:]
    taps = np.matmul(k.reshape(P, 1, C, kh * kw).transpose(0, 1, 3, 2),  # (P, 1, 25, C)
                     x.reshape(P, S, C, H * W))  # -> (P, S, 25, H*W)
    taps = taps.reshape(P, S, kh, kw, H, W)
    y = np.zeros((P, S, H + kh - 1, W + kw - 1), dtype=np.float32)
    for i in range(kh):
        for j in range(kw):
            y[..., i:i + H, j:j + W] += taps[:, :, i, j]
    return y


def forward(genomes: np.ndarray, images: np.ndarray) -> np.ndarray:
    """genomes float32 (P, NUM_PARAMS), images (S, 28, 28) -> outputs (P, S, 28, 28)."""
    w = split(genomes)
    P, S = len(genomes), len(images)
    h = maxpool(conv_relu(images[None], w["conv1"][:, 0]))  # (P, S, 12, 12)
    h = maxpool(conv_relu(h, w["conv2"][:, 0]))  # (P, S, 4, 4)
    h = h.reshape(P, S, 16)
    for layer in ("dense1", "dense2", "dense3", "dense4"):  # (P, S, 5) (2) (5) (160)
        h = sigmoid(np.matmul(h, w[layer + "_w"].transpose(0, 2, 1)) + w[layer + "_b"][:, None])
    h = unpool(h.reshape(P, S, 10, 4, 4))  # channel-major reshape, (P, S, 10, 8, 8)
    h = unpool(sigmoid(conv_transpose_each(h, w["trconv1"][:, 0])))  # (P, S, 10, 24, 24)
    return sigmoid(conv_transpose_sum(h, w["trconv2"]))  # (P, S, 28, 28)


def errors(genomes: np.ndarray, images: np.ndarray) -> np.ndarray:
    """Sum of |output - image| over images and pixels, float64 (P,)."""
    return np.abs(forward(genomes, images) - images).sum(axis=(1, 2, 3), dtype=np.float64)


class Evolution:
    """The original loop; agent 0's error is kept, so a generation evaluates P-1 genomes."""

    def __init__(self, images: np.ndarray, population: int = POPULATION,
                 mutations: int = MUTATIONS, seed: int = SEED):
        self.images = images
        self.genomes = initial_population(population, seed)
        self.mutations = mutations
        self.rng = np.random.default_rng(seed)
        self.errors = errors(self.genomes, images)
        self.evaluations = population * len(images)

    def step(self) -> None:
        P, G = self.genomes.shape
        best = int(np.argmin(self.errors))  # the first of equal minima
        elite_error = self.errors[best]
        self.genomes[:] = self.genomes[best].copy()
        index = self.rng.integers(G, size=self.mutations)
        noise = self.rng.uniform(-1.0, 1.0, (P - 1, self.mutations)).astype(np.float32)
        np.add.at(self.genomes, (slice(1, None), index), noise)  # a repeated index adds twice
        self.errors = np.concatenate([[elite_error], errors(self.genomes[1:], self.images)])
        self.evaluations += (P - 1) * len(self.images)

    def run(self, generations: int) -> None:
        for _ in range(generations):
            self.step()

    def state(self) -> tuple[np.ndarray, np.ndarray]:
        return self.genomes.copy(), self.errors.copy()
