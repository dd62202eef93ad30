// Plain twins of the backward ops (ops.h) and of Network::backward, templated on the scalar
// type T (float to check the fast ops, double to be checked against central differences):
// one genome, one image, no lanes, each gradient written straight from the chain rule in the
// scatter form (every output's gradient sent back to what made it). The forward twins here are
// reference_ops.h's, templated, with conv_transpose's stride; the network twin runs them
// without fusion and keeps every layer's output. Sizes as in ops.h, without the lanes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <vector>

#include "evoae/nn/activation.h"
#include "evoae/nn/loss.h"
#include "evoae/nn/network.h"

namespace evoae::reference {

// ---- activations

template <class T>
T activate(T x, Activation act) {
  switch (act) {
    case Activation::Sigmoid: return T(1) / (T(1) + std::exp(-x));
    case Activation::ReLU: return x > T(0) ? x : T(0);
    case Activation::Tanh: return std::tanh(x);
    case Activation::Identity: return x;
  }
  return x;
}

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

template <class T>
void activate_all(T* out, long count, Activation act, T scale = T(1)) {
  for (long i = 0; i < count; ++i) out[i] = activate<T>(scale * out[i], act);
}

// ---- conv: out[i*m + j][y][x] = act(sum over a, b of in[i][y + a][x + b] * k_j[a][b])

template <class T>
void conv_forward(T* out, const T* in, const T* kernels, int C, int H, int W, int kh, int kw,
                  int m, Activation act) {
  const int OH = H - kh + 1, OW = W - kw + 1;
  std::fill(out, out + C * m * OH * OW, T(0));
  for (int i = 0; i < C; ++i)
    for (int j = 0; j < m; ++j)
      for (int y = 0; y < OH; ++y)
        for (int x = 0; x < OW; ++x)
          for (int a = 0; a < kh; ++a)
            for (int b = 0; b < kw; ++b)
              out[((i * m + j) * OH + y) * OW + x] +=
                  in[(i * H + y + a) * W + x + b] * kernels[(j * kh + a) * kw + b];
  activate_all<T>(out, C * m * OH * OW, act);
}

// Each backward twin: dz the gradient before the activation; the parameters' gradients are
// added to (dkernels, dweights, dbias), the input's written (dx).
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

// ---- maxpool: 2x2, stride 2, an odd last row or column dropped

template <class T>
void maxpool_forward(T* out, const T* in, int C, int H, int W) {
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < H / 2; ++y)
      for (int x = 0; x < W / 2; ++x) {
        T best = in[(c * H + 2 * y) * W + 2 * x];
        for (int e = 1; e < 4; ++e)  // the block in row order
          best = std::max(best, in[(c * H + 2 * y + e / 2) * W + 2 * x + e % 2]);
        out[(c * (H / 2) + y) * (W / 2) + x] = best;
      }
}

// Each output's gradient to the first input of its block (in row order) equal to the maximum.
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

// ---- dense: out[i] = act(scale * (sum_j weights[i][j] * in[j] + bias[i]))

template <class T>
void dense_forward(T* out, const T* in, const T* weights, const T* bias, int k, int n,
                   Activation act, T scale) {
  for (int i = 0; i < n; ++i) {
    out[i] = bias[i];
    for (int j = 0; j < k; ++j) out[i] += weights[i * k + j] * in[j];
  }
  activate_all<T>(out, n, act, scale);
}

template <class T>
void dense_backward(T* dx, T* dweights, T* dbias, const T* dz, const T* in, const T* weights,
                    int k, int n) {
  std::fill(dx, dx + k, T(0));
  for (int i = 0; i < n; ++i) {
    dbias[i] += dz[i];
    for (int j = 0; j < k; ++j) {
      dweights[i * k + j] += dz[i] * in[j];
      dx[j] += dz[i] * weights[i * k + j];
    }
  }
}

// The tied form, the weights (n, k) of a dense layer k -> n mapping n -> k:
// out[j] = act(scale * (sum_i weights[i][j] * in[i] + bias[j])).
template <class T>
void dense_transposed_forward(T* out, const T* in, const T* weights, const T* bias, int n,
                              int k, Activation act, T scale) {
  for (int j = 0; j < k; ++j) {
    out[j] = bias[j];
    for (int i = 0; i < n; ++i) out[j] += weights[i * k + j] * in[i];
  }
  activate_all<T>(out, k, act, scale);
}

template <class T>
void dense_transposed_backward(T* dx, T* dweights, T* dbias, const T* dz, const T* in,
                               const T* weights, int n, int k) {
  std::fill(dx, dx + n, T(0));
  for (int j = 0; j < k; ++j) {
    dbias[j] += dz[j];
    for (int i = 0; i < n; ++i) {
      dweights[i * k + j] += dz[j] * in[i];
      dx[i] += dz[j] * weights[i * k + j];
    }
  }
}

// ---- unpool: every value fills its 2x2 block

template <class T>
void unpool_forward(T* out, const T* in, int C, int H, int W) {
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < 2 * H; ++y)
      for (int x = 0; x < 2 * W; ++x)
        out[(c * 2 * H + y) * 2 * W + x] = in[(c * H + y / 2) * W + x / 2];
}

template <class T>
void unpool_backward(T* dx, const T* dy, int C, int H, int W) {
  std::fill(dx, dx + C * H * W, T(0));
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < 2 * H; ++y)
      for (int x = 0; x < 2 * W; ++x)
        dx[(c * H + y / 2) * W + x / 2] += dy[(c * 2 * H + y) * 2 * W + x];
}

// ---- conv_transpose with a stride: out[i][y*s + a][x*s + b] += in[i*r + j][y][x] * k_j[a][b]
// over j < r, then act. out: (C/r, (H-1)*s + kh, (W-1)*s + kw).

template <class T>
void conv_transpose_forward(T* out, const T* in, const T* kernels, int C, int H, int W, int kh,
                            int kw, int r, int stride, Activation act) {
  const int OH = (H - 1) * stride + kh, OW = (W - 1) * stride + kw;
  std::fill(out, out + C / r * OH * OW, T(0));
  for (int i = 0; i < C / r; ++i)
    for (int j = 0; j < r; ++j)
      for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x)
          for (int a = 0; a < kh; ++a)
            for (int b = 0; b < kw; ++b)
              out[(i * OH + y * stride + a) * OW + x * stride + b] +=
                  in[((i * r + j) * H + y) * W + x] * kernels[(j * kh + a) * kw + b];
  activate_all<T>(out, C / r * OH * OW, act);
}

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
    const T d = y[i] - t[i], p = std::min(std::max(y[i], eps), T(1) - eps);
    T value = 0, slope = 0;  // the loss of this output and its derivative
    if (loss == Loss::MeanSquared) {
      value = d * d;
      slope = 2 * d;
    } else if (loss == Loss::BinaryCrossEntropy) {
      value = -(t[i] * std::log(p) + (1 - t[i]) * std::log(1 - p));
      slope = (p - t[i]) / (p * (1 - p));  // at the clamped p: see loss.h
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
    if (l.is<Conv>()) {
      const Conv& c = l.as<Conv>();
      conv_forward<T>(out, x, p, C, H, W, c.kernel_height, c.kernel_width, c.multiplier,
                   c.activation);
    } else if (l.is<MaxPool>()) {
      maxpool_forward<T>(out, x, C, H, W);
    } else if (l.is<Dense>()) {
      const Dense& d = l.as<Dense>();
      dense_forward<T>(out, x, p, p + l.num_weights, k, d.units, d.activation, T(d.scale));
    } else if (l.is<DenseTied>()) {
      const DenseTied& t = l.as<DenseTied>();
      const Layer& s = layers[t.source];
      dense_transposed_forward<T>(out, x, genome + s.offset, p, k,
                               static_cast<int>(l.output.size()), t.activation,
                               T(s.as<Dense>().scale));
    } else if (l.is<Unpool>()) {
      unpool_forward<T>(out, x, C, H, W);
    } else if (l.is<ConvTranspose>()) {
      const ConvTranspose& c = l.as<ConvTranspose>();
      conv_transpose_forward<T>(out, x, p, C, H, W, c.kernel_height, c.kernel_width, c.reducer, 1,
                             c.activation);
    } else if (l.is<Reshape>()) {
      tape[i] = tape[i - 1];
    } else {
      throw std::logic_error("network_tape: a layer kind without a reference forward pass");
    }
  }
  return tape;
}

// The network's output (output_shape().size() values).
template <class T>
std::vector<T> network_forward(const Network& net, const T* genome, const T* image) {
  return network_tape(net, genome, image).back();
}

// grads (num_params) += the gradient of sum_o dy[o] * output[o] with respect to the genome:
// the forward pass, then every layer from the last through its op's twin.
template <class T>
void network_backward(const Network& net, const T* genome, const T* image, const T* dy,
                      T* grads) {
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
}

}  // namespace evoae::reference
