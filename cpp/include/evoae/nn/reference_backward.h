// Plain twins of the backward ops (ops.h) and of Network::backward, templated on the scalar
// type T like the forward twins they differentiate (reference_ops.h): one genome, one image, no
// lanes, each gradient written straight from the chain rule in the scatter form (every
// output's gradient sent back to what made it). The network twins run the forward twins
// without fusion and keep every layer's output. Sizes as in ops.h, without the lanes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <type_traits>
#include <variant>
#include <vector>

#include "evoae/nn/activation.h"
#include "evoae/nn/loss.h"
#include "evoae/nn/network.h"
#include "evoae/nn/reference_ops.h"

namespace evoae::reference {

// ---- activations

// act'(z) from the output y = act(z).
template <class T>
T activation_derivative(T y, Activation act) {
  switch (act) {
    case Activation::Sigmoid: return y * (T(1) - y);
    case Activation::ReLU: return y > T(0) ? T(1) : T(0);
    case Activation::Tanh: return T(1) - y * y;
    case Activation::Identity: return T(1);
  }
  return T(1);
}

// y = act(scale * z): dz = dy * act'(scale * z) * scale.
template <class T>
void activation_backward(T* dz, const T* y, const T* dy, long count, Activation act,
                         T scale = T(1)) {
  for (long i = 0; i < count; ++i) dz[i] = dy[i] * activation_derivative<T>(y[i], act) * scale;
}

// Each backward twin: dz the gradient before the activation; the parameters' gradients are
// added to (dkernels, dweights, dbias), the input's written (dx).

// ---- conv

template <class T>
void conv_backward(T* dx, T* dkernels, const T* dz, const T* in, const T* kernels, int C, int H,
                   int W, int kh, int kw, int m) {
  const int OH = H - kh + 1, OW = W - kw + 1;
  std::fill(dx, dx + C * H * W, T(0));
  for (int i = 0; i < C; ++i)
    for (int j = 0; j < m; ++j)
      for (int y = 0; y < OH; ++y)
        for (int x = 0; x < OW; ++x) {
          const T d = dz[((i * m + j) * OH + y) * OW + x];
          for (int a = 0; a < kh; ++a)
            for (int b = 0; b < kw; ++b) {
              const int at = (i * H + y + a) * W + x + b, tap = (j * kh + a) * kw + b;
              dkernels[tap] += d * in[at];
              dx[at] += d * kernels[tap];
            }
        }
}

// ---- maxpool: each output's gradient to the first input of its block (in row order) equal
// to the maximum.

template <class T>
void maxpool_backward(T* dx, const T* dy, const T* in, int C, int H, int W) {
  std::fill(dx, dx + C * H * W, T(0));
  std::vector<T> out(static_cast<std::size_t>(C) * (H / 2) * (W / 2));
  maxpool_forward<T>(out.data(), in, C, H, W);
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < H / 2; ++y)
      for (int x = 0; x < W / 2; ++x) {
        const int o = (c * (H / 2) + y) * (W / 2) + x;
        for (int e = 0; e < 4; ++e) {
          const int at = (c * H + 2 * y + e / 2) * W + 2 * x + e % 2;
          if (in[at] == out[o]) {
            dx[at] = dy[o];
            break;
          }
        }
      }
}

// ---- dense and its tied form: affine_forward's gradients, read the same two ways

template <class T>
void affine_backward(T* dx, T* dweights, T* dbias, const T* dz, const T* in, const T* weights,
                     int O, int P, int o_step, int p_step) {
  std::fill(dx, dx + P, T(0));
  for (int o = 0; o < O; ++o) {
    dbias[o] += dz[o];
    for (int p = 0; p < P; ++p) {
      const int w = o * o_step + p * p_step;
      dweights[w] += dz[o] * in[p];
      dx[p] += dz[o] * weights[w];
    }
  }
}

template <class T>
void dense_backward(T* dx, T* dweights, T* dbias, const T* dz, const T* in, const T* weights,
                    int k, int n) {
  affine_backward<T>(dx, dweights, dbias, dz, in, weights, n, k, k, 1);
}

template <class T>
void dense_transposed_backward(T* dx, T* dweights, T* dbias, const T* dz, const T* in,
                               const T* weights, int n, int k) {
  affine_backward<T>(dx, dweights, dbias, dz, in, weights, k, n, 1, k);
}

// ---- unpool

template <class T>
void unpool_backward(T* dx, const T* dy, int C, int H, int W) {
  std::fill(dx, dx + C * H * W, T(0));
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < 2 * H; ++y)
      for (int x = 0; x < 2 * W; ++x)
        dx[(c * H + y / 2) * W + x / 2] += dy[(c * 2 * H + y) * 2 * W + x];
}

// ---- conv_transpose with a stride

template <class T>
void conv_transpose_backward(T* dx, T* dkernels, const T* dz, const T* in, const T* kernels,
                             int C, int H, int W, int kh, int kw, int r, int stride) {
  const int OH = (H - 1) * stride + kh, OW = (W - 1) * stride + kw;
  std::fill(dx, dx + C * H * W, T(0));
  for (int i = 0; i < C / r; ++i)
    for (int j = 0; j < r; ++j)
      for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x)
          for (int a = 0; a < kh; ++a)
            for (int b = 0; b < kw; ++b) {
              const T d = dz[(i * OH + y * stride + a) * OW + x * stride + b];
              const int at = ((i * r + j) * H + y) * W + x, tap = (j * kh + a) * kw + b;
              dkernels[tap] += d * in[at];
              dx[at] += d * kernels[tap];
            }
}

// ---- losses of one output (n values) against its target, as loss.h defines them

template <class T>
T loss_forward_backward(Loss loss, const T* y, const T* t, int n, T* grad) {
  T sum = 0;
  if (loss == Loss::SoftmaxCrossEntropy) {
    const T top = *std::max_element(y, y + n);
    T exps = 0, mass = 0;
    for (int i = 0; i < n; ++i) {
      exps += std::exp(y[i] - top);
      mass += t[i];
    }
    const T log_sum = top + std::log(exps);  // log sum_i e^y_i
    for (int i = 0; i < n; ++i) {
      sum += t[i] * (log_sum - y[i]);  // -t_i log softmax_i
      if (grad) grad[i] = mass * std::exp(y[i] - log_sum) - t[i];
    }
    return sum;
  }
  const T eps = T(1e-7);
  for (int i = 0; i < n; ++i) {
    // q = 1 - p clamped at eps itself: in float, 1 - eps would round (as loss.cpp says).
    const T d = y[i] - t[i], p = std::min(std::max(y[i], eps), T(1)),
            q = std::max(T(1) - y[i], eps);
    T value = 0, slope = 0;  // the loss of this output and its derivative
    if (loss == Loss::MeanSquared) {
      value = d * d;
      slope = 2 * d;
    } else if (loss == Loss::BinaryCrossEntropy) {
      value = -(t[i] * std::log(p) + (1 - t[i]) * std::log(q));
      slope = (p - t[i]) / (p * q);  // at the clamped p: see loss.h
    } else {  // mae, sae
      value = std::fabs(d);
      slope = T((d > 0) - (d < 0));
    }
    const T per = loss == Loss::SumAbsolute ? T(1) : T(1) / n;
    sum += value;
    if (grad) grad[i] = slope * per;
  }
  return loss == Loss::SumAbsolute ? sum : sum / n;
}

// ---- the whole network, one genome and one image, no fusion

// Every layer's output, layer 0's the image: tape[i] holds layers()[i].output.size() values.
template <class T>
std::vector<std::vector<T>> network_tape(const Network& net, const T* genome, const T* image) {
  const std::vector<Layer>& layers = net.layers();
  std::vector<std::vector<T>> tape(layers.size());
  tape[0].assign(image, image + net.input_shape().size());
  for (std::size_t i = 1; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    const Shape& in = l.input;
    const int C = in.channels, H = in.height, W = in.width, k = static_cast<int>(in.size());
    const T* p = genome + l.offset;
    const T* x = tape[i - 1].data();
    tape[i].assign(l.output.size(), T(0));
    T* out = tape[i].data();
    std::visit(
        [&](const auto& kind) {
          using K = std::decay_t<decltype(kind)>;
          if constexpr (std::is_same_v<K, Conv>) {
            conv_forward<T>(out, x, p, C, H, W, kind.kernel_height, kind.kernel_width,
                            kind.multiplier, kind.activation);
          } else if constexpr (std::is_same_v<K, MaxPool>) {
            maxpool_forward<T>(out, x, C, H, W);
          } else if constexpr (std::is_same_v<K, Dense>) {
            dense_forward<T>(out, x, p, p + l.num_weights, k, kind.units, kind.activation,
                             T(kind.scale));
          } else if constexpr (std::is_same_v<K, DenseTied>) {
            const Layer& s = layers[kind.source];
            dense_transposed_forward<T>(out, x, genome + s.offset, p, k,
                                        static_cast<int>(l.output.size()), kind.activation,
                                        T(s.as<Dense>().scale));
          } else if constexpr (std::is_same_v<K, Unpool>) {
            unpool_forward<T>(out, x, C, H, W);
          } else if constexpr (std::is_same_v<K, ConvTranspose>) {
            conv_transpose_forward<T>(out, x, p, C, H, W, kind.kernel_height, kind.kernel_width,
                                      kind.reducer, 1, kind.activation);
          } else {  // Input, Reshape: the same values, read with other dimensions
            static_assert(std::is_same_v<K, Input> || std::is_same_v<K, Reshape>,
                          "a layer kind without a reference forward pass");
            tape[i] = tape[i - 1];
          }
        },
        l.kind);
  }
  return tape;
}

// The network's output (output_shape().size() values).
template <class T>
std::vector<T> network_forward(const Network& net, const T* genome, const T* image) {
  return network_tape<T>(net, genome, image).back();
}

// grads (num_params) += the gradient of sum_o dy[o] * output[o] with respect to the genome:
// the forward pass, then every layer from the last through its op's twin. dinput, when given,
// receives its gradient with respect to the image (input size).
template <class T>
void network_backward(const Network& net, const T* genome, const T* image, const T* dy,
                      T* grads, T* dinput = nullptr) {
  const std::vector<Layer>& layers = net.layers();
  const std::vector<std::vector<T>> tape = network_tape<T>(net, genome, image);
  std::vector<T> g(dy, dy + net.output_shape().size()), dz, dx;
  for (std::size_t i = layers.size() - 1; i >= 1; --i) {
    const Layer& l = layers[i];
    const Shape& in = l.input;
    const int C = in.channels, H = in.height, W = in.width, k = static_cast<int>(in.size());
    const T* p = genome + l.offset;
    T* dp = grads + l.offset;
    const T* x = tape[i - 1].data();
    const std::optional<Activation> act = l.activation();
    dz = g;
    if (act) {
      const T scale = l.is<Dense>()       ? T(l.as<Dense>().scale)
                      : l.is<DenseTied>() ? T(layers[l.as<DenseTied>().source].as<Dense>().scale)
                                          : T(1);
      activation_backward<T>(dz.data(), tape[i].data(), g.data(), static_cast<long>(g.size()), *act,
                          scale);
    }
    dx.assign(in.size(), T(0));
    if (l.is<Conv>()) {
      const Conv& c = l.as<Conv>();
      conv_backward<T>(dx.data(), dp, dz.data(), x, p, C, H, W, c.kernel_height, c.kernel_width,
                    c.multiplier);
    } else if (l.is<MaxPool>()) {
      maxpool_backward<T>(dx.data(), dz.data(), x, C, H, W);
    } else if (l.is<Dense>()) {
      dense_backward<T>(dx.data(), dp, dp + l.num_weights, dz.data(), x, p, k,
                     l.as<Dense>().units);
    } else if (l.is<DenseTied>()) {
      const Layer& s = layers[l.as<DenseTied>().source];
      dense_transposed_backward<T>(dx.data(), grads + s.offset, dp, dz.data(), x, genome + s.offset,
                                k, static_cast<int>(l.output.size()));
    } else if (l.is<Unpool>()) {
      unpool_backward<T>(dx.data(), dz.data(), C, H, W);
    } else if (l.is<ConvTranspose>()) {
      const ConvTranspose& c = l.as<ConvTranspose>();
      conv_transpose_backward<T>(dx.data(), dp, dz.data(), x, p, C, H, W, c.kernel_height,
                              c.kernel_width, c.reducer, 1);
    } else {  // Reshape: the same values
      dx = dz;
    }
    g.swap(dx);
  }
  if (dinput) std::copy(g.begin(), g.end(), dinput);
}

}  // namespace evoae::reference
