// Fast layer operations: loops ordered so the innermost one runs along a row
// (contiguous memory), which the compiler vectorises.
#include "evoae/ops.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>

namespace evoae {

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

void conv_forward(float* out, const float* in, const float* kernels,
                  int C, int H, int W, int kh, int kw, int m) {
  const int OH = H - kh + 1, OW = W - kw + 1;
  for (int i = 0; i < C; ++i) {
    const float* channel = in + static_cast<long>(i) * H * W;
    for (int j = 0; j < m; ++j) {
      const float* kernel = kernels + static_cast<long>(j) * kh * kw;
      float* o = out + static_cast<long>(i * m + j) * OH * OW;
      for (int y = 0; y < OH; ++y) {
        float* orow = o + y * OW;
        std::fill(orow, orow + OW, 0.0f);
        for (int a = 0; a < kh; ++a) {
          const float* irow = channel + (y + a) * W;
          for (int b = 0; b < kw; ++b) {
            const float k = kernel[a * kw + b];
            for (int x = 0; x < OW; ++x) orow[x] += irow[x + b] * k;
          }
        }
        for (int x = 0; x < OW; ++x) orow[x] = std::max(orow[x], 0.0f);
      }
    }
  }
}

void maxpool_forward(float* out, const float* in, int C, int H, int W) {
  const int OH = H / 2, OW = W / 2;
  for (int c = 0; c < C; ++c) {
    const float* ic = in + static_cast<long>(c) * H * W;
    float* oc = out + static_cast<long>(c) * OH * OW;
    for (int y = 0; y < OH; ++y) {
      const float* r0 = ic + 2 * y * W;
      const float* r1 = r0 + W;
      for (int x = 0; x < OW; ++x)
        oc[y * OW + x] = std::max(std::max(r0[2 * x], r0[2 * x + 1]),
                                  std::max(r1[2 * x], r1[2 * x + 1]));
    }
  }
}

void dense_sigmoid_forward(float* out, const float* in, const float* weights,
                           const float* bias, int k, int n) {
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const RowMajor> w(weights, n, k);
  Eigen::Map<const Eigen::VectorXf> x(in, k), b(bias, n);
  Eigen::Map<Eigen::VectorXf> y(out, n);
  y.noalias() = w * x + b;
  for (int i = 0; i < n; ++i) out[i] = sigmoid(out[i]);
}

void unpool_forward(float* out, const float* in, int C, int H, int W) {
  const int OW = 2 * W;
  for (int c = 0; c < C; ++c) {
    const float* ic = in + static_cast<long>(c) * H * W;
    float* oc = out + static_cast<long>(c) * 4 * H * W;
    for (int y = 0; y < H; ++y) {
      float* top = oc + 2 * y * OW;
      for (int x = 0; x < W; ++x) top[2 * x] = top[2 * x + 1] = ic[y * W + x];
      std::copy(top, top + OW, top + OW);
    }
  }
}

void conv_transpose_forward(float* out, const float* in, const float* kernels,
                            int C, int H, int W, int kh, int kw, int r) {
  const int OH = H + kh - 1, OW = W + kw - 1;
  // Scatter form: every input row adds a scaled copy of itself to kh*kw shifted output rows.
  for (int i = 0; i < C / r; ++i) {
    float* o = out + static_cast<long>(i) * OH * OW;
    std::fill(o, o + OH * OW, 0.0f);
    for (int j = 0; j < r; ++j) {
      const float* channel = in + static_cast<long>(i * r + j) * H * W;
      const float* kernel = kernels + static_cast<long>(j) * kh * kw;
      for (int y = 0; y < H; ++y) {
        const float* irow = channel + y * W;
        for (int a = 0; a < kh; ++a) {
          float* orow = o + (y + a) * OW;
          for (int b = 0; b < kw; ++b) {
            const float k = kernel[a * kw + b];
            for (int x = 0; x < W; ++x) orow[x + b] += irow[x] * k;
          }
        }
      }
    }
    for (int p = 0; p < OH * OW; ++p) o[p] = sigmoid(o[p]);
  }
}

}  // namespace evoae
