// Fast layer operations over kLanes genome lanes: every multiply-add is one kLanes-wide vector
// operation, so the loops need no shape-dependent vectorisation. Convolution sums use fused
// multiply-adds (fmadd), dense sums madd (fused in an EVOAE_FMA build): see simd.h.
#include "evoae/nn/ops.h"

#include <algorithm>
#include <type_traits>

#include "box_sums.h"
#include "evoae/core/simd.h"

namespace evoae {
namespace {

constexpr int L = kLanes;

// Calls f(block, start) over [0, n) in nearly equal blocks of at most 8 outputs; `block` is
// an std::integral_constant, so each block size is its own unrolled loop. Several outputs in
// flight share each kernel load and hide the multiply-add latency; equal blocks (14 = 7 + 7,
// not 8 + 4 + 2) keep every block long enough for that.
template <int B, class F>
void call_block(int size, int start, F& f) {
  if constexpr (B > 1)
    if (size < B) return call_block<B - 1>(size, start, f);
  f(std::integral_constant<int, B>{}, start);
}

template <class F>
void in_blocks(int n, F&& f) {
  const int blocks = (n + 7) / 8;
  for (int k = 0; k < blocks; ++k) {
    const int start = k * n / blocks, end = (k + 1) * n / blocks;
    call_block<8>(end - start, start, f);
  }
}

// act(x), the activation chosen at compile time: kernels take it as a template argument, so
// the choice costs nothing inside their loops.
template <Activation A>
vfloat apply(vfloat x) {
  if constexpr (A == Activation::Sigmoid) return vsigmoid(x);
  if constexpr (A == Activation::ReLU) return vrelu(x);
  if constexpr (A == Activation::Tanh) return vtanh(x);
  return x;
}

// Calls f(std::integral_constant<Activation, A>{}) for A = act.
template <class F>
void with_activation(Activation act, F&& f) {
  switch (act) {
    case Activation::Sigmoid: return f(std::integral_constant<Activation, Activation::Sigmoid>{});
    case Activation::ReLU: return f(std::integral_constant<Activation, Activation::ReLU>{});
    case Activation::Tanh: return f(std::integral_constant<Activation, Activation::Tanh>{});
    case Activation::Identity:
      return f(std::integral_constant<Activation, Activation::Identity>{});
  }
}

// B neighbouring outputs of one conv row at once, sharing each kernel tap's load.
template <int B, Activation A>
void conv_outputs(float* out, const float* in_row0, const float* kernel, int W, int kh, int kw) {
  vfloat acc[B] = {};
  for (int a = 0; a < kh; ++a) {
    const float* row = in_row0 + a * W * L;
    for (int b = 0; b < kw; ++b) {
      const vfloat k = load(kernel + (a * kw + b) * L);
      for (int t = 0; t < B; ++t) acc[t] = fmadd(load(row + (b + t) * L), k, acc[t]);
    }
  }
  for (int t = 0; t < B; ++t) store(out + t * L, apply<A>(acc[t]));
}

// The taps of a transposed convolution that reach one phase of the output (see
// conv_transpose_forward), on an input padded with zero columns: every sum is a plain loop.
struct Phase {
  const float* padded;   // (C, H, Wp, L) input with zero columns on both sides
  const float* kernels;  // (r, kh, kw, L)
  int r, kh, kw, H, Wp, stride;
  int sy, sx;            // the phase: output rows p % stride == sy, columns q % stride == sx
  int taps_h, taps_w;    // kernel rows sy, sy+stride, ... and columns likewise
};

// B outputs of one phase row at once, at (u, v..v+B-1) in phase coordinates, for the
// output channel whose input channels start at `channel0`. Kernel rows a in [a0, a1] reach
// input row u - a, all inside the input; col0: padded column of tap b = 0 for output v.
template <int B, Activation A>
void phase_outputs(float* out, int out_step, const Phase& ph, int channel0, int u, int a0,
                   int a1, int col0) {
  vfloat acc[B] = {};
  for (int j = 0; j < ph.r; ++j) {
    const float* channel = ph.padded + (channel0 + j) * ph.H * ph.Wp * L;
    const float* kernel = ph.kernels + j * ph.kh * ph.kw * L;
    for (int a = a0; a <= a1; ++a) {
      const float* row = channel + ((u - a) * ph.Wp + col0) * L;
      const float* krow = kernel + (a * ph.stride + ph.sy) * ph.kw * L;
      for (int b = 0; b < ph.taps_w; ++b) {
        const vfloat k = load(krow + (b * ph.stride + ph.sx) * L);
        for (int t = 0; t < B; ++t) acc[t] = fmadd(load(row + (t - b) * L), k, acc[t]);
      }
    }
  }
  for (int t = 0; t < B; ++t) store(out + t * out_step, apply<A>(acc[t]));
}

// act(scale * x); a scale of 1 is not multiplied (the original layer, bit for bit).
vfloat activate(vfloat x, Activation act, float scale) {
  if (scale != 1.0f) x = x * scale;
  switch (act) {
    case Activation::Sigmoid: return apply<Activation::Sigmoid>(x);
    case Activation::ReLU: return apply<Activation::ReLU>(x);
    case Activation::Tanh: return apply<Activation::Tanh>(x);
    case Activation::Identity: return x;
  }
  return x;
}

// Outputs i0..i0+I-1 of B images: each weight load serves B images, each input load I
// outputs. in: (B, k, L); out: (B, n, L).
template <int B, int I>
void dense_rows(float* out, const float* in, const float* weights, const float* bias, int k,
                int n, int i0, Activation act, float scale) {
  vfloat acc[B][I];
  for (int r = 0; r < I; ++r) {
    const vfloat b0 = load(bias + (i0 + r) * L);
    for (int b = 0; b < B; ++b) acc[b][r] = b0;
  }
  const float* w = weights + static_cast<long>(i0) * k * L;
  for (int j = 0; j < k; ++j) {
    vfloat x[B];
    for (int b = 0; b < B; ++b) x[b] = load(in + (static_cast<long>(b) * k + j) * L);
    for (int r = 0; r < I; ++r) {
      const vfloat wv = load(w + (static_cast<long>(r) * k + j) * L);
      for (int b = 0; b < B; ++b) acc[b][r] = madd(wv, x[b], acc[b][r]);
    }
  }
  for (int b = 0; b < B; ++b)
    for (int r = 0; r < I; ++r)
      store(out + (static_cast<long>(b) * n + i0 + r) * L, activate(acc[b][r], act, scale));
}

// Rows i0..i0+R-1 of the weights added, in order, into the running sums out[b][j0..j0+J-1]
// of B images: the weights are read row by row as they lie in memory (R rows side by side),
// the J sums stay in registers while the R rows are added. in: (B, n, L); out: (B, k, L).
template <int B, int R, int J>
void dense_transposed_tile(float* out, const float* in, const float* weights, int n, int k,
                           int i0, int j0) {
  vfloat x[B][R], acc[B][J];
  for (int b = 0; b < B; ++b)
    for (int r = 0; r < R; ++r) x[b][r] = load(in + (static_cast<long>(b) * n + i0 + r) * L);
  for (int b = 0; b < B; ++b)
    for (int c = 0; c < J; ++c) acc[b][c] = load(out + (static_cast<long>(b) * k + j0 + c) * L);
  for (int r = 0; r < R; ++r) {
    const float* w = weights + (static_cast<long>(i0 + r) * k + j0) * L;
    for (int c = 0; c < J; ++c) {
      const vfloat wv = load(w + c * L);
      for (int b = 0; b < B; ++b) acc[b][c] = madd(wv, x[b][r], acc[b][c]);
    }
  }
  for (int b = 0; b < B; ++b)
    for (int c = 0; c < J; ++c) store(out + (static_cast<long>(b) * k + j0 + c) * L, acc[b][c]);
}

// All n rows into the sums of B images: tiles of R rows x J outputs, then narrower tiles for
// the rows and outputs left over. About 12 vectors in registers whatever B.
template <int B>
void dense_transposed_rows(float* out, const float* in, const float* weights, int n, int k) {
  constexpr int R = B == 1 ? 4 : 2, J = B == 1 ? 8 : B == 2 ? 4 : B == 3 ? 2 : 1;
  auto row_block = [&](auto rows, int i0) {
    constexpr int RR = decltype(rows)::value;
    int j = 0;
    for (; j + J <= k; j += J) dense_transposed_tile<B, RR, J>(out, in, weights, n, k, i0, j);
    for (; j < k; ++j) dense_transposed_tile<B, RR, 1>(out, in, weights, n, k, i0, j);
  };
  int i = 0;
  for (; i + R <= n; i += R) row_block(std::integral_constant<int, R>{}, i);
  for (; i < n; ++i) row_block(std::integral_constant<int, 1>{}, i);
}

// conv_forward with the activation A. Out of line: inlined (four times) into conv_forward,
// GCC schedules the ReLU loops worse, 11% more instructions per call.
template <Activation A>
[[gnu::noinline]] void conv_rows(float* out, const float* in, const float* kernels, int C,
                                int H, int W, int kh, int kw, int m) {
  const int OH = H - kh + 1, OW = W - kw + 1;
  for (int i = 0; i < C; ++i)
    for (int j = 0; j < m; ++j) {
      const float* kernel = kernels + j * kh * kw * L;
      for (int y = 0; y < OH; ++y) {
        const float* in_row = in + (i * H + y) * W * L;
        float* out_row = out + ((i * m + j) * OH + y) * OW * L;
        in_blocks(OW, [&](auto block, int x) {
          conv_outputs<block(), A>(out_row + x * L, in_row + x * L, kernel, W, kh, kw);
        });
      }
    }
}

// The phases of conv_transpose_forward with the activation A, on its padded input.
template <Activation A>
void phases(float* out, Phase ph, int C, int OH, int OW, int pad_w) {
  const int H = ph.H, stride = ph.stride, r = ph.r;
  for (ph.sy = 0; ph.sy < stride; ++ph.sy)
    for (ph.sx = 0; ph.sx < stride; ++ph.sx) {
      ph.taps_h = (ph.kh - ph.sy + stride - 1) / stride;
      ph.taps_w = (ph.kw - ph.sx + stride - 1) / stride;
      const int rows = (OH - ph.sy + stride - 1) / stride;
      const int cols = (OW - ph.sx + stride - 1) / stride;
      for (int i = 0; i < C / r; ++i)
        for (int u = 0; u < rows; ++u) {
          float* out_row = out + ((i * OH + u * stride + ph.sy) * OW + ph.sx) * L;
          const int step = stride * L;
          const int a0 = std::max(0, u - (H - 1)), a1 = std::min(ph.taps_h - 1, u);
          in_blocks(cols, [&](auto block, int v) {
            phase_outputs<block(), A>(out_row + v * step, step, ph, i * r, u, a0, a1, v + pad_w);
          });
        }
    }
}

// Runs Kernel<B', R> over images in groups of at most 4 and outputs in blocks of R (then
// singles for the rest): about 8 accumulators in registers whatever the batch.
template <int B>
constexpr int block_for() { return B == 1 ? 8 : B == 2 ? 4 : 2; }

template <int B, class Rows, class One>
void over_outputs(int outputs, Rows&& rows, One&& one) {
  constexpr int R = block_for<B>();
  int o = 0;
  for (; o + R <= outputs; o += R) rows(o);
  for (; o < outputs; ++o) one(o);
}

}  // namespace

void conv_forward(float* out, const float* in, const float* kernels,
                  int C, int H, int W, int kh, int kw, int m, Activation act) {
  with_activation(act, [&](auto a) {
    conv_rows<decltype(a)::value>(out, in, kernels, C, H, W, kh, kw, m);
  });
}

void maxpool_forward(float* out, const float* in, int C, int H, int W) {
  const int OH = H / 2, OW = W / 2;
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < OH; ++y) {
      const float* r0 = in + (c * H + 2 * y) * W * L;
      const float* r1 = r0 + W * L;
      float* o = out + (c * OH + y) * OW * L;
      for (int x = 0; x < OW; ++x) {
        const int p = 2 * x * L;
        store(o + x * L, vmax(vmax(load(r0 + p), load(r0 + p + L)),
                              vmax(load(r1 + p), load(r1 + p + L))));
      }
    }
}

void dense_sigmoid_forward(float* out, const float* in, const float* weights,
                           const float* bias, int k, int n) {
  dense_forward(out, in, weights, bias, k, n, Activation::Sigmoid, 1);
}

void dense_forward(float* out, const float* in, const float* weights, const float* bias,
                   int k, int n, Activation act, int B, float scale) {
  for (int b0 = 0; b0 < B;) {
    const int batch = std::min(4, B - b0);
    float* o = out + static_cast<long>(b0) * n * L;
    const float* x = in + static_cast<long>(b0) * k * L;
    auto run = [&](auto size) {
      constexpr int S = decltype(size)::value;
      over_outputs<S>(
          n,
          [&](int i) {
            dense_rows<S, block_for<S>()>(o, x, weights, bias, k, n, i, act, scale);
          },
          [&](int i) { dense_rows<S, 1>(o, x, weights, bias, k, n, i, act, scale); });
    };
    switch (batch) {
      case 1: run(std::integral_constant<int, 1>{}); break;
      case 2: run(std::integral_constant<int, 2>{}); break;
      case 3: run(std::integral_constant<int, 3>{}); break;
      default: run(std::integral_constant<int, 4>{}); break;
    }
    b0 += batch;
  }
}

void dense_transposed_forward(float* out, const float* in, const float* weights,
                              const float* bias, int n, int k, Activation act, int B,
                              float scale) {
  // The sums start as the biases and take the rows in order: bias + row 0 + row 1 + ...
  for (int b = 0; b < B; ++b) std::copy(bias, bias + k * L, out + static_cast<long>(b) * k * L);
  for (int b0 = 0; b0 < B;) {
    const int batch = std::min(4, B - b0);
    float* o = out + static_cast<long>(b0) * k * L;
    const float* x = in + static_cast<long>(b0) * n * L;
    switch (batch) {
      case 1: dense_transposed_rows<1>(o, x, weights, n, k); break;
      case 2: dense_transposed_rows<2>(o, x, weights, n, k); break;
      case 3: dense_transposed_rows<3>(o, x, weights, n, k); break;
      default: dense_transposed_rows<4>(o, x, weights, n, k); break;
    }
    b0 += batch;
  }
  for (long i = 0; i < static_cast<long>(B) * k; ++i)
    store(out + i * L, activate(load(out + i * L), act, scale));
}

void unpool_forward(float* out, const float* in, int C, int H, int W) {
  const int OW = 2 * W;
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < H; ++y) {
      float* top = out + (c * 2 * H + 2 * y) * OW * L;
      for (int x = 0; x < W; ++x) {
        const vfloat v = load(in + ((c * H + y) * W + x) * L);
        store(top + 2 * x * L, v);
        store(top + (2 * x + 1) * L, v);
      }
      std::copy(top, top + OW * L, top + OW * L);
    }
}

int conv_transpose_padded_size(int C, int H, int W, int /*kh: rows are not padded*/, int kw,
                               int stride) {
  const int pad_w = (kw + stride - 1) / stride - 1;
  return C * H * (W + 2 * pad_w) * L;
}

void conv_transpose_forward(float* out, const float* in, const float* kernels,
                            int C, int H, int W, int kh, int kw, int r, int stride,
                            float* padded, Activation act) {
  const int OH = (H - 1) * stride + kh, OW = (W - 1) * stride + kw;
  // Zero columns, as many as a phase has taps less one, on both sides: every column tap
  // reads inside the buffer. Rows are not padded: each output row skips the taps that fall
  // outside the input.
  const int pad_w = (kw + stride - 1) / stride - 1, Wp = W + 2 * pad_w;
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < H; ++y) {
      float* row = padded + (c * H + y) * Wp * L;
      std::fill(row, row + pad_w * L, 0.0f);
      std::copy(in + (c * H + y) * W * L, in + (c * H + y + 1) * W * L, row + pad_w * L);
      std::fill(row + (pad_w + W) * L, row + Wp * L, 0.0f);
    }

  const Phase ph{padded, kernels, r, kh, kw, H, Wp, stride, 0, 0, 0, 0};
  with_activation(act, [&](auto a) { phases<decltype(a)::value>(out, ph, C, OH, OW, pad_w); });
}

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

void unpool_conv_transpose_forward(float* out, const float* in, const float* kernels,
                                   int C, int H, int W, int kh, int kw, int r,
                                   float* upsampled, float* padded, Activation act) {
  const int KH = kh + 1, KW = kw + 1;
  // k'[a][b] = k[a][b] + k[a][b-1] + k[a-1][b] + k[a-1][b-1], taps outside k being zero.
  box_sums(upsampled, KH, KW, kernels, kh, kw, r, -1, false);
  conv_transpose_forward(out, in, upsampled, C, H, W, KH, KW, r, 2, padded, act);
}

}  // namespace evoae
