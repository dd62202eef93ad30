"""The one NumPy reference of the whole network, forward and backward, written from
docs/reference-system.md ("the page" below) and the contracts in cpp/include/evoae/nn/layer.h
and loss.h, not from the C++ code. Slow, float64, one image at a time: the tests compare evoae
with it, and bench/numpy_reference.py (the population vectorised, float32, for speed) with it
too (test_bench_reference.py).

A network is described by its builder calls, as evoae.network_spec() writes them:
    [["input", 28, 28], ["conv", 5, 5, 1], ["maxpool"], ["dense", 5], ["reshape", 4, 4, 10],
     ["unpool"], ["conv_transpose", 5, 5, 10], ["conv", 3, 3, 2, "tanh"],
     ["dense", 50, "relu", 0.07], ["dense_tied", 5, "identity"], ...]
the integers, then the activation where it is not the kind's default (or a scale follows),
then a dense layer's scale where it is not 1. Activations are float64 arrays of shape
(channels, height, width): the page's channel-major, then row-major buffer. A dense layer's
output is (n, 1, 1).

Each layer's backward takes the layer's input, its parameters and dy, the gradient of a loss
with respect to the layer's output (after the activation), and returns the gradients with
respect to the input and to each parameter array, shaped like them.
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

# The activation a layer kind has when its builder call names none (layer.h).
DEFAULT_ACTIVATION = {"conv": "relu", "conv_transpose": "sigmoid", "dense": "sigmoid",
                      "dense_tied": "sigmoid"}


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


ACTIVATIONS = {
    "sigmoid": sigmoid,
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "identity": lambda z: z,
}


def activation_derivative(name: str, z: np.ndarray) -> np.ndarray:
    """d act(z) / dz at the pre-activation z; ReLU's is 0 at z = 0 (ops.h: y > 0)."""
    if name == "sigmoid":
        s = sigmoid(z)
        return s * (1.0 - s)
    if name == "relu":
        return (z > 0).astype(np.float64)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "identity":
        return np.ones_like(z)
    raise ValueError(f"unknown activation {name!r}")


# -- one function per layer, forward then backward; x is (C, H, W) float64 -----------------------

def conv_sum(x: np.ndarray, kernels: np.ndarray) -> np.ndarray:
    """Valid cross-correlation (kernel not flipped), stride 1, channel multiplier, before the
    activation. kernels: (m, kh, kw). Output channel i*m + j = input channel i correlated with
    kernel j."""
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
    return out


def conv(x: np.ndarray, kernels: np.ndarray, activation: str = "relu") -> np.ndarray:
    """conv_sum, then the activation (ReLU, the page's)."""
    return ACTIVATIONS[activation](conv_sum(x, kernels))


def conv_backward(x, kernels, dy, activation: str = "relu"):
    """(dx, dkernels) of conv: each kernel weight met every pixel of its output channels."""
    dz = dy * activation_derivative(activation, conv_sum(x, kernels))
    C = x.shape[0]
    m, kh, kw = kernels.shape
    oh, ow = dz.shape[1:]
    dx, dk = np.zeros_like(x), np.zeros_like(kernels)
    for i in range(C):
        for j in range(m):
            for a in range(kh):
                for b in range(kw):
                    window = (i, slice(a, a + oh), slice(b, b + ow))
                    dk[j, a, b] += np.sum(dz[i * m + j] * x[window])
                    dx[window] += kernels[j, a, b] * dz[i * m + j]
    return dx, dk


def maxpool(x: np.ndarray) -> np.ndarray:
    """Max of each 2x2 block, stride 2; an odd last row or column is dropped."""
    C, H, W = x.shape
    h, w = H // 2, W // 2
    out = np.empty((C, h, w))
    for r in range(h):
        for c in range(w):
            out[:, r, c] = x[:, 2 * r:2 * r + 2, 2 * c:2 * c + 2].reshape(C, 4).max(axis=1)
    return out


def maxpool_backward(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Each output's gradient goes to the first maximum of its block, row by row (argmax
    returns the first); the rest of the block and a dropped odd row or column get 0."""
    C = x.shape[0]
    h, w = dy.shape[1:]
    dx = np.zeros_like(x)
    for ch in range(C):
        for r in range(h):
            for c in range(w):
                first = int(np.argmax(x[ch, 2 * r:2 * r + 2, 2 * c:2 * c + 2].reshape(4)))
                dx[ch, 2 * r + first // 2, 2 * c + first % 2] = dy[ch, r, c]
    return dx


def dense(x: np.ndarray, weights: np.ndarray, biases: np.ndarray, activation: str = "sigmoid",
          scale: float = 1.0) -> np.ndarray:
    """y_i = act(scale * (sum_j W[i][j] x_j + b_i)) over the flattened (channel-major) input;
    the page's layer is sigmoid with scale 1."""
    flat = x.reshape(-1)
    z = np.array([scale * (float(np.dot(weights[i], flat)) + biases[i])
                  for i in range(len(biases))])
    return ACTIVATIONS[activation](z).reshape(-1, 1, 1)


def dense_backward(x, weights, biases, dy, activation: str = "sigmoid", scale: float = 1.0):
    """(dx, dweights, dbiases) of dense: the scale multiplies every path through the sum."""
    flat = x.reshape(-1)
    z = scale * (weights @ flat + biases)
    dsum = scale * dy.reshape(-1) * activation_derivative(activation, z)
    return (weights.T @ dsum).reshape(x.shape), np.outer(dsum, flat), dsum


def reshape(x: np.ndarray, h: int, w: int, c: int) -> np.ndarray:
    """Reinterpret the flat buffer as (c, h, w)."""
    assert x.size == h * w * c
    return x.reshape(c, h, w)


def reshape_backward(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    return dy.reshape(x.shape)


def unpool(x: np.ndarray) -> np.ndarray:
    """Nearest neighbour: each value fills its 2x2 block."""
    C, H, W = x.shape
    out = np.empty((C, 2 * H, 2 * W))
    for r in range(H):
        for c in range(W):
            out[:, 2 * r:2 * r + 2, 2 * c:2 * c + 2] = x[:, r:r + 1, c:c + 1]
    return out


def unpool_backward(dy: np.ndarray) -> np.ndarray:
    """Each input value gets the sum of the gradients of its 2x2 block."""
    C, H2, W2 = dy.shape
    return dy.reshape(C, H2 // 2, 2, W2 // 2, 2).sum(axis=(2, 4))


def conv_transpose_sum(x: np.ndarray, kernels: np.ndarray) -> np.ndarray:
    """Full transposed convolution, stride 1, channel reducer, before the activation.
    kernels: (r, kh, kw). Output channel i = sum_{j<r} trconv(input channel i*r + j, kernel j)."""
    C, H, W = x.shape
    r, kh, kw = kernels.shape
    assert C % r == 0
    out = np.zeros((C // r, H + kh - 1, W + kw - 1))
    for i in range(C // r):
        for j in range(r):
            # every input pixel (y, x) scatters its value times kernel weight (a, b) to (y+a, x+b)
            for a in range(kh):
                for b in range(kw):
                    out[i, a:a + H, b:b + W] += kernels[j, a, b] * x[i * r + j]
    return out


def conv_transpose(x: np.ndarray, kernels: np.ndarray, activation: str = "sigmoid") -> np.ndarray:
    """conv_transpose_sum, then the activation (sigmoid, the page's)."""
    return ACTIVATIONS[activation](conv_transpose_sum(x, kernels))


def conv_transpose_backward(x, kernels, dy, activation: str = "sigmoid"):
    """(dx, dkernels) of conv_transpose: kernel weight (j, a, b) carried input pixel (y, x) of
    channel i*r + j to output pixel (y + a, x + b) of channel i."""
    dz = dy * activation_derivative(activation, conv_transpose_sum(x, kernels))
    C, H, W = x.shape
    r, kh, kw = kernels.shape
    dx, dk = np.zeros_like(x), np.zeros_like(kernels)
    for i in range(C // r):
        for j in range(r):
            for a in range(kh):
                for b in range(kw):
                    window = dz[i, a:a + H, b:b + W]
                    dk[j, a, b] += np.sum(window * x[i * r + j])
                    dx[i * r + j] += kernels[j, a, b] * window
    return dx, dk


# -- losses of one output y against its target t (flattened), with their gradients ---------------

BCE_CLAMP = 1e-7


def _bce_clamped(y: np.ndarray) -> np.ndarray:
    return np.clip(y, BCE_CLAMP, 1.0 - BCE_CLAMP)


def _log_softmax(y: np.ndarray) -> np.ndarray:
    shifted = y - y.max()
    return shifted - np.log(np.sum(np.exp(shifted)))


def loss_value(name: str, y: np.ndarray, t: np.ndarray) -> float:
    """mae: mean |y - t|; sae: sum |y - t|; mse: mean (y - t)^2; bce: mean binary
    cross-entropy of y clamped to [1e-7, 1 - 1e-7]; softmax-ce: -sum t log softmax(y)."""
    y, t = np.ravel(y).astype(np.float64), np.ravel(t).astype(np.float64)
    assert y.shape == t.shape, (y.shape, t.shape)
    if name == "mae":
        return float(np.mean(np.abs(y - t)))
    if name == "sae":
        return float(np.sum(np.abs(y - t)))
    if name == "mse":
        return float(np.mean((y - t) ** 2))
    if name == "bce":
        c = _bce_clamped(y)
        return float(-np.mean(t * np.log(c) + (1.0 - t) * np.log(1.0 - c)))
    if name == "softmax-ce":
        return float(-np.sum(t * _log_softmax(y)))
    raise ValueError(f"unknown loss {name!r}")


def loss_gradient(name: str, y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """d loss_value / dy, shaped like y. |y - t|' at y = t is 0. bce's is taken at the clamped
    output p (loss.h): (p - t) / (p (1 - p)) / n, also where the clamp holds y, so that a
    saturated output is still pushed back (there it is not the clamped loss's derivative)."""
    shape = np.shape(y)
    y, t = np.ravel(y).astype(np.float64), np.ravel(t).astype(np.float64)
    n = y.size
    if name == "mae":
        g = np.sign(y - t) / n
    elif name == "sae":
        g = np.sign(y - t)
    elif name == "mse":
        g = 2.0 * (y - t) / n
    elif name == "bce":
        p = _bce_clamped(y)
        g = (p - t) / (p * (1.0 - p)) / n
    elif name == "softmax-ce":
        g = np.exp(_log_softmax(y)) * np.sum(t) - t
    else:
        raise ValueError(f"unknown loss {name!r}")
    return g.reshape(shape)


LOSSES = ("mae", "sae", "mse", "bce", "softmax-ce")


# -- the network ----------------------------------------------------------------------------------

@dataclass
class RefLayer:
    kind: str
    args: tuple  # the builder's integers
    input_shape: tuple  # (height, width, channels), as the page writes shapes
    output_shape: tuple
    offset: int
    num_weights: int
    num_biases: int
    activation: str | None = None  # conv, conv_transpose, dense, dense_tied
    scale: float = 1.0  # dense; a dense_tied layer's is its source's

    @property
    def num_params(self) -> int:
        return self.num_weights + self.num_biases


def _split_call(kind: str, args: list) -> tuple:
    """(integers, activation, scale) of one builder call's arguments after the kind."""
    scale, activation = 1.0, DEFAULT_ACTIVATION.get(kind)
    if kind == "dense" and len(args) == 3 and not isinstance(args[2], str):
        *args, scale = args
    if args and isinstance(args[-1], str):
        *args, activation = args
    assert activation is None or activation in ACTIVATIONS, (kind, activation)
    assert all(isinstance(a, int) for a in args), (kind, args)
    return tuple(args), activation, float(scale)


def build(spec) -> list[RefLayer]:
    """Shapes, parameter counts and genome offsets of each layer, from the page's table."""
    assert spec[0][0] == "input"
    h, w = spec[0][1], spec[0][2]
    shape = (h, w, 1)
    layers = [RefLayer("input", (h, w), shape, shape, 0, 0, 0)]
    offset = 0
    for kind, *call in spec[1:]:
        args, activation, scale = _split_call(kind, call)
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
        elif kind == "dense_tied":
            source = layers[args[0]]  # maps k -> n; this layer n -> k, with the source's scale
            assert source.kind == "dense" and np.prod(source.output_shape) == H * W * C
            out = (1, 1, int(np.prod(source.input_shape)))
            nb, scale = out[2], source.scale
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
        layers.append(RefLayer(kind, args, shape, out, offset, nw, nb, activation, scale))
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


def _parameters(layers: list[RefLayer], layer: RefLayer, genome: np.ndarray) -> dict:
    """Views of the layer's parameters in `genome` (or in a gradient laid out like it), by the
    name its layer function gives them; a tied layer's weights are its source's, (n, k)."""
    p = genome[layer.offset:layer.offset + layer.num_params]
    if layer.kind == "conv":
        kh, kw, m = layer.args
        return {"kernels": p.reshape(m, kh, kw)}
    if layer.kind == "conv_transpose":
        kh, kw, r = layer.args
        return {"kernels": p.reshape(r, kh, kw)}
    if layer.kind == "dense":
        return {"weights": p[:layer.num_weights].reshape(layer.num_biases, -1),
                "biases": p[layer.num_weights:]}
    if layer.kind == "dense_tied":
        source = layers[layer.args[0]]
        return {"weights": _parameters(layers, source, genome)["weights"], "biases": p}
    return {}


def layer_forward(layers: list[RefLayer], layer: RefLayer, genome: np.ndarray,
                  x: np.ndarray) -> np.ndarray:
    """One layer's output for its input x, its parameters read from `genome`."""
    p = _parameters(layers, layer, genome)
    if layer.kind == "conv":
        return conv(x, p["kernels"], layer.activation)
    if layer.kind == "maxpool":
        return maxpool(x)
    if layer.kind == "dense":
        return dense(x, p["weights"], p["biases"], layer.activation, layer.scale)
    if layer.kind == "dense_tied":
        return dense(x, p["weights"].T, p["biases"], layer.activation, layer.scale)
    if layer.kind == "reshape":
        return reshape(x, *layer.args)
    if layer.kind == "unpool":
        return unpool(x)
    if layer.kind == "conv_transpose":
        return conv_transpose(x, p["kernels"], layer.activation)
    raise ValueError(f"unknown layer {layer.kind}")


def layer_backward(layers: list[RefLayer], layer: RefLayer, genome: np.ndarray, x: np.ndarray,
                   dy: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """The gradient with respect to the layer's input x; ADDS its parameters' gradients into
    grad (laid out like genome; a tied layer's weights' into its source's)."""
    p, g = _parameters(layers, layer, genome), _parameters(layers, layer, grad)
    if layer.kind == "conv":
        dx, dk = conv_backward(x, p["kernels"], dy, layer.activation)
        g["kernels"] += dk
    elif layer.kind == "conv_transpose":
        dx, dk = conv_transpose_backward(x, p["kernels"], dy, layer.activation)
        g["kernels"] += dk
    elif layer.kind == "dense":
        dx, dw, db = dense_backward(x, p["weights"], p["biases"], dy, layer.activation,
                                    layer.scale)
        g["weights"] += dw
        g["biases"] += db
    elif layer.kind == "dense_tied":
        dx, dw, db = dense_backward(x, p["weights"].T, p["biases"], dy, layer.activation,
                                    layer.scale)
        g["weights"] += dw.T
        g["biases"] += db
    elif layer.kind == "maxpool":
        dx = maxpool_backward(x, dy)
    elif layer.kind == "reshape":
        dx = reshape_backward(x, dy)
    elif layer.kind == "unpool":
        dx = unpool_backward(dy)
    else:
        raise ValueError(f"unknown layer {layer.kind}")
    return dx


def _check_genome(layers: list[RefLayer], genome) -> np.ndarray:
    genome = np.asarray(genome, dtype=np.float64)
    assert genome.shape == (sum(layer.num_params for layer in layers),)
    return genome


def activations(spec, genome: np.ndarray, image: np.ndarray) -> list[np.ndarray]:
    """Every layer's output for one 2-D image, (C, H, W) float64 each, the input first."""
    layers = build(spec)
    genome = _check_genome(layers, genome)
    tape = [np.asarray(image, dtype=np.float64).reshape(1, *layers[0].output_shape[:2])]
    for layer in layers[1:]:
        tape.append(layer_forward(layers, layer, genome, tape[-1]))
        h, w, c = layer.output_shape
        assert tape[-1].shape == (c, h, w), (layer, tape[-1].shape)
    return tape


def forward(spec, genome: np.ndarray, image: np.ndarray) -> np.ndarray:
    """The output of the network for one 2-D image, float64, shaped as evoae returns it."""
    out = activations(spec, genome, image)[-1]
    return out.reshape(output_array_shape(build(spec)[-1].output_shape))


def forward_many(spec, genome: np.ndarray, images: np.ndarray) -> np.ndarray:
    return np.stack([forward(spec, genome, image) for image in images])


def _backward_tape(layers: list[RefLayer], genome: np.ndarray, tape: list[np.ndarray],
                   dy: np.ndarray) -> np.ndarray:
    grad = np.zeros_like(genome)
    d = np.asarray(dy, dtype=np.float64).reshape(tape[-1].shape)
    for i in range(len(layers) - 1, 0, -1):
        d = layer_backward(layers, layers[i], genome, tape[i - 1], d, grad)
    return grad


def backward(spec, genome: np.ndarray, image: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """d (sum dy * output) / d genome for one image: the gradient, laid out like the genome,
    of a loss whose gradient with respect to the output is dy (any shape of output's size)."""
    layers = build(spec)
    genome = _check_genome(layers, genome)
    return _backward_tape(layers, genome, activations(spec, genome, image), dy)


def loss_and_gradient(spec, genome: np.ndarray, image: np.ndarray, target: np.ndarray,
                      loss: str = "mae") -> tuple[float, np.ndarray]:
    """(loss, d loss / d genome) of one image against its target (any shape of the output's
    size)."""
    layers = build(spec)
    genome = _check_genome(layers, genome)
    tape = activations(spec, genome, image)
    y = tape[-1]
    t = np.asarray(target, dtype=np.float64).reshape(y.shape)
    return loss_value(loss, y, t), _backward_tape(layers, genome, tape, loss_gradient(loss, y, t))


def mean_loss_and_gradient(spec, genome: np.ndarray, images: np.ndarray, targets=None,
                           loss: str = "mae") -> tuple[float, np.ndarray]:
    """The means over images of loss_and_gradient; targets None: the images themselves."""
    targets = images if targets is None else targets
    pairs = [loss_and_gradient(spec, genome, x, t, loss) for x, t in zip(images, targets)]
    return (float(np.mean([value for value, _ in pairs])),
            np.mean([grad for _, grad in pairs], axis=0))
