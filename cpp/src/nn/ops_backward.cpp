// The backward ops of ops.h over kLanes lanes. Every multiply-add is an explicit fmadd and every
// sum runs in the order its comment states, whatever the blocking: a lane's result is fixed by
// the source, the same for any width, batch shape and thread count.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "box_sums.h"
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

// Calls f(std::integral_constant<int, stride>{}) for the strides the kernels below are
// unrolled for: 1 (conv, conv_transpose) and 2 (the fused unpool + conv_transpose).
template <class F>
void with_stride(int stride, F&& f) {
  if (stride == 1) return f(std::integral_constant<int, 1>{});
  if (stride == 2) return f(std::integral_constant<int, 2>{});
  throw std::invalid_argument("conv_transpose_backward: stride " + std::to_string(stride) +
                              ", expected 1 or 2");
}

// T neighbouring outputs of a stride-S "valid" correlation: out[t] = sum over the kernel's
// taps (a, b) in row order of big[a][t * S + b] * kernel[a][b]. big: the tap (0, 0) of output
// 0 in a plane big_w wide. The T values of big a tap needs slide along the row: tap b + S
// needs one new one (each load serves up to T taps), so S windows, one per b % S.
template <int T, int S>
void strided_outputs(float* out, const float* big, int big_w, const float* kernel, int kh,
                     int kw) {
  vfloat acc[T] = {};
  for (int a = 0; a < kh; ++a) {
    const float* row = big + a * big_w * L;
    vfloat window[S][T] = {};  // window[b % S][t] = row[t * S + b] for the next tap b
    for (int r = 0; r < S && r < kw; ++r)
      for (int t = 0; t < T; ++t) window[r][t] = load(row + (t * S + r) * L);
    for (int b0 = 0; b0 < kw; b0 += S)
      for (int r = 0; r < S && b0 + r < kw; ++r) {
        const int b = b0 + r;
        const vfloat k = load(kernel + (a * kw + b) * L);
        for (int t = 0; t < T; ++t) acc[t] = fmadd(window[r][t], k, acc[t]);
        if (b + S >= kw) continue;
        for (int t = 0; t + 1 < T; ++t) window[r][t] = window[r][t + 1];
        window[r][T - 1] = load(row + ((T - 1) * S + b + S) * L);
      }
  }
  for (int t = 0; t < T; ++t) store(out + t * L, acc[t]);
}

// The gradient of one kernel, dk[a][b] += sum over the pairs c, then rows y < small_h, then
// columns x < small_w of big_c[y * S + a][x * S + b] * small_c[y][x]: conv's (big the input,
// small the output's gradient, S = 1) and conv_transpose's (big the output's gradient, small
// the input). Pair c's planes start at big + c * big_step, small + c * small_step.
struct KernelGradient {
  const float* big;
  long big_step;
  int big_w;
  const float* small;
  long small_step;
  int small_h, small_w, pairs;
};

// Taps (a, b0..b0+T-1) of the gradient, sharing each load of small; the T values of big a
// column needs slide along the row, S new ones per column (each loaded once).
template <int T, int S>
void kernel_gradient_taps(float* dk, const KernelGradient& g, int a, int b0) {
  vfloat acc[T];
  for (int t = 0; t < T; ++t) acc[t] = load(dk + t * L);
  for (int c = 0; c < g.pairs; ++c)
    for (int y = 0; y < g.small_h; ++y) {
      const float* big = g.big + c * g.big_step + ((y * S + a) * g.big_w + b0) * L;
      const float* small = g.small + c * g.small_step + y * g.small_w * L;
      vfloat window[T];  // big[x * S + t] for the next column x
      for (int t = 0; t < T; ++t) window[t] = load(big + t * L);
      for (int x = 0; x < g.small_w; ++x) {
        const vfloat v = load(small + x * L);
        for (int t = 0; t < T; ++t) acc[t] = fmadd(window[t], v, acc[t]);
        if (x + 1 == g.small_w) break;
        for (int t = 0; t < T; ++t)
          window[t] = t + S < T ? window[t + S] : load(big + ((x + 1) * S + t) * L);
      }
    }
  for (int t = 0; t < T; ++t) store(dk + t * L, acc[t]);
}

template <int S>
void kernel_gradient(float* dk, const KernelGradient& g, int kh, int kw) {
  for (int a = 0; a < kh; ++a)
    in_eights(kw, [&](auto taps, int b0) {
      kernel_gradient_taps<decltype(taps)::value, S>(dk + (a * kw + b0) * L, g, a, b0);
    });
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
      kernel_gradient<1>(dkernels + j * kh * kw * L,
                         KernelGradient{in, static_cast<long>(H) * W * L, W,
                                        dz + j * OH * OW * L, static_cast<long>(m) * OH * OW * L,
                                        OH, OW, C},
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
  with_stride(stride, [&](auto stride_constant) {
    constexpr int S = decltype(stride_constant)::value;
    const int OH = (H - 1) * S + kh, OW = (W - 1) * S + kw;
    if (dkernels)
      for (int j = 0; j < r; ++j)
        kernel_gradient<S>(dkernels + j * kh * kw * L,
                           KernelGradient{dz, static_cast<long>(OH) * OW * L, OW,
                                          in + j * H * W * L, static_cast<long>(r) * H * W * L,
                                          H, W, C / r},
                           kh, kw);
    // dx[i*r + j][y][x] = sum over a, b of dz[i][y*S + a][x*S + b] * k_j[a][b].
    if (dx)
      for (int i = 0; i < C / r; ++i)
        for (int j = 0; j < r; ++j)
          for (int y = 0; y < H; ++y) {
            float* out = dx + ((i * r + j) * H + y) * W * L;
            const float* big = dz + (i * OH + y * S) * OW * L;
            in_eights(W, [&](auto size, int x) {
              strided_outputs<decltype(size)::value, S>(out + x * L, big + x * S * L, OW,
                                                        kernels + j * kh * kw * L, kh, kw);
            });
          }
  });
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
