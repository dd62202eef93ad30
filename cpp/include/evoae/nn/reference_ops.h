// Plain reference twins of ops.h's forward ops: one genome, one image, no lanes, each output
// computed straight from its definition, no loop reordering. Tests compare the fast ops against
// these. Templated on the scalar type T (deduced from the buffers: float to check the fast ops,
// double to be checked against central differences); their backward twins are in
// reference_backward.h. Sizes as in ops.h, without the lanes.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "evoae/nn/activation.h"

namespace evoae {
class Network;
}

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

// out[i] = act(scale * out[i]) for i < count.
template <class T>
void activate_all(T* out, long count, Activation act, T scale = T(1)) {
  for (long i = 0; i < count; ++i) out[i] = activate<T>(scale * out[i], act);
}

// ---- conv: out[i*m + j][y][x] = act(sum over a, b of in[i][y + a][x + b] * k_j[a][b]).
// out: (C*m, H-kh+1, W-kw+1); in: (C, H, W); kernels: (m, kh, kw)

template <class T>
void conv_forward(T* out, const T* in, const T* kernels, int C, int H, int W, int kh, int kw,
                  int m, Activation act = Activation::ReLU) {
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

// ---- maxpool: 2x2, stride 2, an odd last row or column dropped. out: (C, H/2, W/2)

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

// ---- dense and its tied form, one affine map read two ways

// out[o] = bias[o] + sum over p < P in order of weights[o * o_step + p * p_step] * in[p], for
// o < O: a dense layer k -> n reads its weights (n, k) by rows (O = n, P = k, o_step = k,
// p_step = 1), the tied form n -> k by columns (O = k, P = n, o_step = 1, p_step = k).
template <class T>
void affine_forward(T* out, const T* in, const T* weights, const T* bias, int O, int P,
                    int o_step, int p_step) {
  for (int o = 0; o < O; ++o) {
    out[o] = bias[o];
    for (int p = 0; p < P; ++p) out[o] += weights[o * o_step + p * p_step] * in[p];
  }
}

// out[i] = act(scale * (sum_j weights[i][j] * in[j] + bias[i])).
// out: (n); in: (k); weights: (n, k); bias: (n).
template <class T>
void dense_forward(T* out, const T* in, const T* weights, const T* bias, int k, int n,
                   Activation act, T scale = T(1)) {
  affine_forward<T>(out, in, weights, bias, n, k, k, 1);
  activate_all<T>(out, n, act, scale);
}

// The tied form, the weights of a dense layer k -> n mapping n -> k:
// out[j] = act(scale * (sum_i weights[i][j] * in[i] + bias[j])).
// out: (k); in: (n); weights: (n, k); bias: (k).
template <class T>
void dense_transposed_forward(T* out, const T* in, const T* weights, const T* bias, int n,
                              int k, Activation act, T scale = T(1)) {
  affine_forward<T>(out, in, weights, bias, k, n, 1, k);
  activate_all<T>(out, k, act, scale);
}

// The original's sigm layer (dense_forward with sigmoid, scale 1) computed another way, with
// Eigen's matrix-vector product (the bias added last): a second check of the fast
// dense_sigmoid_forward.
void dense_sigmoid_forward(float* out, const float* in, const float* weights,
                           const float* bias, int k, int n);

// ---- unpool: every value fills its 2x2 block. out: (C, 2H, 2W)

template <class T>
void unpool_forward(T* out, const T* in, int C, int H, int W) {
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < 2 * H; ++y)
      for (int x = 0; x < 2 * W; ++x)
        out[(c * 2 * H + y) * 2 * W + x] = in[(c * H + y / 2) * W + x / 2];
}

// ---- conv_transpose with a stride: out[i][y*s + a][x*s + b] += in[i*r + j][y][x] * k_j[a][b]
// over j < r, then act. out: (C/r, (H-1)*s + kh, (W-1)*s + kw); in: (C, H, W);
// kernels: (r, kh, kw)

template <class T>
void conv_transpose_forward(T* out, const T* in, const T* kernels, int C, int H, int W, int kh,
                            int kw, int r, int stride, Activation act = Activation::Sigmoid) {
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

// The whole network on one genome (num_params floats) and one image, layer by layer with
// the ops above, no fusion. Returns output_shape().size() floats. (Any T: network_forward<T>
// in reference_backward.h.)
std::vector<float> network_forward(const Network& net, const float* genome, const float* image);

}  // namespace evoae::reference
