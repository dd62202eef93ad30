// The backward ops of ops.h over kLanes lanes. Every multiply-add is an explicit fmadd and every
// sum runs in the order its comment states, whatever the blocking: a lane's result is fixed by
// the source, the same for any width, batch shape and thread count.
#include <algorithm>
#include <type_traits>

#include "evoae/core/simd.h"
#include "evoae/nn/ops.h"

namespace evoae {
namespace {

constexpr int L = kLanes;

// Calls f(std::integral_constant<int, size>{}) for size in 1..N: a kernel unrolled for that
// many outputs (or taps), sharing each load among them.
template <int N, class F>
void with_size(int size, F&& f) {
  if constexpr (N > 1)
    if (size < N) return with_size<N - 1>(size, f);
  f(std::integral_constant<int, N>{});
}

// Calls f(size, start) over [0, n) in blocks of 8, the last one shorter.
template <class F>
void in_eights(int n, F&& f) {
  for (int start = 0; start < n; start += 8)
    with_size<8>(std::min(8, n - start), [&](auto size) { f(size, start); });
}

// ---- activations

template <class D>
void times_derivative(float* dz, const float* y, const float* dy, long count, float scale,
                      D derivative) {
  for (long i = 0; i < count; ++i) {
    vfloat g = load(dy + i * L) * derivative(load(y + i * L));
    if (scale != 1.0f) g = g * scale;
    store(dz + i * L, g);
  }
}

// ---- weighted sums of a dense layer's rows or columns

// Outputs o0..o0+R-1 of S images: y[s][o] = sum over p = 0..P-1 in order of W(o, p) * x[s][p],
// W(o, p) at weights + (o * o_step + p * p_step) * L: a dense layer's rows (o_step = k,
// p_step = 1) or its columns (o_step = 1, p_step = k). Each weight load serves S images, each
// input load R outputs. y: (S, O, L); x: (S, P, L).
template <int S, int R>
void weighted_sums(float* y, const float* x, const float* weights, long o_step, long p_step,
                   int O, int P, int o0) {
  vfloat acc[S][R] = {};
  for (long p = 0; p < P; ++p) {
    vfloat xs[S];
    for (int s = 0; s < S; ++s) xs[s] = load(x + (s * P + p) * L);
    for (int r = 0; r < R; ++r) {
      const vfloat w = load(weights + ((o0 + r) * o_step + p * p_step) * L);
      for (int s = 0; s < S; ++s) acc[s][r] = fmadd(w, xs[s], acc[s][r]);
    }
  }
  for (int s = 0; s < S; ++s)
    for (int r = 0; r < R; ++r) store(y + (static_cast<long>(s) * O + o0 + r) * L, acc[s][r]);
}

// weighted_sums over all O outputs of B images, in groups of at most 4 images, outputs in
// blocks of R (about 8 accumulators in registers) and then singly.
void all_weighted_sums(float* y, const float* x, const float* weights, long o_step, long p_step,
                       int O, int P, int B) {
  for (int b0 = 0; b0 < B; b0 += 4) {
    float* yb = y + static_cast<long>(b0) * O * L;
    const float* xb = x + static_cast<long>(b0) * P * L;
    with_size<4>(std::min(4, B - b0), [&](auto images) {
      constexpr int S = decltype(images)::value, R = S == 1 ? 8 : S == 2 ? 4 : 2;
      int o = 0;
      for (; o + R <= O; o += R) weighted_sums<S, R>(yb, xb, weights, o_step, p_step, O, P, o);
      for (; o < O; ++o) weighted_sums<S, 1>(yb, xb, weights, o_step, p_step, O, P, o);
    });
  }
}

// d[i] += x[b][i] over images b in order. d: (n, L); x: (B, n, L).
void add_images(float* d, const float* x, int n, int B) {
  for (long i = 0; i < n; ++i) {
    vfloat sum = load(d + i * L);
    for (long b = 0; b < B; ++b) sum += load(x + (b * n + i) * L);
    store(d + i * L, sum);
  }
}

// ---- correlations of convolutions

// T neighbouring outputs of a strided "valid" correlation: out[t] = sum over the kernel's taps
// (a, b) in row order of big[a][t * stride + b] * kernel[a][b]. big: the tap (0, 0) of output
// 0 in a plane big_w wide.
template <int T>
void strided_outputs(float* out, const float* big, int big_w, const float* kernel, int kh,
                     int kw, int stride) {
  vfloat acc[T] = {};
  for (int a = 0; a < kh; ++a)
    for (int b = 0; b < kw; ++b) {
      const vfloat k = load(kernel + (a * kw + b) * L);
      const float* tap = big + (a * big_w + b) * L;
      for (int t = 0; t < T; ++t) acc[t] = fmadd(load(tap + t * stride * L), k, acc[t]);
    }
  for (int t = 0; t < T; ++t) store(out + t * L, acc[t]);
}

// The gradient of one kernel, dk[a][b] += sum over the pairs c, then rows y < small_h, then
// columns x < small_w of big_c[y * stride + a][x * stride + b] * small_c[y][x]: conv's (big
// the input, small the output's gradient, stride 1) and conv_transpose's (big the output's
// gradient, small the input). Pair c's planes start at big + c * big_step, small + c *
// small_step.
struct KernelGradient {
  const float* big;
  long big_step;
  int big_w;
  const float* small;
  long small_step;
  int small_h, small_w, pairs, stride;
};

// Taps (a, b0..b0+T-1) of the gradient, sharing each load of small.
template <int T>
void kernel_gradient_taps(float* dk, const KernelGradient& g, int a, int b0) {
  vfloat acc[T];
  for (int t = 0; t < T; ++t) acc[t] = load(dk + t * L);
  for (int c = 0; c < g.pairs; ++c)
    for (int y = 0; y < g.small_h; ++y) {
      const float* big = g.big + c * g.big_step + ((y * g.stride + a) * g.big_w + b0) * L;
      const float* small = g.small + c * g.small_step + y * g.small_w * L;
      for (int x = 0; x < g.small_w; ++x) {
        const vfloat v = load(small + x * L);
        for (int t = 0; t < T; ++t) acc[t] = fmadd(load(big + (x * g.stride + t) * L), v, acc[t]);
      }
    }
  for (int t = 0; t < T; ++t) store(dk + t * L, acc[t]);
}

void kernel_gradient(float* dk, const KernelGradient& g, int kh, int kw) {
  for (int a = 0; a < kh; ++a)
    in_eights(kw, [&](auto taps, int b0) {
      kernel_gradient_taps<decltype(taps)::value>(dk + (a * kw + b0) * L, g, a, b0);
    });
}

// out[a][b] = the sum of in[a + sign*da][b + sign*db] over da, db in {0, 1} in row order,
// from 0, for the taps inside in (ih x iw), for r kernels: sign -1 spreads a kernel over 2x2
// (k' of the fused unpool + conv_transpose, as unpool_conv_transpose_forward makes it), sign
// +1 gathers it back (the gradient of k from that of k'), added to out where `add`.
void box_sums(float* out, int oh, int ow, const float* in, int ih, int iw, int r, int sign,
              bool add) {
  for (int j = 0; j < r; ++j)
    for (int a = 0; a < oh; ++a)
      for (int b = 0; b < ow; ++b) {
        vfloat sum{};
        for (int da = 0; da < 2; ++da)
          for (int db = 0; db < 2; ++db) {
            const int ia = a + sign * da, ib = b + sign * db;
            if (ia >= 0 && ia < ih && ib >= 0 && ib < iw)
              sum += load(in + ((j * ih + ia) * iw + ib) * L);
          }
        float* o = out + ((j * oh + a) * ow + b) * L;
        store(o, add ? load(o) + sum : sum);
      }
}

}  // namespace

void activation_backward(float* dz, const float* y, const float* dy, long count, Activation act,
                         float scale) {
  switch (act) {
    case Activation::Sigmoid:
      return times_derivative(dz, y, dy, count, scale, [](vfloat v) { return v * (1.0f - v); });
    case Activation::Tanh:  // 1 - y^2 as (1 - y)(1 + y): no multiply-add, exact near |y| = 1
      return times_derivative(dz, y, dy, count, scale,
                              [](vfloat v) { return (1.0f - v) * (1.0f + v); });
    case Activation::ReLU:
      return times_derivative(dz, y, dy, count, scale,
                              [](vfloat v) { return v > 0.0f ? splat(1.0f) : vfloat{}; });
    case Activation::Identity:
      return times_derivative(dz, y, dy, count, scale, [](vfloat) { return splat(1.0f); });
  }
}

void conv_backward(float* dx, float* dkernels, const float* dz, const float* in,
                   const float* kernels, int C, int H, int W, int kh, int kw, int m,
                   float* padded) {
  const int OH = H - kh + 1, OW = W - kw + 1;
  if (dkernels)
    for (int j = 0; j < m; ++j)
      kernel_gradient(dkernels + j * kh * kw * L,
                      KernelGradient{in, static_cast<long>(H) * W * L, W,
                                     dz + j * OH * OW * L, static_cast<long>(m) * OH * OW * L,
                                     OH, OW, C, 1},
                      kh, kw);
  // dx[i][p][q] = sum over j, a, b of dz[i*m + j][p - a][q - b] * k_j[a][b]: a transposed
  // convolution of dz with reducer m.
  if (dx)
    conv_transpose_forward(dx, dz, kernels, C * m, OH, OW, kh, kw, m, 1, padded,
                           Activation::Identity);
}

void maxpool_backward(float* dx, const float* dy, const float* in, int C, int H, int W) {
  const int OH = H / 2, OW = W / 2;
  for (int c = 0; c < C; ++c) {
    for (int y = 0; y < OH; ++y)
      for (int x = 0; x < OW; ++x) {
        const int block[4] = {((c * H + 2 * y) * W + 2 * x) * L,
                              ((c * H + 2 * y) * W + 2 * x + 1) * L,
                              ((c * H + 2 * y + 1) * W + 2 * x) * L,
                              ((c * H + 2 * y + 1) * W + 2 * x + 1) * L};
        vfloat v[4];
        for (int e = 0; e < 4; ++e) v[e] = load(in + block[e]);
        const vfloat best = vmax(vmax(v[0], v[1]), vmax(v[2], v[3]));
        const vfloat g = load(dy + ((c * OH + y) * OW + x) * L);
        vint taken{};
        for (int e = 0; e < 4; ++e) {
          const vint first = (v[e] == best) & ~taken;
          store(dx + block[e], first ? g : vfloat{});
          taken |= first;
        }
      }
    // A dropped odd last column and row.
    if (W % 2)
      for (int y = 0; y < 2 * OH; ++y) store(dx + ((c * H + y) * W + W - 1) * L, vfloat{});
    if (H % 2) std::fill(dx + ((c * H + H - 1) * W) * L, dx + (c + 1) * H * W * L, 0.0f);
  }
}

void dense_weights_backward(float* dweights, const DenseTerm* terms, int count, int n, int k,
                            int B) {
  for (long b0 = 0; b0 < B; b0 += 4) {
    const long b1 = std::min<long>(B, b0 + 4);
    for (long i = 0; i < n; ++i) {
      float* row = dweights + i * k * L;
      for (long j = 0; j < k; ++j) {
        vfloat g = load(row + j * L);
        for (long b = b0; b < b1; ++b)
          for (int t = 0; t < count; ++t)
            g = fmadd(load(terms[t].u + (b * n + i) * L), load(terms[t].v + (b * k + j) * L), g);
        store(row + j * L, g);
      }
    }
  }
}

void dense_backward(float* dx, float* dweights, float* dbias, const float* dz, const float* in,
                    const float* weights, int k, int n, int B) {
  if (dbias) add_images(dbias, dz, n, B);
  if (dweights) {
    const DenseTerm term{dz, in};
    dense_weights_backward(dweights, &term, 1, n, k, B);
  }
  // dx[b][j] = sum over i of weights[i][j] * dz[b][i]: the columns.
  if (dx) all_weighted_sums(dx, dz, weights, 1, k, k, n, B);
}

void dense_transposed_backward(float* dx, float* dweights, float* dbias, const float* dz,
                               const float* in, const float* weights, int n, int k, int B) {
  if (dbias) add_images(dbias, dz, k, B);
  if (dweights) {
    const DenseTerm term{in, dz};
    dense_weights_backward(dweights, &term, 1, n, k, B);
  }
  // dx[b][i] = sum over j of weights[i][j] * dz[b][j]: the rows.
  if (dx) all_weighted_sums(dx, dz, weights, k, 1, n, k, B);
}

void unpool_backward(float* dx, const float* dy, int C, int H, int W) {
  const int OW = 2 * W;
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < H; ++y) {
      const float* top = dy + (c * 2 * H + 2 * y) * OW * L;
      const float* bottom = top + OW * L;
      for (int x = 0; x < W; ++x) {
        const int p = 2 * x * L;
        store(dx + ((c * H + y) * W + x) * L,
              load(top + p) + load(top + p + L) + load(bottom + p) + load(bottom + p + L));
      }
    }
}

void conv_transpose_backward(float* dx, float* dkernels, const float* dz, const float* in,
                             const float* kernels, int C, int H, int W, int kh, int kw, int r,
                             int stride) {
  const int OH = (H - 1) * stride + kh, OW = (W - 1) * stride + kw;
  if (dkernels)
    for (int j = 0; j < r; ++j)
      kernel_gradient(dkernels + j * kh * kw * L,
                      KernelGradient{dz, static_cast<long>(OH) * OW * L, OW, in + j * H * W * L,
                                     static_cast<long>(r) * H * W * L, H, W, C / r, stride},
                      kh, kw);
  // dx[i*r + j][y][x] = sum over a, b of dz[i][y*stride + a][x*stride + b] * k_j[a][b].
  if (dx)
    for (int i = 0; i < C / r; ++i)
      for (int j = 0; j < r; ++j)
        for (int y = 0; y < H; ++y) {
          float* out = dx + ((i * r + j) * H + y) * W * L;
          const float* big = dz + (i * OH + y * stride) * OW * L;
          in_eights(W, [&](auto size, int x) {
            strided_outputs<decltype(size)::value>(out + x * L, big + x * stride * L, OW,
                                                   kernels + j * kh * kw * L, kh, kw, stride);
          });
        }
}

void unpool_conv_transpose_backward(float* dx, float* dkernels, const float* dz,
                                    const float* in, const float* kernels, int C, int H, int W,
                                    int kh, int kw, int r, float* upsampled, float* dupsampled) {
  const int KH = kh + 1, KW = kw + 1;
  box_sums(upsampled, KH, KW, kernels, kh, kw, r, -1, false);
  if (dkernels) std::fill(dupsampled, dupsampled + r * KH * KW * L, 0.0f);
  conv_transpose_backward(dx, dkernels ? dupsampled : nullptr, dz, in, upsampled, C, H, W, KH,
                          KW, r, 2);
  if (dkernels) box_sums(dkernels, kh, kw, dupsampled, KH, KW, r, 1, true);
}

}  // namespace evoae
