"""The one NumPy reference of the whole network, written from docs/reference-system.md
("the page" below), not from the C++ code. Slow, float64, one image at a time: the tests
compare evoae with it, and bench/numpy_reference.py (the population vectorised, float32, for
speed) with it too (test_bench_reference.py).

A network is described by its builder calls, as evoae.network_spec() writes them:
    [["input", 28, 28], ["conv", 5, 5, 1], ["maxpool"], ["dense", 5], ["reshape", 4, 4, 10],
     ["unpool"], ["conv_transpose", 5, 5, 10], ...]
Activations are float64 arrays of shape (channels, height, width): the page's channel-major,
then row-major buffer. A dense layer's output is (n, 1, 1).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VARADI_SPEC = [
    ["input", 28, 28],
    ["conv", 5, 5, 1], ["maxpool"], ["conv", 5, 5, 1], ["maxpool"],
    ["dense", 5], ["dense", 2], ["dense", 5], ["dense", 160],
    ["reshape", 4, 4, 10], ["unpool"], ["conv_transpose", 5, 5, 1], ["unpool"],
    ["conv_transpose", 5, 5, 10],
]


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# -- one function per layer; x is (C, H, W) float64 ---------------------------------------------

def conv(x: np.ndarray, kernels: np.ndarray) -> np.ndarray:
    """Valid cross-correlation (kernel not flipped), stride 1, channel multiplier, then ReLU.
    kernels: (m, kh, kw). Output channel i*m + j = input channel i correlated with kernel j."""
    C, H, W = x.shape
    m, kh, kw = kernels.shape
    oh, ow = H - kh + 1, W - kw + 1
    out = np.zeros((C * m, oh, ow))
    for i in range(C):
        for j in range(m):
            acc = np.zeros((oh, ow))
            for a in range(kh):
                for b in range(kw):
                    acc += kernels[j, a, b] * x[i, a:a + oh, b:b + ow]
            out[i * m + j] = acc
    return np.maximum(out, 0.0)


def maxpool(x: np.ndarray) -> np.ndarray:
    """Max of each 2x2 block, stride 2; an odd last row or column is dropped."""
    C, H, W = x.shape
    h, w = H // 2, W // 2
    out = np.empty((C, h, w))
    for r in range(h):
        for c in range(w):
            out[:, r, c] = x[:, 2 * r:2 * r + 2, 2 * c:2 * c + 2].reshape(C, 4).max(axis=1)
    return out


def dense(x: np.ndarray, weights: np.ndarray, biases: np.ndarray) -> np.ndarray:
    """y_i = sigmoid(sum_j W[i][j] x_j + b_i) over the flattened (channel-major) input."""
    flat = x.reshape(-1)
    y = np.array([sigmoid(float(np.dot(weights[i], flat)) + biases[i])
                  for i in range(len(biases))])
    return y.reshape(-1, 1, 1)


def reshape(x: np.ndarray, h: int, w: int, c: int) -> np.ndarray:
    """Reinterpret the flat buffer as (c, h, w)."""
    assert x.size == h * w * c
    return x.reshape(c, h, w)


def unpool(x: np.ndarray) -> np.ndarray:
    """Nearest neighbour: each value fills its 2x2 block."""
    C, H, W = x.shape
    out = np.empty((C, 2 * H, 2 * W))
    for r in range(H):
        for c in range(W):
            out[:, 2 * r:2 * r + 2, 2 * c:2 * c + 2] = x[:, r:r + 1, c:c + 1]
    return out


def conv_transpose(x: np.ndarray, kernels: np.ndarray) -> np.ndarray:
    """Full transposed convolution, stride 1, channel reducer, then sigmoid. kernels: (r, kh, kw).
    Output channel i = sigmoid(sum_{j<r} trconv(input channel i*r + j, kernel j))."""
    C, H, W = x.shape
    r, kh, kw = kernels.shape
    assert C % r == 0
    out = np.zeros((C // r, H + kh - 1, W + kw - 1))
    for i in range(C // r):
        for j in range(r):
            src = x[i * r + j]
            # every input pixel scatters its value times the kernel
            for y in range(H):
                for xx in range(W):
                    out[i, y:y + kh, xx:xx + kw] += src[y, xx] * kernels[j]
    return sigmoid(out)


# -- the network ----------------------------------------------------------------------------------

@dataclass
class RefLayer:
    kind: str
    args: tuple
    input_shape: tuple  # (height, width, channels), as the page writes shapes
    output_shape: tuple
    offset: int
    num_weights: int
    num_biases: int

    @property
    def num_params(self) -> int:
        return self.num_weights + self.num_biases


def build(spec) -> list[RefLayer]:
    """Shapes, parameter counts and genome offsets of each layer, from the page's table."""
    assert spec[0][0] == "input"
    h, w = spec[0][1], spec[0][2]
    shape = (h, w, 1)
    layers = [RefLayer("input", (h, w), shape, shape, 0, 0, 0)]
    offset = 0
    for kind, *args in spec[1:]:
        H, W, C = shape
        nw = nb = 0
        if kind == "conv":
            kh, kw, m = args
            out = (H - kh + 1, W - kw + 1, C * m)
            nw = kh * kw * m
        elif kind == "maxpool":
            out = (H // 2, W // 2, C)
        elif kind == "dense":
            (n,) = args
            out = (1, 1, n)
            nw, nb = H * W * C * n, n
        elif kind == "reshape":
            out = tuple(args)
            assert out[0] * out[1] * out[2] == H * W * C
        elif kind == "unpool":
            out = (2 * H, 2 * W, C)
        elif kind == "conv_transpose":
            kh, kw, r = args
            assert C % r == 0
            out = (H + kh - 1, W + kw - 1, C // r)
            nw = kh * kw * r
        else:
            raise ValueError(f"unknown layer {kind}")
        layers.append(RefLayer(kind, tuple(args), shape, out, offset, nw, nb))
        offset += nw + nb
        shape = out
    return layers


def num_params(spec) -> int:
    return sum(layer.num_params for layer in build(spec))


def output_array_shape(shape: tuple) -> tuple:
    """NumPy shape of one output, as evoae returns it: (n,) for 1x1xn, (h, w) for one channel,
    (c, h, w) otherwise."""
    h, w, c = shape
    if h == 1 and w == 1:
        return (c,)
    if c == 1:
        return (h, w)
    return (c, h, w)


def forward(spec, genome: np.ndarray, image: np.ndarray) -> np.ndarray:
    """The output of the network for one 2-D image, float64, shaped as evoae returns it."""
    layers = build(spec)
    genome = np.asarray(genome, dtype=np.float64)
    assert genome.shape == (sum(layer.num_params for layer in layers),)
    x = np.asarray(image, dtype=np.float64).reshape(1, *layers[0].output_shape[:2])
    for layer in layers[1:]:
        p = genome[layer.offset:layer.offset + layer.num_params]
        if layer.kind == "conv":
            kh, kw, m = layer.args
            x = conv(x, p.reshape(m, kh, kw))
        elif layer.kind == "maxpool":
            x = maxpool(x)
        elif layer.kind == "dense":
            (n,) = layer.args
            x = dense(x, p[:layer.num_weights].reshape(n, -1), p[layer.num_weights:])
        elif layer.kind == "reshape":
            x = reshape(x, *layer.args)
        elif layer.kind == "unpool":
            x = unpool(x)
        elif layer.kind == "conv_transpose":
            kh, kw, r = layer.args
            x = conv_transpose(x, p.reshape(r, kh, kw))
        h, w, c = layer.output_shape
        assert x.shape == (c, h, w), (layer, x.shape)
    return x.reshape(output_array_shape(layers[-1].output_shape))


def forward_many(spec, genome: np.ndarray, images: np.ndarray) -> np.ndarray:
    return np.stack([forward(spec, genome, image) for image in images])
