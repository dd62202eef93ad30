// Reference twins of ops.cpp: each output value computed from its definition.
#include "evoae/nn/reference_ops.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>

namespace evoae::reference {
namespace {
float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
}  // namespace

float activate(float x, Activation act) {
  switch (act) {
    case Activation::Sigmoid: return sigmoid(x);
    case Activation::ReLU: return x > 0.0f ? x : 0.0f;
    case Activation::Tanh: return std::tanh(x);
    case Activation::Identity: return x;
  }
  return x;
}

void conv_forward(float* out, const float* in, const float* kernels,
                  int C, int H, int W, int kh, int kw, int m, Activation act) {
  const int OH = H - kh + 1, OW = W - kw + 1;
  for (int i = 0; i < C; ++i)
    for (int j = 0; j < m; ++j)
      for (int y = 0; y < OH; ++y)
        for (int x = 0; x < OW; ++x) {
          float sum = 0.0f;
          for (int a = 0; a < kh; ++a)
            for (int b = 0; b < kw; ++b)
              sum += in[(i * H + y + a) * W + x + b] * kernels[(j * kh + a) * kw + b];
          out[((i * m + j) * OH + y) * OW + x] = activate(sum, act);
        }
}

void maxpool_forward(float* out, const float* in, int C, int H, int W) {
  const int OH = H / 2, OW = W / 2;
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < OH; ++y)
      for (int x = 0; x < OW; ++x) {
        float best = in[(c * H + 2 * y) * W + 2 * x];
        for (int dy = 0; dy < 2; ++dy)
          for (int dx = 0; dx < 2; ++dx)
            best = std::max(best, in[(c * H + 2 * y + dy) * W + 2 * x + dx]);
        out[(c * OH + y) * OW + x] = best;
      }
}

void dense_sigmoid_forward(float* out, const float* in, const float* weights,
                           const float* bias, int k, int n) {
  using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::VectorXf y = Eigen::Map<const Matrix>(weights, n, k) *
                                Eigen::Map<const Eigen::VectorXf>(in, k) +
                            Eigen::Map<const Eigen::VectorXf>(bias, n);
  for (int i = 0; i < n; ++i) out[i] = sigmoid(y[i]);
}

void dense_forward(float* out, const float* in, const float* weights, const float* bias,
                   int k, int n, Activation act, float scale) {
  for (int i = 0; i < n; ++i) {
    float sum = bias[i];
    for (int j = 0; j < k; ++j) sum += weights[i * k + j] * in[j];
    out[i] = activate(scale * sum, act);
  }
}

void dense_transposed_forward(float* out, const float* in, const float* weights,
                              const float* bias, int n, int k, Activation act, float scale) {
  for (int j = 0; j < k; ++j) {
    float sum = bias[j];
    for (int i = 0; i < n; ++i) sum += weights[i * k + j] * in[i];
    out[j] = activate(scale * sum, act);
  }
}

void unpool_forward(float* out, const float* in, int C, int H, int W) {
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < 2 * H; ++y)
      for (int x = 0; x < 2 * W; ++x)
        out[(c * 2 * H + y) * 2 * W + x] = in[(c * H + y / 2) * W + x / 2];
}

void conv_transpose_forward(float* out, const float* in, const float* kernels,
                            int C, int H, int W, int kh, int kw, int r, Activation act) {
  const int OH = H + kh - 1, OW = W + kw - 1;
  // Gather form: out[p][q] = sum over kernel taps (a, b) of in[p-a][q-b] * k[a][b].
  for (int i = 0; i < C / r; ++i)
    for (int p = 0; p < OH; ++p)
      for (int q = 0; q < OW; ++q) {
        float sum = 0.0f;
        for (int j = 0; j < r; ++j)
          for (int a = 0; a < kh; ++a)
            for (int b = 0; b < kw; ++b) {
              const int y = p - a, x = q - b;
              if (y < 0 || y >= H || x < 0 || x >= W) continue;
              sum += in[((i * r + j) * H + y) * W + x] * kernels[(j * kh + a) * kw + b];
            }
        out[(i * OH + p) * OW + q] = activate(sum, act);
      }
}

}  // namespace evoae::reference
