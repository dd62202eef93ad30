// Backpropagation: each backward op of ops.h on a hand-worked case (the same case in every
// lane), then against its plain twin (reference_backward.h, float) with different data in every
// lane; each twin (double) against central differences of its forward twin; Network::backward
// against reference::network_backward, for any batch shape and lane by lane; the losses.
//
// "Relative" differences here are max-relative: max_i |got_i - want_i| / max_i |want_i|, the
// error measured against the gradient's size (a small entry carries the absolute rounding of
// the large sums around it, so an entry-by-entry relative error would say little).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.h"
#include "evoae/core/simd.h"
#include "evoae/nn/loss.h"
#include "evoae/nn/network.h"
#include "evoae/nn/ops.h"
#include "evoae/nn/reference_backward.h"

using evoae::Activation;
using evoae::Network;
using lanes::L;
namespace ref = evoae::reference;

namespace {

constexpr double kTwinTol = 1e-5;     // fast op vs its float twin
constexpr double kNumericTol = 1e-3;  // double twin vs central differences
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr Activation kActivations[] = {Activation::Sigmoid, Activation::ReLU, Activation::Tanh,
                                       Activation::Identity};

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

// ---- fast op vs its twin on lane buffers

// A gradient output of n values per lane, followed by sentinels an op writing past its end
// changes.
constexpr std::size_t kGuard = 32;
constexpr float kSentinel = -31337.0f;

std::vector<float> guarded(const std::vector<float>& lanes_buffer) {
  std::vector<float> v = lanes_buffer;
  v.insert(v.end(), kGuard, kSentinel);
  return v;
}
bool guard_intact(const std::vector<float>& v) {
  return std::all_of(v.end() - kGuard, v.end(), [](float x) { return x == kSentinel; });
}

using Inputs = std::vector<const float*>;
using Outputs = std::vector<float*>;

// Runs `fast` on lane buffers of the inputs (different data in every lane; NaN after each, so
// that reading past an end shows) and `twin` on each lane's own buffers, and returns the
// largest max-relative difference of any output in any lane. outputs: the values per lane of
// each gradient; added ones start random (the ops add to them), written ones NaN (the ops must
// write every value).
struct Output {
  std::size_t n;
  bool added;
};
template <class Fast, class Twin>
double fast_vs_twin(std::mt19937& gen, const std::vector<PerLane>& inputs,
                    const std::vector<Output>& outputs, Fast&& fast, Twin&& twin,
                    const char* what) {
  std::vector<std::vector<float>> in;
  Inputs in_ptrs;
  for (const PerLane& x : inputs) {
    in.push_back(lanes::interleave(x));
    in.back().insert(in.back().end(), kGuard, kNaN);
  }
  for (const auto& x : in) in_ptrs.push_back(x.data());
  std::vector<PerLane> start;
  std::vector<std::vector<float>> out;
  Outputs out_ptrs;
  for (const Output& o : outputs) {
    start.push_back(o.added ? lanes::random_per_lane(gen, o.n, -0.5f, 0.5f)
                            : PerLane(L, std::vector<float>(o.n, kNaN)));
    out.push_back(guarded(lanes::interleave(start.back())));
  }
  for (auto& o : out) out_ptrs.push_back(o.data());
  fast(in_ptrs, out_ptrs);

  double worst = 0.0;
  for (int l = 0; l < L; ++l) {
    Inputs lane_in;
    for (const PerLane& x : inputs) lane_in.push_back(x[l].data());
    std::vector<std::vector<float>> want;
    for (const PerLane& s : start) want.push_back(s[l]);
    Outputs lane_out;
    for (auto& w : want) lane_out.push_back(w.data());
    twin(lane_in, lane_out);
    for (std::size_t o = 0; o < outputs.size(); ++o) {
      const double d = max_relative(lanes::lane(out[o].data(), outputs[o].n, l), want[o]);
      if (!(d < kTwinTol))
        std::printf("  %s: output %zu of lane %d differs from its twin by %.3g\n", what, o, l,
                    d);
      worst = std::max(worst, d);
    }
  }
  for (const auto& o : out) CHECK(guard_intact(o));
  std::printf("  %s: max relative |fast - twin| = %.3g\n", what, worst);
  return worst;
}

// Inputs uniform in [-1, 1), different in every lane.
PerLane random_lanes(std::mt19937& gen, std::size_t n) { return lanes::random_per_lane(gen, n); }

// Values of few levels (0, 0.5, 1): 2x2 blocks with ties.
PerLane tied_values(std::mt19937& gen, std::size_t n) {
  PerLane v = lanes::random_per_lane(gen, n, 0.0f, 1.5f);
  for (auto& lane : v)
    for (float& x : lane) x = std::floor(x * 2.0f) / 2.0f;
  return v;
}

// Outputs y = act(z) of random z: the values an activation's backward sees (ReLU's zeros too).
PerLane activation_outputs(std::mt19937& gen, std::size_t n, Activation act) {
  PerLane y = lanes::random_per_lane(gen, n, -3.0f, 3.0f);
  for (auto& lane : y)
    for (float& v : lane) v = ref::activate<float>(v, act);
  return y;
}

// ---- twins vs central differences

// The gradient of sum_o dz[o] * f()[o] with respect to x (f reads x), by central differences.
std::vector<double> numeric_gradient(std::vector<double>& x, const std::vector<double>& dz,
                                     const std::function<std::vector<double>()>& f) {
  return central_differences(x, [&] {
    const std::vector<double> y = f();
    double s = 0.0;
    for (std::size_t o = 0; o < y.size(); ++o) s += dz[o] * y[o];
    return s;
  });
}

std::vector<double> random_doubles(std::mt19937& gen, std::size_t n, double lo = -1,
                                   double hi = 1) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = u(gen);
  return v;
}

// Checks an analytic gradient against central differences; prints the difference.
void check_numeric(const std::vector<double>& analytic, const std::vector<double>& numeric,
                   const char* what) {
  const double d = max_relative(analytic, numeric);
  std::printf("  %s: max relative |twin - central differences| = %.3g\n", what, d);
  CHECK(d < kNumericTol);
}

}  // namespace

// ---------------------------------------------------------------- hand-worked

TEST(activation_backward_hand_worked) {
  // dz = dy * act'(y) * scale. sigmoid at y = 0.25: 0.25 * 0.75 = 0.1875, times dy = 2: 0.375,
  // with scale 2: 0.75. tanh at y = 0.5: 1 - 0.25 = 0.75. ReLU: y = 0 -> 0, y = 3 -> dy.
  // identity: dy * scale.
  struct Case { Activation act; float y, dy, scale; double want; };
  for (const Case c : {Case{Activation::Sigmoid, 0.25f, 2, 1, 0.375},
                       Case{Activation::Sigmoid, 0.25f, 2, 2, 0.75},
                       Case{Activation::Tanh, 0.5f, 1, 1, 0.75},
                       Case{Activation::Tanh, -0.5f, -2, 0.5f, -0.75},
                       Case{Activation::ReLU, 0, 5, 1, 0}, Case{Activation::ReLU, 3, 5, 2, 10},
                       Case{Activation::Identity, -4, 1.5f, 3, 4.5}}) {
    const std::vector<float> y = lanes::broadcast({c.y}), dy = lanes::broadcast({c.dy});
    std::vector<float> dz(L, kNaN);
    evoae::activation_backward(dz.data(), y.data(), dy.data(), 1, c.act, c.scale);
    for (int l = 0; l < L; ++l) check_values(lanes::lane(dz.data(), 1, l), {c.want}, 1e-7,
                                             evoae::activation_name(c.act));
    // In place (dz = dy) too.
    std::vector<float> g = dy;
    evoae::activation_backward(g.data(), y.data(), g.data(), 1, c.act, c.scale);
    CHECK(g == dz);
  }
}

TEST(conv_backward_hand_worked) {
  // in (2x3) = [1 2 3; 4 5 6], kernel (1x2) = (10, 20): out (2x2), out[y][x] = 10 in[y][x] +
  // 20 in[y][x+1]. dz = [1 0; 0 2].
  // dk0 = sum dz[y][x] in[y][x] = 1*1 + 2*5 = 11; dk1 = sum dz[y][x] in[y][x+1] = 2 + 12 = 14.
  // dx[y][q] = 10 dz[y][q] + 20 dz[y][q-1]: row 0 (10, 20, 0), row 1 (0, 20, 40).
  const std::vector<float> in = {1, 2, 3, 4, 5, 6}, k = {10, 20}, dz = {1, 0, 0, 2};
  std::vector<float> dx = guarded(std::vector<float>(6 * L, kNaN));
  std::vector<float> dk = guarded(lanes::broadcast({100, 200}));  // the gradient is added
  std::vector<float> padded(evoae::conv_transpose_padded_size(1, 2, 2, 1, 2, 1), kNaN);
  evoae::conv_backward(dx.data(), dk.data(), lanes::broadcast(dz).data(),
                       lanes::broadcast(in).data(), lanes::broadcast(k).data(), 1, 2, 3, 1, 2,
                       1, padded.data());
  CHECK(guard_intact(dx) && guard_intact(dk));
  for (int l = 0; l < L; ++l) {
    check_values(lanes::lane(dx.data(), 6, l), {10, 20, 0, 0, 20, 40}, 0, "conv dx");
    check_values(lanes::lane(dk.data(), 2, l), {111, 214}, 0, "conv dk");
  }
}

TEST(maxpool_backward_hand_worked) {
  // Two 3x3 channels (odd: the last row and column are dropped, their gradient 0). Channel 0
  // = [1 3 0; 3 2 0; 0 0 0]: the block's max 3 ties at (0,1) and (1,0), the first in row order
  // (0,1) takes dy = 5. Channel 1: a block of four 2s: (0,0) takes dy = -1; 9s outside it.
  const std::vector<float> in = {1, 3, 0, 3, 2, 0, 0, 0, 0,
                                 2, 2, 9, 2, 2, 9, 9, 9, 9};
  std::vector<float> dx = guarded(std::vector<float>(18 * L, kNaN));
  evoae::maxpool_backward(dx.data(), lanes::broadcast({5, -1}).data(),
                          lanes::broadcast(in).data(), 2, 3, 3);
  CHECK(guard_intact(dx));
  for (int l = 0; l < L; ++l)
    check_values(lanes::lane(dx.data(), 18, l),
                 {0, 5, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0}, 0, "maxpool dx");
}

TEST(dense_backward_hand_worked) {
  // k = 2 -> n = 2, W = [1 2; 3 4]. Image 0: in (5, 6), dz (1, -1); image 1: in (1, 0),
  // dz (0, 2). dW += dz_i in_j summed over images: [5 6; -5 -6] + [0 0; 2 0] = [5 6; -3 -6];
  // db += (1, 1); dx_j = sum_i W[i][j] dz_i: image 0 (1 - 3, 2 - 4) = (-2, -2), image 1
  // (3*2, 4*2) = (6, 8).
  const std::vector<float> w = {1, 2, 3, 4}, in = {5, 6, 1, 0}, dz = {1, -1, 0, 2};
  std::vector<float> dx = guarded(std::vector<float>(4 * L, kNaN));
  std::vector<float> dw = guarded(std::vector<float>(4 * L, 0.0f));
  std::vector<float> db = guarded(lanes::broadcast({10, 20}));
  evoae::dense_backward(dx.data(), dw.data(), db.data(), lanes::broadcast(dz).data(),
                        lanes::broadcast(in).data(), lanes::broadcast(w).data(), 2, 2, 2);
  CHECK(guard_intact(dx) && guard_intact(dw) && guard_intact(db));
  for (int l = 0; l < L; ++l) {
    check_values(lanes::lane(dx.data(), 4, l), {-2, -2, 6, 8}, 0, "dense dx");
    check_values(lanes::lane(dw.data(), 4, l), {5, 6, -3, -6}, 0, "dense dW");
    check_values(lanes::lane(db.data(), 2, l), {11, 21}, 0, "dense db");
  }
}

TEST(dense_transposed_backward_hand_worked) {
  // W (n = 2, k = 2) = [1 2; 3 4] maps in (n) = (5, 6) to out_j = sum_i W[i][j] in_i.
  // dz (k) = (1, -1): dW[i][j] += in_i dz_j = [5 -5; 6 -6]; db += (1, -1);
  // dx_i = sum_j W[i][j] dz_j = (1 - 2, 3 - 4) = (-1, -1).
  const std::vector<float> w = {1, 2, 3, 4}, in = {5, 6}, dz = {1, -1};
  std::vector<float> dx = guarded(std::vector<float>(2 * L, kNaN));
  std::vector<float> dw = guarded(std::vector<float>(4 * L, 0.0f));
  std::vector<float> db = guarded(std::vector<float>(2 * L, 0.0f));
  evoae::dense_transposed_backward(dx.data(), dw.data(), db.data(), lanes::broadcast(dz).data(),
                                   lanes::broadcast(in).data(), lanes::broadcast(w).data(), 2, 2);
  CHECK(guard_intact(dx) && guard_intact(dw) && guard_intact(db));
  for (int l = 0; l < L; ++l) {
    check_values(lanes::lane(dx.data(), 2, l), {-1, -1}, 0, "tied dx");
    check_values(lanes::lane(dw.data(), 4, l), {5, -5, 6, -6}, 0, "tied dW");
    check_values(lanes::lane(db.data(), 2, l), {1, -1}, 0, "tied db");
  }
  // Two terms summed into one gradient (n = 2, k = 1): u1 (1, 2) v1 (3), u2 (0, 1) v2 (5):
  // dW = (1*3 + 0*5, 2*3 + 1*5) = (3, 11).
  const std::vector<float> u1 = lanes::broadcast({1, 2}), v1 = lanes::broadcast({3}),
                           u2 = lanes::broadcast({0, 1}), v2 = lanes::broadcast({5});
  const evoae::DenseTerm terms[] = {{u1.data(), v1.data()}, {u2.data(), v2.data()}};
  std::vector<float> dw2 = guarded(std::vector<float>(2 * L, 0.0f));
  evoae::dense_weights_backward(dw2.data(), terms, 2, 2, 1);
  CHECK(guard_intact(dw2));
  for (int l = 0; l < L; ++l) check_values(lanes::lane(dw2.data(), 2, l), {3, 11}, 0, "terms");
}

TEST(unpool_backward_hand_worked) {
  // dy (2x4) = [1 2 3 4; 5 6 7 8]: each input takes its 2x2 block, (1+2+5+6, 3+4+7+8).
  std::vector<float> dx = guarded(std::vector<float>(2 * L, kNaN));
  evoae::unpool_backward(dx.data(), lanes::broadcast({1, 2, 3, 4, 5, 6, 7, 8}).data(), 1, 1, 2);
  CHECK(guard_intact(dx));
  for (int l = 0; l < L; ++l) check_values(lanes::lane(dx.data(), 2, l), {14, 22}, 0, "unpool");
}

TEST(conv_transpose_backward_hand_worked) {
  // Stride 1: in (1x2) = (1, -1), k (1x2) = (0.5, 2): out[x + b] += in[x] k[b], 1x3.
  // dz = (1, 2, 3): dk[b] = sum_x dz[x + b] in[x]: dk0 = 1 - 2 = -1, dk1 = 2 - 3 = -1;
  // dx[x] = sum_b dz[x + b] k[b]: dx0 = 0.5 + 4 = 4.5, dx1 = 1 + 6 = 7.
  // Stride 2: in = (1, -2), k = (0.5, 1, 2): out[2x + b] += in[x] k[b], 1x5. dz = (1..5):
  // dx0 = 1*0.5 + 2*1 + 3*2 = 8.5, dx1 = 3*0.5 + 4*1 + 5*2 = 15.5;
  // dk0 = dz0 in0 + dz2 in1 = 1 - 6 = -5, dk1 = 2 - 8 = -6, dk2 = 3 - 10 = -7.
  struct Case {
    std::vector<float> in, k, dz;
    int stride;
    std::vector<double> dx, dk;
  };
  for (const Case& c : {Case{{1, -1}, {0.5f, 2}, {1, 2, 3}, 1, {4.5, 7}, {-1, -1}},
                        Case{{1, -2}, {0.5f, 1, 2}, {1, 2, 3, 4, 5}, 2, {8.5, 15.5},
                             {-5, -6, -7}}}) {
    const int kw = static_cast<int>(c.k.size());
    std::vector<float> dx = guarded(std::vector<float>(2 * L, kNaN));
    std::vector<float> dk = guarded(std::vector<float>(kw * L, 0.0f));
    evoae::conv_transpose_backward(dx.data(), dk.data(), lanes::broadcast(c.dz).data(),
                                   lanes::broadcast(c.in).data(), lanes::broadcast(c.k).data(), 1,
                                   1, 2, 1, kw, 1, c.stride);
    CHECK(guard_intact(dx) && guard_intact(dk));
    for (int l = 0; l < L; ++l) {
      check_values(lanes::lane(dx.data(), 2, l), c.dx, 0, "conv_transpose dx");
      check_values(lanes::lane(dk.data(), kw, l), c.dk, 0, "conv_transpose dk");
    }
  }
  // The kernels are unrolled for strides 1 and 2 only.
  std::vector<float> buffer(8 * L);
  CHECK_THROWS_AS(evoae::conv_transpose_backward(buffer.data(), buffer.data(), buffer.data(),
                                                 buffer.data(), buffer.data(), 1, 1, 2, 1, 2, 1,
                                                 3),
                  std::invalid_argument);
}

TEST(unpool_conv_transpose_backward_hand_worked) {
  // in (1x2) = (1, -1) unpools to u = [1 1 -1 -1; 1 1 -1 -1]; k = [0.1 0.2; 0.3 0.4]; out
  // (3x5) = u (full) k. dz: 1 at (1, 1), 2 at (2, 4), else 0.
  // dk[a][b] = sum dz[p][q] u[p - a][q - b]: (1, 1) gives u[1-a][1-b] = 1 for every tap;
  // (2, 4) reaches u only through a = 1, b = 1: 2 u[1][3] = -2. dk = [1 1; 1 -1].
  // du[y][x] = sum dz[y + a][x + b] k[a][b]: (1, 1) gives du = [0.4 0.3; 0.2 0.1] in the top
  // left block; (2, 4) gives du[1][3] = 2 k[1][1] = 0.8. dx = the blocks' sums: (1.0, 0.8).
  std::vector<float> dz(15, 0.0f);
  dz[1 * 5 + 1] = 1;
  dz[2 * 5 + 4] = 2;
  std::vector<float> dx = guarded(std::vector<float>(2 * L, kNaN));
  std::vector<float> dk = guarded(std::vector<float>(4 * L, 0.0f));
  std::vector<float> up = guarded(std::vector<float>(9 * L, kNaN));
  std::vector<float> dup = guarded(std::vector<float>(9 * L, kNaN));
  evoae::unpool_conv_transpose_backward(dx.data(), dk.data(), lanes::broadcast(dz).data(),
                                        lanes::broadcast({1, -1}).data(),
                                        lanes::broadcast({0.1f, 0.2f, 0.3f, 0.4f}).data(), 1, 1,
                                        2, 2, 2, 1, up.data(), dup.data());
  CHECK(guard_intact(dx) && guard_intact(dk) && guard_intact(up) && guard_intact(dup));
  for (int l = 0; l < L; ++l) {
    check_values(lanes::lane(dx.data(), 2, l), {1.0, 0.8}, 1e-6, "unpool_conv_transpose dx");
    check_values(lanes::lane(dk.data(), 4, l), {1, 1, 1, -1}, 0, "unpool_conv_transpose dk");
  }
}

// ---------------------------------------------------------------- fast vs twin

TEST(activation_backward_fast_vs_twin) {
  std::mt19937 gen(101);
  for (Activation act : kActivations)
    for (long count : {1L, 7L, 33L})
      for (float scale : {1.0f, 0.5f, 2.7f}) {
        const double d = fast_vs_twin(
            gen, {activation_outputs(gen, count, act), random_lanes(gen, count)},
            {{static_cast<std::size_t>(count), false}},
            [&](const Inputs& x, const Outputs& g) {
              evoae::activation_backward(g[0], x[0], x[1], count, act, scale);
            },
            [&](const Inputs& x, const Outputs& g) {
              ref::activation_backward<float>(g[0], x[0], x[1], count, act, scale);
            },
            evoae::activation_name(act));
        CHECK(d < kTwinTol);
      }
}

TEST(conv_backward_fast_vs_twin) {
  std::mt19937 gen(102);
  struct Case { int C, H, W, kh, kw, m; };
  for (const Case c : {Case{1, 28, 28, 5, 5, 1}, Case{1, 12, 12, 5, 5, 1}, Case{3, 7, 9, 2, 3, 2},
                       Case{2, 5, 5, 5, 5, 3}, Case{4, 6, 11, 1, 4, 5}, Case{1, 1, 1, 1, 1, 1},
                       Case{2, 4, 23, 3, 2, 1}, Case{2, 9, 13, 3, 10, 2}}) {
    const int OH = c.H - c.kh + 1, OW = c.W - c.kw + 1;
    const std::size_t in_n = static_cast<std::size_t>(c.C) * c.H * c.W,
                      out_n = static_cast<std::size_t>(c.C) * c.m * OH * OW,
                      k_n = static_cast<std::size_t>(c.m) * c.kh * c.kw;
    std::vector<float> padded(evoae::conv_transpose_padded_size(c.C * c.m, OH, OW, c.kh, c.kw, 1),
                              kNaN);
    const double d = fast_vs_twin(
        gen, {random_lanes(gen, out_n), random_lanes(gen, in_n), random_lanes(gen, k_n)},
        {{in_n, false}, {k_n, true}},
        [&](const Inputs& x, const Outputs& g) {
          evoae::conv_backward(g[0], g[1], x[0], x[1], x[2], c.C, c.H, c.W, c.kh, c.kw, c.m,
                               padded.data());
        },
        [&](const Inputs& x, const Outputs& g) {
          ref::conv_backward<float>(g[0], g[1], x[0], x[1], x[2], c.C, c.H, c.W, c.kh, c.kw,
                                    c.m);
        },
        "conv_backward");
    CHECK(d < kTwinTol);
  }
}

TEST(maxpool_backward_fast_vs_twin) {
  std::mt19937 gen(103);
  struct Case { int C, H, W; };
  for (bool ties : {false, true})
    for (const Case c : {Case{1, 24, 24}, Case{3, 7, 5}, Case{10, 2, 3}, Case{2, 3, 3},
                         Case{5, 13, 2}, Case{1, 9, 10}}) {
      const std::size_t in_n = static_cast<std::size_t>(c.C) * c.H * c.W,
                        out_n = static_cast<std::size_t>(c.C) * (c.H / 2) * (c.W / 2);
      const double d = fast_vs_twin(
          gen, {random_lanes(gen, out_n), ties ? tied_values(gen, in_n) : random_lanes(gen, in_n)},
          {{in_n, false}},
          [&](const Inputs& x, const Outputs& g) {
            evoae::maxpool_backward(g[0], x[0], x[1], c.C, c.H, c.W);
          },
          [&](const Inputs& x, const Outputs& g) {
            ref::maxpool_backward<float>(g[0], x[0], x[1], c.C, c.H, c.W);
          },
          ties ? "maxpool_backward with ties" : "maxpool_backward");
      CHECK(d == 0.0);  // no arithmetic: the same values
    }
}

TEST(dense_backward_fast_vs_twin) {
  std::mt19937 gen(104);
  struct Case { int k, n, B; };
  for (const Case c : {Case{16, 5, 1}, Case{5, 2, 3}, Case{784, 7, 5}, Case{300, 33, 4},
                       Case{1, 1, 2}, Case{2, 9, 6}, Case{160, 5, 9}, Case{13, 11, 3}}) {
    const std::size_t k = c.k, n = c.n, B = c.B;
    for (bool tied : {false, true}) {
      // dense: dz (B, n), in (B, k), dx (B, k); tied (n -> k): dz (B, k), in (B, n), dx (B, n).
      const std::size_t z = tied ? k : n, x = tied ? n : k;
      const double d = fast_vs_twin(
          gen, {random_lanes(gen, B * z), random_lanes(gen, B * x), random_lanes(gen, n * k)},
          {{B * x, false}, {n * k, true}, {z, true}},
          [&](const Inputs& in, const Outputs& g) {
            if (tied)
              evoae::dense_transposed_backward(g[0], g[1], g[2], in[0], in[1], in[2], c.n, c.k,
                                               c.B);
            else
              evoae::dense_backward(g[0], g[1], g[2], in[0], in[1], in[2], c.k, c.n, c.B);
          },
          [&](const Inputs& in, const Outputs& g) {
            for (std::size_t b = 0; b < B; ++b) {
              if (tied)
                ref::dense_transposed_backward<float>(g[0] + b * x, g[1], g[2], in[0] + b * z,
                                                      in[1] + b * x, in[2], c.n, c.k);
              else
                ref::dense_backward<float>(g[0] + b * x, g[1], g[2], in[0] + b * z,
                                           in[1] + b * x, in[2], c.k, c.n);
            }
          },
          tied ? "dense_transposed_backward" : "dense_backward");
      CHECK(d < kTwinTol);
    }
  }
}

TEST(dense_weights_backward_terms_fast_vs_twin) {
  // Three terms over B images: the twin adds each image's outer products in turn.
  std::mt19937 gen(105);
  const int n = 7, k = 12;
  for (int B : {1, 4, 6}) {
    std::vector<PerLane> inputs;
    for (int t = 0; t < 3; ++t) {
      inputs.push_back(random_lanes(gen, static_cast<std::size_t>(B) * n));
      inputs.push_back(random_lanes(gen, static_cast<std::size_t>(B) * k));
    }
    const double d = fast_vs_twin(
        gen, inputs, {{static_cast<std::size_t>(n) * k, true}},
        [&](const Inputs& x, const Outputs& g) {
          const evoae::DenseTerm terms[] = {{x[0], x[1]}, {x[2], x[3]}, {x[4], x[5]}};
          evoae::dense_weights_backward(g[0], terms, 3, n, k, B);
        },
        [&](const Inputs& x, const Outputs& g) {
          for (int b = 0; b < B; ++b)
            for (int t = 0; t < 3; ++t)
              for (int i = 0; i < n; ++i)
                for (int j = 0; j < k; ++j)
                  g[0][i * k + j] += x[2 * t][b * n + i] * x[2 * t + 1][b * k + j];
        },
        "dense_weights_backward, 3 terms");
    CHECK(d < kTwinTol);
  }
}

TEST(unpool_backward_fast_vs_twin) {
  std::mt19937 gen(106);
  struct Case { int C, H, W; };
  for (const Case c : {Case{10, 4, 4}, Case{10, 12, 12}, Case{2, 3, 5}, Case{1, 1, 1},
                       Case{3, 7, 1}}) {
    const std::size_t n = static_cast<std::size_t>(c.C) * c.H * c.W;
    const double d = fast_vs_twin(
        gen, {random_lanes(gen, 4 * n)}, {{n, false}},
        [&](const Inputs& x, const Outputs& g) {
          evoae::unpool_backward(g[0], x[0], c.C, c.H, c.W);
        },
        [&](const Inputs& x, const Outputs& g) {
          ref::unpool_backward<float>(g[0], x[0], c.C, c.H, c.W);
        },
        "unpool_backward");
    CHECK(d < kTwinTol);
  }
}

namespace {
struct TransposeCase { int C, H, W, kh, kw, r; };
const std::vector<TransposeCase> kTransposeCases = {
    {10, 4, 4, 5, 5, 1}, {10, 12, 12, 5, 5, 10}, {2, 3, 5, 3, 3, 2}, {1, 4, 4, 2, 2, 1},
    {4, 2, 3, 4, 4, 2},  {3, 1, 1, 1, 1, 1},     {6, 5, 2, 3, 2, 3}, {2, 2, 7, 5, 3, 1},
    {10, 6, 3, 2, 5, 10}, {1, 3, 9, 2, 11, 1}};
}  // namespace

TEST(conv_transpose_backward_fast_vs_twin) {
  std::mt19937 gen(107);
  for (int stride : {1, 2})
    for (const TransposeCase& c : kTransposeCases) {
      const int OH = (c.H - 1) * stride + c.kh, OW = (c.W - 1) * stride + c.kw;
      const std::size_t in_n = static_cast<std::size_t>(c.C) * c.H * c.W,
                        out_n = static_cast<std::size_t>(c.C / c.r) * OH * OW,
                        k_n = static_cast<std::size_t>(c.r) * c.kh * c.kw;
      const double d = fast_vs_twin(
          gen, {random_lanes(gen, out_n), random_lanes(gen, in_n), random_lanes(gen, k_n)},
          {{in_n, false}, {k_n, true}},
          [&](const Inputs& x, const Outputs& g) {
            evoae::conv_transpose_backward(g[0], g[1], x[0], x[1], x[2], c.C, c.H, c.W, c.kh,
                                           c.kw, c.r, stride);
          },
          [&](const Inputs& x, const Outputs& g) {
            ref::conv_transpose_backward<float>(g[0], g[1], x[0], x[1], x[2], c.C, c.H, c.W,
                                                c.kh, c.kw, c.r, stride);
          },
          stride == 1 ? "conv_transpose_backward stride 1" : "conv_transpose_backward stride 2");
      CHECK(d < kTwinTol);
    }
}

TEST(unpool_conv_transpose_backward_fast_vs_twin) {
  // The twin: unpool, then the stride-1 transposed convolution's backward, then the unpool's.
  std::mt19937 gen(108);
  for (const TransposeCase& c : kTransposeCases) {
    const int OH = 2 * c.H + c.kh - 1, OW = 2 * c.W + c.kw - 1;
    const std::size_t in_n = static_cast<std::size_t>(c.C) * c.H * c.W,
                      out_n = static_cast<std::size_t>(c.C / c.r) * OH * OW,
                      k_n = static_cast<std::size_t>(c.r) * c.kh * c.kw,
                      scratch = static_cast<std::size_t>(c.r) * (c.kh + 1) * (c.kw + 1) * L;
    std::vector<float> up = guarded(std::vector<float>(scratch, kNaN)), dup = up;
    const double d = fast_vs_twin(
        gen, {random_lanes(gen, out_n), random_lanes(gen, in_n), random_lanes(gen, k_n)},
        {{in_n, false}, {k_n, true}},
        [&](const Inputs& x, const Outputs& g) {
          evoae::unpool_conv_transpose_backward(g[0], g[1], x[0], x[1], x[2], c.C, c.H, c.W,
                                                c.kh, c.kw, c.r, up.data(), dup.data());
        },
        [&](const Inputs& x, const Outputs& g) {
          std::vector<float> u(4 * in_n), du(4 * in_n);
          ref::unpool_forward<float>(u.data(), x[1], c.C, c.H, c.W);
          ref::conv_transpose_backward<float>(du.data(), g[1], x[0], u.data(), x[2], c.C,
                                              2 * c.H, 2 * c.W, c.kh, c.kw, c.r, 1);
          ref::unpool_backward<float>(g[0], du.data(), c.C, c.H, c.W);
        },
        "unpool_conv_transpose_backward");
    CHECK(d < kTwinTol);
    CHECK(guard_intact(up) && guard_intact(dup));
  }
}

TEST(backward_ops_skip_null_gradients) {
  // dx (or a parameter gradient) null: nothing written there, the other gradients the same.
  std::mt19937 gen(109);
  const int C = 2, H = 5, W = 6, kh = 3, kw = 2, m = 2, OH = H - kh + 1, OW = W - kw + 1;
  const std::vector<float> in = lanes::interleave(random_lanes(gen, C * H * W)),
                           dz = lanes::interleave(random_lanes(gen, C * m * OH * OW)),
                           k = lanes::interleave(random_lanes(gen, m * kh * kw));
  std::vector<float> padded(evoae::conv_transpose_padded_size(C * m, OH, OW, kh, kw, 1));
  std::vector<float> dx(C * H * W * L), dk(m * kh * kw * L, 0.0f), dk_alone = dk;
  evoae::conv_backward(dx.data(), dk.data(), dz.data(), in.data(), k.data(), C, H, W, kh, kw, m,
                       padded.data());
  evoae::conv_backward(nullptr, dk_alone.data(), dz.data(), in.data(), k.data(), C, H, W, kh,
                       kw, m, nullptr);
  CHECK(dk == dk_alone);
  std::vector<float> dx_alone(dx.size());
  evoae::conv_backward(dx_alone.data(), nullptr, dz.data(), in.data(), k.data(), C, H, W, kh, kw,
                       m, padded.data());
  CHECK(dx == dx_alone);
}

// ---------------------------------------------------------------- twins vs central differences

TEST(activation_twin_vs_central_differences) {
  std::mt19937 gen(201);
  for (Activation act : kActivations)
    for (double scale : {1.0, 0.6}) {
      std::vector<double> z = random_doubles(gen, 9, -2, 2), dy = random_doubles(gen, 9);
      auto f = [&] {
        std::vector<double> y(z.size());
        for (std::size_t i = 0; i < z.size(); ++i) y[i] = ref::activate<double>(scale * z[i], act);
        return y;
      };
      const std::vector<double> y = f();
      std::vector<double> dz(z.size());
      ref::activation_backward<double>(dz.data(), y.data(), dy.data(), 9, act, scale);
      check_numeric(dz, numeric_gradient(z, dy, f), evoae::activation_name(act));
    }
}

TEST(conv_twins_vs_central_differences) {
  // conv and conv_transpose (strides 1 and 2), identity: dz is the output's gradient.
  std::mt19937 gen(202);
  const int C = 2, H = 6, W = 5, kh = 3, kw = 2, m = 2;
  std::vector<double> in = random_doubles(gen, C * H * W), k = random_doubles(gen, m * kh * kw);
  {
    const int OH = H - kh + 1, OW = W - kw + 1;
    const std::vector<double> dz = random_doubles(gen, C * m * OH * OW);
    auto f = [&] {
      std::vector<double> out(dz.size());
      ref::conv_forward<double>(out.data(), in.data(), k.data(), C, H, W, kh, kw, m,
                                Activation::Identity);
      return out;
    };
    std::vector<double> dx(in.size()), dk(k.size(), 0.0);
    ref::conv_backward<double>(dx.data(), dk.data(), dz.data(), in.data(), k.data(), C, H, W, kh,
                               kw, m);
    check_numeric(dx, numeric_gradient(in, dz, f), "conv dx");
    check_numeric(dk, numeric_gradient(k, dz, f), "conv dk");
  }
  for (int stride : {1, 2}) {
    const int r = 2, OH = (H - 1) * stride + kh, OW = (W - 1) * stride + kw;
    const std::vector<double> dz = random_doubles(gen, C / r * OH * OW);
    auto f = [&] {
      std::vector<double> out(dz.size());
      ref::conv_transpose_forward<double>(out.data(), in.data(), k.data(), C, H, W, kh, kw, r,
                                          stride, Activation::Identity);
      return out;
    };
    std::vector<double> dx(in.size()), dk(k.size(), 0.0);
    ref::conv_transpose_backward<double>(dx.data(), dk.data(), dz.data(), in.data(), k.data(), C,
                                         H, W, kh, kw, r, stride);
    check_numeric(dx, numeric_gradient(in, dz, f), "conv_transpose dx");
    check_numeric(dk, numeric_gradient(k, dz, f), "conv_transpose dk");
  }
}

TEST(pool_twins_vs_central_differences) {
  std::mt19937 gen(203);
  const int C = 2, H = 5, W = 7;  // odd: maxpool drops the last row and column
  std::vector<double> in = random_doubles(gen, C * H * W);
  const std::vector<double> dy = random_doubles(gen, C * (H / 2) * (W / 2));
  auto pooled = [&] {
    std::vector<double> out(dy.size());
    ref::maxpool_forward<double>(out.data(), in.data(), C, H, W);
    return out;
  };
  std::vector<double> dx(in.size());
  ref::maxpool_backward<double>(dx.data(), dy.data(), in.data(), C, H, W);
  check_numeric(dx, numeric_gradient(in, dy, pooled), "maxpool dx");

  const std::vector<double> dup = random_doubles(gen, 4 * in.size());
  auto unpooled = [&] {
    std::vector<double> out(dup.size());
    ref::unpool_forward<double>(out.data(), in.data(), C, H, W);
    return out;
  };
  ref::unpool_backward<double>(dx.data(), dup.data(), C, H, W);
  check_numeric(dx, numeric_gradient(in, dup, unpooled), "unpool dx");
}

TEST(dense_twins_vs_central_differences) {
  std::mt19937 gen(204);
  const int k = 7, n = 4;
  std::vector<double> w = random_doubles(gen, n * k);
  for (bool tied : {false, true}) {
    // dense k -> n, or tied n -> k with the same weights
    const int in_n = tied ? n : k, out_n = tied ? k : n;
    std::vector<double> in = random_doubles(gen, in_n), bias = random_doubles(gen, out_n);
    const std::vector<double> dz = random_doubles(gen, out_n);
    auto f = [&] {
      std::vector<double> out(out_n);
      if (tied)
        ref::dense_transposed_forward<double>(out.data(), in.data(), w.data(), bias.data(), n, k,
                                              Activation::Identity, 1.0);
      else
        ref::dense_forward<double>(out.data(), in.data(), w.data(), bias.data(), k, n,
                                   Activation::Identity, 1.0);
      return out;
    };
    std::vector<double> dx(in_n), dw(w.size(), 0.0), db(out_n, 0.0);
    if (tied)
      ref::dense_transposed_backward<double>(dx.data(), dw.data(), db.data(), dz.data(),
                                             in.data(), w.data(), n, k);
    else
      ref::dense_backward<double>(dx.data(), dw.data(), db.data(), dz.data(), in.data(),
                                  w.data(), k, n);
    check_numeric(dx, numeric_gradient(in, dz, f), tied ? "tied dx" : "dense dx");
    check_numeric(dw, numeric_gradient(w, dz, f), tied ? "tied dW" : "dense dW");
    check_numeric(db, numeric_gradient(bias, dz, f), tied ? "tied db" : "dense db");
  }
}

// ---------------------------------------------------------------- Network::backward

namespace {

// conv (tanh), dense with a scale of 0.7 (tanh) and one without (identity), each tied back
// (tanh, then identity with the first's scale), then an unpool + conv_transpose (fused).
Network tied_network() {
  Network net(6, 6);
  net.conv(3, 3, 2, Activation::Tanh).maxpool().dense(5, Activation::Tanh, 0.7f);
  net.dense(3, Activation::Identity).dense_tied(4, Activation::Tanh);
  net.dense_tied(3, Activation::Identity).reshape(2, 2, 2).unpool().conv_transpose(3, 3, 2);
  return net;
}

// Two tied layers share the weights of the first layer (scale 1.5) with it.
Network shared_tied_network() {
  Network net(3, 3);
  net.dense(4, Activation::Tanh, 1.5f).dense_tied(1, Activation::Identity).dense(4);
  net.dense_tied(1, Activation::Tanh);
  return net;
}

// ReLU, tanh and identity; a maxpool of a 7x7 input (odd); an unpool followed by a conv (not
// fused); a conv_transpose with reducer 2, stride 1.
Network mixed_network() {
  Network net(9, 9);
  net.conv(3, 3, 2).maxpool().conv(2, 2, 1, Activation::Tanh).dense(6, Activation::Identity);
  net.dense(8, Activation::ReLU).reshape(2, 2, 2).unpool().conv(2, 2, 1, Activation::Identity);
  net.conv_transpose(3, 3, 2, Activation::Tanh);
  return net;
}

struct NamedNetwork {
  const char* name;
  Network net;
};
std::vector<NamedNetwork> test_networks() {
  return {{"varadi", evoae::varadi_network()}, {"small", small_network()},
          {"tied", tied_network()},            {"shared tied", shared_tied_network()},
          {"mixed", mixed_network()}};
}

// A network's inputs for a backward pass of kLanes genomes on B images each: genomes
// (num_params, kLanes), images[b][l] (image b of lane l), dy (B, output size, kLanes).
struct Batch {
  std::vector<float> genomes;
  std::vector<PerLane> images;
  std::vector<float> dy;
};
Batch random_batch(const Network& net, int B, std::mt19937& gen) {
  Batch batch{lanes::interleave(lanes::random_per_lane(gen, net.num_params())), {}, {}};
  for (int b = 0; b < B; ++b) {
    batch.images.push_back(lanes::random_per_lane(gen, net.input_shape().size(), 0.1f, 0.9f));
    const std::vector<float> dy =
        lanes::interleave(lanes::random_per_lane(gen, net.output_shape().size()));
    batch.dy.insert(batch.dy.end(), dy.begin(), dy.end());
  }
  return batch;
}

// Network::backward after forward_batch on images first..first+B-1 of the batch, on a
// workspace of `capacity` images, adding into grads. dy_in: where the output's gradient lies,
// its own buffer (0), or copied after the forward pass into ws.grad_a (1) or ws.grad_b (2).
void fast_backward(const Network& net, const Batch& batch, int first, int B, int capacity,
                   std::vector<float>& grads, int dy_in = 0, float* dinput = nullptr) {
  evoae::Workspace ws(net, capacity, true);
  std::vector<const float*> images;
  for (int b = first; b < first + B; ++b)
    for (int l = 0; l < L; ++l) images.push_back(batch.images[b][l].data());
  net.forward_batch(batch.genomes.data(), images.data(), B, ws);
  const std::size_t out = net.output_shape().size() * L;
  const float* dy = batch.dy.data() + first * out;
  if (dy_in > 0) {
    float* place = (dy_in == 1 ? ws.grad_a : ws.grad_b).data();
    std::copy(dy, dy + B * out, place);
    dy = place;
  }
  net.backward(batch.genomes.data(), dy, B, ws, grads.data(), dinput);
}

// The twin's gradient of lane l, in double, over the batch's B images in order, added to start.
std::vector<double> twin_gradient(const Network& net, const Batch& batch, int l,
                                  std::vector<double> grads) {
  const std::size_t out = net.output_shape().size();
  const std::vector<double> genome =
      to_double(lanes::lane(batch.genomes.data(), net.num_params(), l));
  for (std::size_t b = 0; b < batch.images.size(); ++b) {
    const std::vector<double> image = to_double(batch.images[b][l]);
    const std::vector<double> dy = to_double(lanes::lane(batch.dy.data() + b * out * L, out, l));
    ref::network_backward<double>(net, genome.data(), image.data(), dy.data(), grads.data());
  }
  return grads;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST(network_backward_vs_twin) {
  // Different genomes, images and output gradients in every lane, 3 images per lane, the
  // gradient added to random values; every lane against the double twin from its own data.
  constexpr double kTol = 1e-5;  // float forward and backward through up to 13 layers
  std::mt19937 gen(301);
  for (const NamedNetwork& t : test_networks()) {
    const Batch batch = random_batch(t.net, 3, gen);
    const PerLane start = lanes::random_per_lane(gen, t.net.num_params(), -0.1f, 0.1f);
    std::vector<float> grads = lanes::interleave(start);
    fast_backward(t.net, batch, 0, 3, 3, grads);
    double worst = 0.0;
    for (int l = 0; l < L; ++l) {
      const std::vector<double> want = twin_gradient(t.net, batch, l, to_double(start[l]));
      worst = std::max(worst, max_relative(lanes::lane(grads.data(), t.net.num_params(), l), want));
    }
    std::printf("  %s (%zu parameters): max relative |Network::backward - twin| = %.3g\n",
                t.name, t.net.num_params(), worst);
    CHECK(worst < kTol);
  }
}

TEST(network_twin_vs_central_differences) {
  // reference::network_backward (double) against central differences of the loss
  // sum_o dy[o] * output[o] in every parameter.
  std::mt19937 gen(302);
  for (const NamedNetwork& t : test_networks()) {
    std::vector<double> genome = random_doubles(gen, t.net.num_params());
    const std::vector<double> image = random_doubles(gen, t.net.input_shape().size(), 0.1, 0.9);
    const std::vector<double> dy = random_doubles(gen, t.net.output_shape().size());
    std::vector<double> grads(genome.size(), 0.0);
    ref::network_backward<double>(t.net, genome.data(), image.data(), dy.data(), grads.data());
    check_numeric(grads, numeric_gradient(genome, dy, [&] {
                    return ref::network_forward<double>(t.net, genome.data(), image.data());
                  }),
                  t.name);
  }
}

TEST(network_input_gradient_vs_twin) {
  // The input's gradient of every image in every lane against the double twin's; asking for
  // it leaves the parameters' gradient bit for bit as it was. Relative to the largest value
  // of the whole batch: a lane whose gradient all but cancels (varadi's reaches 1e-7 where
  // others reach 1e-2) is as exact as float sums allow, not to 1e-5 of itself.
  constexpr double kTol = 1e-5;
  constexpr int B = 2;
  std::mt19937 gen(303);
  for (const NamedNetwork& t : test_networks()) {
    const Batch batch = random_batch(t.net, B, gen);
    const std::size_t n = t.net.input_shape().size(), out = t.net.output_shape().size();
    std::vector<float> plain(t.net.num_params() * L, 0.0f), grads = plain;
    std::vector<float> dinput(B * n * L, -7.0f);  // every value must be written
    fast_backward(t.net, batch, 0, B, B, plain);
    fast_backward(t.net, batch, 0, B, B, grads, 0, dinput.data());
    CHECK(same_bits(plain, grads));
    std::vector<float> got;
    std::vector<double> wanted;
    for (int b = 0; b < B; ++b)
      for (int l = 0; l < L; ++l) {
        const std::vector<double> genome =
            to_double(lanes::lane(batch.genomes.data(), t.net.num_params(), l));
        const std::vector<double> image = to_double(batch.images[b][l]);
        const std::vector<double> dy =
            to_double(lanes::lane(batch.dy.data() + b * out * L, out, l));
        std::vector<double> unused(t.net.num_params(), 0.0), want(n);
        ref::network_backward<double>(t.net, genome.data(), image.data(), dy.data(),
                                      unused.data(), want.data());
        const std::vector<float> lane = lanes::lane(dinput.data() + b * n * L, n, l);
        got.insert(got.end(), lane.begin(), lane.end());
        wanted.insert(wanted.end(), want.begin(), want.end());
      }
    const double worst = max_relative(got, wanted);
    std::printf("  %s: max relative |input gradient - twin| = %.3g\n", t.name, worst);
    CHECK(worst < kTol);
  }
}

TEST(network_twin_input_gradient_vs_central_differences) {
  std::mt19937 gen(304);
  for (const NamedNetwork& t : test_networks()) {
    const std::vector<double> genome = random_doubles(gen, t.net.num_params());
    std::vector<double> image = random_doubles(gen, t.net.input_shape().size(), 0.1, 0.9);
    const std::vector<double> dy = random_doubles(gen, t.net.output_shape().size());
    std::vector<double> grads(genome.size(), 0.0), dinput(image.size());
    ref::network_backward<double>(t.net, genome.data(), image.data(), dy.data(), grads.data(),
                                  dinput.data());
    check_numeric(dinput, numeric_gradient(image, dy, [&] {
                    return ref::network_forward<double>(t.net, genome.data(), image.data());
                  }),
                  t.name);
  }
}

TEST(network_backward_same_bits_for_any_batch_shape) {
  // Five images one by one (each forward, then backward, adding into the same gradient) give
  // the bits that B images at once give, for B = 1..5, on a workspace of B or of 5 images, and
  // split into two calls: every sum runs over the images in order.
  std::mt19937 gen(303);
  for (const NamedNetwork& t : test_networks()) {
    const Batch batch = random_batch(t.net, 5, gen);
    const std::vector<float> start =
        lanes::interleave(lanes::random_per_lane(gen, t.net.num_params(), -0.1f, 0.1f));
    std::vector<std::vector<float>> singly{start};  // singly[B]: after images 0..B-1
    for (int b = 0; b < 5; ++b) {
      singly.push_back(singly.back());
      fast_backward(t.net, batch, b, 1, 1, singly.back());
    }
    bool same = true;
    for (int B = 1; B <= 5; ++B)
      for (int capacity : {B, 5}) {
        std::vector<float> grads = start;
        fast_backward(t.net, batch, 0, B, capacity, grads);
        same = same && same_bits(grads, singly[B]);
      }
    std::vector<float> split = start;
    fast_backward(t.net, batch, 0, 2, 2, split);
    fast_backward(t.net, batch, 2, 3, 4, split);
    same = same && same_bits(split, singly[5]);
    std::printf("  %s: %s\n", t.name, same ? "the same bits" : "DIFFERENT bits");
    CHECK(same);
  }
}

TEST(network_backward_lanes_are_independent) {
  // Lane 3's gradient is the same, bit for bit, whatever the other lanes' genomes, images and
  // output gradients.
  constexpr int kLane = 3;
  std::mt19937 gen(304);
  for (const NamedNetwork& t : test_networks()) {
    const Batch a = random_batch(t.net, 2, gen);
    Batch b = random_batch(t.net, 2, gen);
    const std::size_t G = t.net.num_params(), out = t.net.output_shape().size();
    for (std::size_t p = 0; p < G; ++p) b.genomes[p * L + kLane] = a.genomes[p * L + kLane];
    for (std::size_t i = 0; i < 2 * out; ++i) b.dy[i * L + kLane] = a.dy[i * L + kLane];
    for (int i = 0; i < 2; ++i) b.images[i][kLane] = a.images[i][kLane];
    std::vector<float> ga(G * L, 0.0f), gb(G * L, 0.0f);
    fast_backward(t.net, a, 0, 2, 2, ga);
    fast_backward(t.net, b, 0, 2, 2, gb);
    CHECK(same_bits(lanes::lane(ga.data(), G, kLane), lanes::lane(gb.data(), G, kLane)));
    CHECK(!same_bits(lanes::lane(ga.data(), G, 0), lanes::lane(gb.data(), G, 0)));
  }
}

TEST(network_backward_takes_dy_in_its_workspace) {
  // The output's gradient written into ws.grad_a or grad_b (as a loss can) gives the same bits.
  std::mt19937 gen(305);
  for (const NamedNetwork& t : test_networks()) {
    const Batch batch = random_batch(t.net, 2, gen);
    std::vector<float> want(t.net.num_params() * L, 0.0f);
    fast_backward(t.net, batch, 0, 2, 2, want);
    for (int dy_in : {1, 2}) {
      std::vector<float> grads(want.size(), 0.0f);
      fast_backward(t.net, batch, 0, 2, 2, grads, dy_in);
      CHECK(same_bits(grads, want));
    }
  }
}

TEST(network_backward_refuses_bad_workspaces) {
  const Network net = small_network();
  std::vector<float> genomes(net.num_params() * L, 0.1f), grads(genomes.size());
  std::vector<float> dy(2 * net.output_shape().size() * L, 1.0f);
  evoae::Workspace plain(net, 2);
  CHECK_THROWS_AS(net.backward(genomes.data(), dy.data(), 1, plain, grads.data()),
                  std::invalid_argument);
  evoae::Workspace tape(net, 1, true);
  CHECK_THROWS_AS(net.backward(genomes.data(), dy.data(), 2, tape, grads.data()),
                  std::invalid_argument);
  CHECK_THROWS_AS(net.backward(genomes.data(), dy.data(), 0, tape, grads.data()),
                  std::invalid_argument);
}

// ---------------------------------------------------------------- losses

namespace {

constexpr evoae::Loss kLosses[] = {evoae::Loss::MeanAbsolute, evoae::Loss::SumAbsolute,
                                   evoae::Loss::MeanSquared, evoae::Loss::BinaryCrossEntropy,
                                   evoae::Loss::SoftmaxCrossEntropy};

// Outputs and targets a loss takes: bce outputs in (0, 1), softmax-ce logits; targets in [0, 1].
PerLane loss_outputs(std::mt19937& gen, std::size_t n, evoae::Loss loss) {
  if (loss == evoae::Loss::BinaryCrossEntropy) return lanes::random_per_lane(gen, n, 0.02f, 0.98f);
  if (loss == evoae::Loss::SoftmaxCrossEntropy) return lanes::random_per_lane(gen, n, -3, 3);
  return lanes::random_per_lane(gen, n);
}

}  // namespace

TEST(losses_hand_worked) {
  // y = (0.2, 0.7, 0.5) against t = (0, 1, 0.5), d = y - t = (0.2, -0.3, 0):
  // mae (0.2 + 0.3 + 0) / 3, slopes sign(d) / 3; sae 0.5, slopes sign(d); mse (0.04 + 0.09) / 3,
  // slopes 2 d / 3; bce (-ln 0.8 - ln 0.7 - ln 0.5) / 3 = (0.2231436 + 0.3566749 + 0.6931472)
  // / 3, slopes (y - t) / (y (1 - y)) / 3 = (0.2 / 0.16, -0.3 / 0.21, 0) / 3.
  // softmax-ce of y = (1, 2, 3) against class 2: ln(e + e^2 + e^3) - 3 = ln(1 + e^-1 + e^-2)
  // = ln 1.5032147 = 0.4076059; slopes softmax(y) - t = e^(y - 3.4076059) - t.
  const std::vector<float> y = {0.2f, 0.7f, 0.5f}, t = {0, 1, 0.5f};
  struct Case {
    evoae::Loss loss;
    std::vector<float> y, t;
    double value;
    std::vector<double> grad;
  };
  for (const Case& c :
       {Case{evoae::Loss::MeanAbsolute, y, t, 0.5 / 3, {1.0 / 3, -1.0 / 3, 0}},
        Case{evoae::Loss::SumAbsolute, y, t, 0.5, {1, -1, 0}},
        Case{evoae::Loss::MeanSquared, y, t, 0.13 / 3, {0.4 / 3, -0.6 / 3, 0}},
        Case{evoae::Loss::BinaryCrossEntropy, y, t, 1.2729657 / 3,
             {1.25 / 3, -0.3 / 0.21 / 3, 0}},
        Case{evoae::Loss::SoftmaxCrossEntropy, {1, 2, 3}, {0, 0, 1}, 0.4076059,
             {0.0900306, 0.2447285, 0.6652410 - 1}}}) {
    std::vector<float> losses(L, kNaN), grad = guarded(std::vector<float>(3 * L, kNaN));
    evoae::loss_forward_backward(c.loss, lanes::broadcast(c.y).data(),
                                 lanes::broadcast(c.t).data(), 3, losses.data(), grad.data());
    CHECK(guard_intact(grad));
    check_values(losses, std::vector<double>(L, c.value), 1e-6, evoae::loss_name(c.loss));
    for (int l = 0; l < L; ++l)
      check_values(lanes::lane(grad.data(), 3, l), c.grad, 1e-6, evoae::loss_name(c.loss));
    // The loss alone: the same values.
    std::vector<float> alone(L, kNaN);
    evoae::loss_forward_backward(c.loss, lanes::broadcast(c.y).data(),
                                 lanes::broadcast(c.t).data(), 3, alone.data(), nullptr);
    CHECK(alone == losses);
  }
}

TEST(bce_clamps_saturated_outputs) {
  // Outputs of exactly 0 and 1 (a saturated sigmoid) against the opposite targets: p clamped
  // to 1e-7 and 1 - 1e-7, a finite loss (-ln 1e-7 = 16.118 for each) and a finite slope
  // that pushes the output back.
  std::vector<float> losses(L), grad(2 * L);
  evoae::loss_forward_backward(evoae::Loss::BinaryCrossEntropy, lanes::broadcast({0, 1}).data(),
                               lanes::broadcast({1, 0}).data(), 2, losses.data(), grad.data());
  for (int l = 0; l < L; ++l) {
    CHECK(std::isfinite(losses[l]) && losses[l] > 16.1f && losses[l] < 16.2f);
    CHECK(std::isfinite(grad[l]) && grad[l] < -1e6f);
    CHECK(std::isfinite(grad[L + l]) && grad[L + l] > 1e6f);
  }
  CHECK_NEAR(losses[0], -std::log(1e-7), 1e-4);  // -(ln 1e-7 + ln(1 - (1 - 1e-7))) / 2
}

TEST(bce_saturated_at_1_is_clamped_as_in_float64) {
  // Outputs at or above 1 - 1e-7 (1, and the largest float below 1) are clamped to p = 1 - 1e-7
  // as the float64 reference clamps them: loss -ln(1 - p) = -ln 1e-7 for target 0, slope
  // (p - t) / (p (1 - p)) / n. 1 - 1e-7 rounded to float (1 - 1.19e-7) would be 19% off.
  // The largest float below 1 - 1e-7 is not clamped.
  const std::vector<float> y = {1.0f, 1.0f, std::nextafter(1.0f, 0.0f),
                                std::nextafter(1.0f - 1e-7f, 0.0f)};
  const std::vector<float> t = {0.0f, 0.3f, 0.0f, 0.0f};
  const int n = static_cast<int>(y.size());
  double want_loss = 0.0;
  std::vector<double> want_grad;
  for (int i = 0; i < n; ++i) {
    const double p = std::min(static_cast<double>(y[i]), 1.0 - 1e-7);
    want_loss -= (t[i] * std::log(p) + (1.0 - t[i]) * std::log(1.0 - p)) / n;
    want_grad.push_back((p - t[i]) / (p * (1.0 - p)) / n);
  }
  std::vector<float> losses(L), grad(n * L);
  evoae::loss_forward_backward(evoae::Loss::BinaryCrossEntropy, lanes::broadcast(y).data(),
                               lanes::broadcast(t).data(), n, losses.data(), grad.data());
  for (int l = 0; l < L; ++l) {
    CHECK_NEAR(losses[l], want_loss, 1e-5 * want_loss);
    const std::vector<float> got = lanes::lane(grad.data(), n, l);
    for (int i = 0; i < n; ++i) CHECK_NEAR(got[i], want_grad[i], 1e-5 * std::fabs(want_grad[i]));
  }
}

TEST(losses_fast_vs_twin) {
  std::mt19937 gen(401);
  for (evoae::Loss loss : kLosses)
    for (int n : {1, 10, 784}) {
      const double d = fast_vs_twin(
          gen, {loss_outputs(gen, n, loss), lanes::random_per_lane(gen, n, 0, 1)},
          {{1, false}, {static_cast<std::size_t>(n), false}},
          [&](const Inputs& x, const Outputs& g) {
            evoae::loss_forward_backward(loss, x[0], x[1], n, g[0], g[1]);
          },
          [&](const Inputs& x, const Outputs& g) {
            g[0][0] = ref::loss_forward_backward<float>(loss, x[0], x[1], n, g[1]);
          },
          evoae::loss_name(loss));
      CHECK(d < kTwinTol);
    }
}

TEST(loss_twins_vs_central_differences) {
  std::mt19937 gen(402);
  for (evoae::Loss loss : kLosses) {
    const int n = 12;
    const bool bce = loss == evoae::Loss::BinaryCrossEntropy;
    std::vector<double> y = random_doubles(gen, n, bce ? 0.02 : -3, bce ? 0.98 : 3);
    const std::vector<double> t = random_doubles(gen, n, 0, 1);
    std::vector<double> grad(n);
    ref::loss_forward_backward<double>(loss, y.data(), t.data(), n, grad.data());
    check_numeric(grad, numeric_gradient(y, {1.0}, [&] {
                    return std::vector<double>{
                        ref::loss_forward_backward<double>(loss, y.data(), t.data(), n, nullptr)};
                  }),
                  evoae::loss_name(loss));
  }
}

TEST(loss_names) {
  CHECK((evoae::loss_names() ==
         std::vector<std::string>{"mae", "sae", "mse", "bce", "softmax-ce"}));
  for (evoae::Loss loss : kLosses) CHECK(evoae::loss_from_name(evoae::loss_name(loss)) == loss);
  CHECK_THROWS_AS(evoae::loss_from_name("l2"), std::invalid_argument);
  try {
    evoae::loss_from_name("l2");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("softmax-ce") != std::string::npos);
  }
}
