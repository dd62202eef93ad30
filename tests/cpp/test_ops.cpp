// Each op of ops.h (8 genome lanes at once) on a hand-worked case (expected numbers written
// here, checkable on paper, the same case in every lane), then fast op vs its one-genome
// reference twin on random inputs of several sizes, with different data in every lane and
// every lane checked against the reference run on that lane's data.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "evoae/nn/ops.h"
#include "evoae/nn/reference_ops.h"
#include "evoae/core/simd.h"

using evoae::Activation;
using lanes::L;

namespace {

constexpr double kTwinTol = 1e-5;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// An output or scratch buffer of n elements per lane, NaN so that an element an op forgets to
// write shows up, followed by a guard of sentinels that an op writing past its end changes.
struct Guarded {
  static constexpr std::size_t kGuard = 64;
  static constexpr float kSentinel = -31337.0f;

  Guarded(std::size_t n_per_lane, std::size_t total)
      : n(n_per_lane), v(total + kGuard, kNaN) {
    std::fill(v.end() - kGuard, v.end(), kSentinel);
  }
  explicit Guarded(std::size_t n_per_lane) : Guarded(n_per_lane, n_per_lane * L) {}

  float* data() { return v.data(); }
  std::vector<float> lane(int l) const { return lanes::lane(v.data(), n, l); }
  bool guard_intact() const {
    return std::all_of(v.end() - kGuard, v.end(), [](float x) { return x == kSentinel; });
  }

  std::size_t n;
  std::vector<float> v;
};

// An input lane buffer followed by NaNs: an op that reads past its input gets NaN out.
std::vector<float> nan_tail(std::vector<float> v) {
  v.insert(v.end(), Guarded::kGuard, kNaN);
  return v;
}

std::vector<float> nan_buffer(std::size_t n) { return std::vector<float>(n, kNaN); }

// Max over lanes of |lane l of out - want[l]|; prints the first lane that is off.
double max_lane_diff(const Guarded& out, const PerLane& want, double tol, const char* what) {
  double m = 0.0;
  bool reported = false;
  for (int l = 0; l < L; ++l) {
    const double d = max_abs_diff(out.lane(l), want[l]);
    if (!(d < tol) && !reported) {
      std::printf("  %s: lane %d differs from its reference by %.3g\n", what, l, d);
      reported = true;
    }
    m = std::max(m, d);
  }
  return m;
}

// Every lane of a fast op's output equals the hand-worked numbers; the guard is untouched.
void check_every_lane(const Guarded& out, const std::vector<double>& want, double tol,
                      const char* what) {
  CHECK(out.guard_intact());
  for (int l = 0; l < L; ++l) check_values(out.lane(l), want, tol, what);
}

std::vector<double> logistic_of(const std::vector<double>& sums) {
  std::vector<double> v;
  for (double s : sums) v.push_back(logistic(s));
  return v;
}

// The fast transposed convolution on lane buffers with guarded output and scratch.
Guarded fast_conv_transpose(const std::vector<float>& in, const std::vector<float>& kernels,
                            int C, int H, int W, int kh, int kw, int r, int stride,
                            bool* scratch_ok, Activation act = Activation::Sigmoid) {
  const int OH = (H - 1) * stride + kh, OW = (W - 1) * stride + kw;
  Guarded out(static_cast<std::size_t>(C / r) * OH * OW);
  const int padded_size = evoae::conv_transpose_padded_size(C, H, W, kh, kw, stride);
  Guarded padded(0, padded_size);  // NaN: the op must zero its padding itself
  evoae::conv_transpose_forward(out.data(), in.data(), kernels.data(), C, H, W, kh, kw, r,
                                stride, padded.data(), act);
  *scratch_ok = padded_size >= 0 && padded.guard_intact() && out.guard_intact();
  return out;
}

Guarded fast_unpool_conv_transpose(const std::vector<float>& in, const std::vector<float>& kernels,
                                   int C, int H, int W, int kh, int kw, int r, bool* scratch_ok,
                                   Activation act = Activation::Sigmoid) {
  const int OH = 2 * H + kh - 1, OW = 2 * W + kw - 1;
  Guarded out(static_cast<std::size_t>(C / r) * OH * OW);
  Guarded upsampled(0, static_cast<std::size_t>(r) * (kh + 1) * (kw + 1) * L);
  Guarded padded(0, evoae::conv_transpose_padded_size(C, H, W, kh + 1, kw + 1, 2));
  evoae::unpool_conv_transpose_forward(out.data(), in.data(), kernels.data(), C, H, W, kh, kw,
                                       r, upsampled.data(), padded.data(), act);
  *scratch_ok = upsampled.guard_intact() && padded.guard_intact() && out.guard_intact();
  return out;
}

}  // namespace

// ---------------------------------------------------------------- lanes and vector math

TEST(lane_layout_is_element_major_lane_minor) {
  // simd.h / ops.h: index = ((c*H + row)*W + col)*kLanes + lane. The helper must agree,
  // or every lane comparison below would test the wrong thing.
  CHECK(L == 8 || L == 16);
  std::printf("  %d lanes\n", L);
  PerLane per_lane(L, std::vector<float>(3));
  for (int l = 0; l < L; ++l)
    for (int i = 0; i < 3; ++i) per_lane[l][i] = static_cast<float>(10 * l + i);
  const std::vector<float> v = lanes::interleave(per_lane);
  CHECK(v.size() == 3u * L);
  for (int l = 0; l < L; ++l)
    for (int i = 0; i < 3; ++i) CHECK(v[i * L + l] == 10 * l + i);
  for (int l = 0; l < L; ++l) CHECK(lanes::lane(v.data(), 3, l) == per_lane[l]);
  const std::vector<float> b = lanes::broadcast({1, 2});
  std::vector<float> want(L, 1.0f);
  want.resize(2 * L, 2.0f);
  CHECK(b == want);
  CHECK_THROWS_AS(lanes::interleave(PerLane(3, std::vector<float>(2))), std::invalid_argument);
}

TEST(vexp_and_vsigmoid) {
  // A different x in every lane; relative error of vexp against std::exp in double.
  double worst = 0.0;
  for (int k = -8700; k <= 8700; k += 8) {
    float xs[L];
    for (int l = 0; l < L; ++l) xs[l] = (k + l) * 0.01f;
    const evoae::vfloat e = evoae::vexp(evoae::load(xs));
    for (int l = 0; l < L; ++l) {
      const double want = std::exp(static_cast<double>(xs[l]));
      const double rel = std::fabs(e[l] - want) / want;
      if (!(rel < 1e-6)) std::printf("  vexp(%.9g) = %.9g, std::exp %.9g\n", xs[l], e[l], want);
      worst = std::max(worst, std::isnan(rel) ? INFINITY : rel);
    }
  }
  std::printf("  vexp on [-87, 87]: max relative error %.3g\n", worst);
  CHECK(worst < 2e-7);  // simd.h: "relative error below 2e-7 (|x| <= 87)"

  const float ln3 = std::log(3.0f);
  const float xs[L] = {0.0f, ln3, -ln3, 2.0f, -5.0f, 20.0f, -100.0f, 100.0f};
  const evoae::vfloat s = evoae::vsigmoid(evoae::load(xs));
  CHECK_NEAR(s[0], 0.5, 1e-7);
  CHECK_NEAR(s[1], 0.75, 1e-6);  // 1/(1+1/3)
  CHECK_NEAR(s[2], 0.25, 1e-6);  // 1/(1+3)
  for (int l = 3; l < L; ++l) CHECK_NEAR(s[l], logistic(xs[l]), 1e-6);
  CHECK(s[6] >= 0.0f && s[6] < 1e-30f);  // saturates, no NaN or negative value
  CHECK(s[7] == 1.0f);
}

// ---------------------------------------------------------------- hand-worked cases

TEST(conv_hand_worked_relu_and_multiplier) {
  // 2 input channels of 3x3 (channel 1 = -channel 0), multiplier 2, 2x2 kernels.
  const std::vector<float> in = {1, 2, 3, 4, 5, 6, 7, 8, 9,            // channel 0
                                 -1, -2, -3, -4, -5, -6, -7, -8, -9};  // channel 1
  const std::vector<float> kernels = {1, 2, 0, 0,        // kernel 0: in[y][x] + 2 in[y][x+1]
                                      -1, 0, 0, 0.25f};  // kernel 1: -in[y][x] + in[y+1][x+1]/4
  // Output channel i*m+j = ReLU(in channel i (*) kernel j), each 2x2.
  const std::vector<double> want = {
      5, 8, 14, 17,     // ch 0 = in 0 * k 0: 1+4, 2+6, 4+10, 5+12
      0.25, 0, 0, 0,    // ch 1 = in 0 * k 1: -1+1.25, -2+1.5, -4+2, -5+2.25 -> ReLU
      0, 0, 0, 0,       // ch 2 = in 1 * k 0: all negative -> 0
      0, 0.5, 2, 2.75,  // ch 3 = in 1 * k 1: 1-1.25, 2-1.5, 4-2, 5-2.25 -> ReLU
  };
  Guarded out(16);
  std::vector<float> ref = nan_buffer(16);
  evoae::conv_forward(out.data(), nan_tail(lanes::broadcast(in)).data(),
                      lanes::broadcast(kernels).data(), 2, 3, 3, 2, 2, 2);
  evoae::reference::conv_forward(ref.data(), in.data(), kernels.data(), 2, 3, 3, 2, 2, 2);
  check_every_lane(out, want, 1e-6, "conv");
  check_values(ref, want, 1e-6, "reference::conv");
}

TEST(conv_hand_worked_non_square) {
  // One 2x4 channel, a 1x3 kernel: out (1, 2, 2), row-major kernel read left to right.
  const std::vector<float> in = {1, 2, 3, 4,
                                 0, 1, 0, 1};
  const std::vector<float> kernel = {1, 10, 100};
  const std::vector<double> want = {321, 432,
                                    10, 101};
  Guarded out(4);
  std::vector<float> ref = nan_buffer(4);
  evoae::conv_forward(out.data(), nan_tail(lanes::broadcast(in)).data(),
                      lanes::broadcast(kernel).data(), 1, 2, 4, 1, 3, 1);
  evoae::reference::conv_forward(ref.data(), in.data(), kernel.data(), 1, 2, 4, 1, 3, 1);
  check_every_lane(out, want, 1e-4, "conv");
  check_values(ref, want, 1e-4, "reference::conv");
}

TEST(maxpool_hand_worked_4x4) {
  const std::vector<float> in = {1, 2, 3, 4,
                                 5, 6, 7, 0,
                                 -1, -2, 9, -3,
                                 -4, -5, 2, 1};
  const std::vector<double> want = {6, 7,
                                    -1, 9};
  Guarded out(4);
  std::vector<float> ref = nan_buffer(4);
  evoae::maxpool_forward(out.data(), nan_tail(lanes::broadcast(in)).data(), 1, 4, 4);
  evoae::reference::maxpool_forward(ref.data(), in.data(), 1, 4, 4);
  check_every_lane(out, want, 0.0, "maxpool");
  check_values(ref, want, 0.0, "reference::maxpool");
}

TEST(maxpool_hand_worked_odd_sizes) {
  // 2 channels of 3x5 -> 2 channels of 1x2; the last row and column (the 99s) are dropped.
  const std::vector<float> in = {1, 9, 2, 3, 99,
                                 4, 5, 6, 8, 99,
                                 99, 99, 99, 99, 99,
                                 -5, -6, -1, -2, 99,
                                 -7, -8, -3, -4, 99,
                                 99, 99, 99, 99, 99};
  const std::vector<double> want = {9, 8,
                                    -5, -1};
  Guarded out(4);
  std::vector<float> ref = nan_buffer(4);
  evoae::maxpool_forward(out.data(), nan_tail(lanes::broadcast(in)).data(), 2, 3, 5);
  evoae::reference::maxpool_forward(ref.data(), in.data(), 2, 3, 5);
  check_every_lane(out, want, 0.0, "maxpool");
  check_values(ref, want, 0.0, "reference::maxpool");
}

TEST(dense_sigmoid_hand_worked) {
  // k = 4 inputs, n = 3 units, weights [out][in] row-major.
  const float ln3 = std::log(3.0f);
  const std::vector<float> in = {1, 2, 3, 4};
  const std::vector<float> weights = {1, 0, -1, 0,      // 1 - 3 = -2
                                      0.5f, 0.5f, 0, 0,  // 0.5 + 1 = 1.5
                                      0, 0, 0, 0};       // 0
  const std::vector<float> bias = {2 - ln3, ln3 - 1.5f, 0};
  // sums: -ln3, ln3, 0 -> sigmoid 1/4, 3/4, 1/2
  const std::vector<double> want = {0.25, 0.75, 0.5};
  Guarded out(3);
  std::vector<float> ref = nan_buffer(3);
  evoae::dense_sigmoid_forward(out.data(), nan_tail(lanes::broadcast(in)).data(),
                               lanes::broadcast(weights).data(), lanes::broadcast(bias).data(),
                               4, 3);
  evoae::reference::dense_sigmoid_forward(ref.data(), in.data(), weights.data(), bias.data(),
                                          4, 3);
  check_every_lane(out, want, 1e-6, "dense");
  check_values(ref, want, 1e-6, "reference::dense");
}

TEST(unpool_hand_worked) {
  // 2 channels of 2x3 -> 2 channels of 4x6, every value fills its 2x2 block.
  const std::vector<float> in = {1, 2, 3,
                                 4, 5, 6,
                                 -1, 0, 7,
                                 8, -9, 10};
  const std::vector<double> want = {
      1, 1, 2, 2, 3, 3,
      1, 1, 2, 2, 3, 3,
      4, 4, 5, 5, 6, 6,
      4, 4, 5, 5, 6, 6,
      -1, -1, 0, 0, 7, 7,
      -1, -1, 0, 0, 7, 7,
      8, 8, -9, -9, 10, 10,
      8, 8, -9, -9, 10, 10,
  };
  Guarded out(48);
  std::vector<float> ref = nan_buffer(48);
  evoae::unpool_forward(out.data(), nan_tail(lanes::broadcast(in)).data(), 2, 2, 3);
  evoae::reference::unpool_forward(ref.data(), in.data(), 2, 2, 3);
  check_every_lane(out, want, 0.0, "unpool");
  check_values(ref, want, 0.0, "reference::unpool");
}

TEST(conv_transpose_hand_worked_single_channel) {
  // A 2x2 input and a 2x2 kernel give 3x3: out[y+a][x+b] += in[y][x] * k[a][b].
  const std::vector<float> in = {1, 2,
                                 3, 4};
  const std::vector<float> kernel = {1, 0,
                                     0, -1};  // out[p][q] = in[p][q] - in[p-1][q-1]
  const std::vector<double> want = logistic_of({1, 2, 0,
                                                3, 3, -2,
                                                0, -3, -4});
  bool ok = false;
  const Guarded out = fast_conv_transpose(nan_tail(lanes::broadcast(in)),
                                          lanes::broadcast(kernel), 1, 2, 2, 2, 2, 1, 1, &ok);
  CHECK(ok);
  std::vector<float> ref = nan_buffer(9);
  evoae::reference::conv_transpose_forward(ref.data(), in.data(), kernel.data(), 1, 2, 2, 2,
                                           2, 1, 1);
  check_every_lane(out, want, 1e-6, "conv_transpose");
  check_values(ref, want, 1e-6, "reference::conv_transpose");
}

TEST(conv_transpose_hand_worked_reducer_2) {
  // 4 input channels of 2x2, reducer 2 -> 2 output channels of 3x3:
  // out i = sigmoid(trconv(in 2i, k0) + trconv(in 2i+1, k1)), summed before the sigmoid.
  const std::vector<float> in = {1, 2, 3, 4,   // channel 0
                                 0, 1, 1, 0,   // channel 1
                                 1, 1, 1, 1,   // channel 2
                                 0, 0, 0, 0};  // channel 3
  const std::vector<float> kernels = {1, 0, 0, -1,  // k0: in[p][q] - in[p-1][q-1]
                                      0, 1, 0, 0};  // k1: in[p][q-1] (shift right)
  const std::vector<double> want = logistic_of({
      // channel 0: (1 2 0 / 3 3 -2 / 0 -3 -4) + (0 0 1 / 0 1 0 / 0 0 0)
      1, 2, 1,
      3, 4, -2,
      0, -3, -4,
      // channel 1: ones (*) k0 + zeros
      1, 1, 0,
      1, 0, -1,
      0, -1, -1,
  });
  bool ok = false;
  const Guarded out = fast_conv_transpose(nan_tail(lanes::broadcast(in)),
                                          lanes::broadcast(kernels), 4, 2, 2, 2, 2, 2, 1, &ok);
  CHECK(ok);
  std::vector<float> ref = nan_buffer(18);
  evoae::reference::conv_transpose_forward(ref.data(), in.data(), kernels.data(), 4, 2, 2, 2,
                                           2, 2, 1);
  check_every_lane(out, want, 1e-6, "conv_transpose");
  check_values(ref, want, 1e-6, "reference::conv_transpose");
}

TEST(conv_transpose_hand_worked_stride_2) {
  // Stride 2, 2x2 kernel: each input value puts its own copy of the kernel in its own 2x2
  // block, no overlap: out[2y+a][2x+b] = in[y][x] * k[a][b].
  {
    const std::vector<float> in = {1, 2,
                                   3, 4};
    const std::vector<float> kernel = {1, 0,
                                       0, -1};
    const std::vector<double> want = logistic_of({1, 0, 2, 0,
                                                  0, -1, 0, -2,
                                                  3, 0, 4, 0,
                                                  0, -3, 0, -4});
    bool ok = false;
    const Guarded out = fast_conv_transpose(nan_tail(lanes::broadcast(in)),
                                            lanes::broadcast(kernel), 1, 2, 2, 2, 2, 1, 2, &ok);
    CHECK(ok);
    check_every_lane(out, want, 1e-6, "conv_transpose stride 2, 2x2");
    std::vector<float> ref = nan_buffer(16);
    evoae::reference::conv_transpose_forward(ref.data(), in.data(), kernel.data(), 1, 2, 2, 2,
                                             2, 1, 2);
    check_values(ref, want, 1e-6, "reference::conv_transpose stride 2, 2x2");
  }
  // Stride 2, 1x3 kernel on a 1x2 input: the copies overlap in column 2.
  // in = (1, -2), k = (0.5, 1, 2): (0.5, 1, 2) at column 0, (-1, -2, -4) at column 2.
  {
    const std::vector<float> in = {1, -2};
    const std::vector<float> kernel = {0.5f, 1, 2};
    const std::vector<double> want = logistic_of({0.5, 1, 2 - 1, -2, -4});
    bool ok = false;
    const Guarded out = fast_conv_transpose(nan_tail(lanes::broadcast(in)),
                                            lanes::broadcast(kernel), 1, 1, 2, 1, 3, 1, 2, &ok);
    CHECK(ok);
    check_every_lane(out, want, 1e-6, "conv_transpose stride 2, 1x3");
    std::vector<float> ref = nan_buffer(5);
    evoae::reference::conv_transpose_forward(ref.data(), in.data(), kernel.data(), 1, 1, 2, 1,
                                             3, 1, 2);
    check_values(ref, want, 1e-6, "reference::conv_transpose stride 2, 1x3");
  }
}

TEST(unpool_conv_transpose_hand_worked) {
  // in = (1, -1) (1x2) unpools to two rows (1, 1, -1, -1); the 2x2 kernel (0.1 0.2 / 0.3 0.4)
  // then gives 3x5. Row 0: row 0 of the kernel, row 2: row 1, row 1: both rows summed
  // (0.4, 0.6). Each row: out[q] = u[q]*k[0] + u[q-1]*k[1].
  const std::vector<float> in = {1, -1};
  const std::vector<float> kernel = {0.1f, 0.2f,
                                     0.3f, 0.4f};
  const std::vector<double> sums = {0.1, 0.3, 0.1, -0.3, -0.2,
                                    0.4, 1.0, 0.2, -1.0, -0.6,
                                    0.3, 0.7, 0.1, -0.7, -0.4};
  const std::vector<double> want = logistic_of(sums);
  bool ok = false;
  const Guarded out = fast_unpool_conv_transpose(nan_tail(lanes::broadcast(in)),
                                                 lanes::broadcast(kernel), 1, 1, 2, 2, 2, 1, &ok);
  CHECK(ok);
  check_every_lane(out, want, 1e-6, "unpool_conv_transpose");
  // The reference chain agrees.
  std::vector<float> u = nan_buffer(8), ref = nan_buffer(15);
  evoae::reference::unpool_forward(u.data(), in.data(), 1, 1, 2);
  evoae::reference::conv_transpose_forward(ref.data(), u.data(), kernel.data(), 1, 2, 4, 2, 2,
                                           1, 1);
  check_values(ref, want, 1e-6, "reference unpool + conv_transpose");
}

// ---------------------------------------------------------------- fast vs reference twin

TEST(conv_fast_vs_reference) {
  std::mt19937 gen(1);
  struct Case { int C, H, W, kh, kw, m; };
  for (const Case c : {Case{1, 28, 28, 5, 5, 1}, Case{1, 12, 12, 5, 5, 1}, Case{3, 7, 9, 2, 3, 2},
                       Case{2, 5, 5, 5, 5, 3}, Case{4, 6, 11, 1, 4, 5}, Case{1, 1, 1, 1, 1, 1},
                       Case{2, 4, 23, 3, 2, 1}}) {
    const int OH = c.H - c.kh + 1, OW = c.W - c.kw + 1;
    const std::size_t n = static_cast<std::size_t>(c.C) * c.m * OH * OW;
    const PerLane in = lanes::random_per_lane(gen, static_cast<std::size_t>(c.C) * c.H * c.W);
    const PerLane k = lanes::random_per_lane(gen, static_cast<std::size_t>(c.m) * c.kh * c.kw);
    Guarded out(n);
    evoae::conv_forward(out.data(), nan_tail(lanes::interleave(in)).data(),
                        lanes::interleave(k).data(), c.C, c.H, c.W, c.kh, c.kw, c.m);
    PerLane ref(L, nan_buffer(n));
    for (int l = 0; l < L; ++l)
      evoae::reference::conv_forward(ref[l].data(), in[l].data(), k[l].data(), c.C, c.H, c.W,
                                     c.kh, c.kw, c.m);
    const double d = max_lane_diff(out, ref, kTwinTol, "conv");
    std::printf("  conv C=%d H=%d W=%d k=%dx%d m=%d: max |fast - reference| = %.3g\n", c.C,
                c.H, c.W, c.kh, c.kw, c.m, d);
    CHECK(d < kTwinTol);
    CHECK(out.guard_intact());
  }
}

TEST(maxpool_fast_vs_reference) {
  std::mt19937 gen(2);
  struct Case { int C, H, W; };
  for (const Case c : {Case{1, 24, 24}, Case{1, 8, 8}, Case{3, 7, 5}, Case{10, 2, 3},
                       Case{2, 3, 3}, Case{5, 13, 2}}) {
    const std::size_t n = static_cast<std::size_t>(c.C) * (c.H / 2) * (c.W / 2);
    const PerLane in = lanes::random_per_lane(gen, static_cast<std::size_t>(c.C) * c.H * c.W);
    Guarded out(n);
    evoae::maxpool_forward(out.data(), nan_tail(lanes::interleave(in)).data(), c.C, c.H, c.W);
    PerLane ref(L, nan_buffer(n));
    for (int l = 0; l < L; ++l)
      evoae::reference::maxpool_forward(ref[l].data(), in[l].data(), c.C, c.H, c.W);
    const double d = max_lane_diff(out, ref, kTwinTol, "maxpool");
    std::printf("  maxpool C=%d H=%d W=%d: max |fast - reference| = %.3g\n", c.C, c.H, c.W, d);
    CHECK(d < kTwinTol);
    CHECK(out.guard_intact());
  }
}

TEST(dense_sigmoid_fast_vs_reference) {
  std::mt19937 gen(3);
  struct Case { int k, n; };
  for (const Case c : {Case{16, 5}, Case{5, 2}, Case{2, 5}, Case{5, 160}, Case{1, 1},
                       Case{784, 7}, Case{300, 33}}) {
    const PerLane in = lanes::random_per_lane(gen, c.k);
    const PerLane w = lanes::random_per_lane(gen, static_cast<std::size_t>(c.k) * c.n);
    const PerLane b = lanes::random_per_lane(gen, c.n);
    Guarded out(c.n);
    evoae::dense_sigmoid_forward(out.data(), nan_tail(lanes::interleave(in)).data(),
                                 lanes::interleave(w).data(), lanes::interleave(b).data(), c.k,
                                 c.n);
    PerLane ref(L, nan_buffer(c.n));
    for (int l = 0; l < L; ++l)
      evoae::reference::dense_sigmoid_forward(ref[l].data(), in[l].data(), w[l].data(),
                                              b[l].data(), c.k, c.n);
    const double d = max_lane_diff(out, ref, kTwinTol, "dense");
    std::printf("  dense k=%d n=%d: max |fast - reference| = %.3g\n", c.k, c.n, d);
    CHECK(d < kTwinTol);
    CHECK(out.guard_intact());
  }
}

TEST(unpool_fast_vs_reference) {
  std::mt19937 gen(4);
  struct Case { int C, H, W; };
  for (const Case c : {Case{10, 4, 4}, Case{10, 12, 12}, Case{2, 3, 5}, Case{1, 1, 1},
                       Case{3, 7, 1}}) {
    const std::size_t n = static_cast<std::size_t>(c.C) * 4 * c.H * c.W;
    const PerLane in = lanes::random_per_lane(gen, static_cast<std::size_t>(c.C) * c.H * c.W);
    Guarded out(n);
    evoae::unpool_forward(out.data(), nan_tail(lanes::interleave(in)).data(), c.C, c.H, c.W);
    PerLane ref(L, nan_buffer(n));
    for (int l = 0; l < L; ++l)
      evoae::reference::unpool_forward(ref[l].data(), in[l].data(), c.C, c.H, c.W);
    const double d = max_lane_diff(out, ref, kTwinTol, "unpool");
    std::printf("  unpool C=%d H=%d W=%d: max |fast - reference| = %.3g\n", c.C, c.H, c.W, d);
    CHECK(d < kTwinTol);
    CHECK(out.guard_intact());
  }
}

struct TransposeCase { int C, H, W, kh, kw, r; };
const std::vector<TransposeCase> kTransposeCases = {
    {10, 8, 8, 5, 5, 1},  {10, 24, 24, 5, 5, 10}, {4, 3, 5, 2, 3, 2}, {6, 7, 3, 1, 1, 3},
    {1, 1, 1, 3, 2, 1},   {6, 2, 9, 4, 2, 6},     {2, 5, 4, 4, 4, 2}, {3, 6, 2, 3, 3, 1},
    {2, 3, 7, 2, 2, 1},   {10, 4, 6, 3, 5, 2}};

TEST(conv_transpose_fast_vs_reference_stride_1_2_3) {
  std::mt19937 gen(5);
  for (int stride : {1, 2, 3})
    for (const TransposeCase& c : kTransposeCases) {
      const PerLane in = lanes::random_per_lane(gen, static_cast<std::size_t>(c.C) * c.H * c.W);
      const PerLane k = lanes::random_per_lane(gen, static_cast<std::size_t>(c.r) * c.kh * c.kw);
      bool ok = false;
      const Guarded out = fast_conv_transpose(nan_tail(lanes::interleave(in)),
                                              lanes::interleave(k), c.C, c.H, c.W, c.kh, c.kw,
                                              c.r, stride, &ok);
      PerLane ref(L, nan_buffer(out.n));
      for (int l = 0; l < L; ++l)
        evoae::reference::conv_transpose_forward(ref[l].data(), in[l].data(), k[l].data(), c.C,
                                                 c.H, c.W, c.kh, c.kw, c.r, stride);
      const double d = max_lane_diff(out, ref, kTwinTol, "conv_transpose");
      std::printf("  conv_transpose stride=%d C=%d H=%d W=%d k=%dx%d r=%d: "
                  "max |fast - reference| = %.3g\n",
                  stride, c.C, c.H, c.W, c.kh, c.kw, c.r, d);
      CHECK(d < kTwinTol);
      CHECK(ok);  // output and scratch guards intact
    }
}

TEST(unpool_conv_transpose_fast_vs_reference_chain) {
  std::mt19937 gen(8);
  for (const TransposeCase& c : std::vector<TransposeCase>{
           {10, 4, 4, 5, 5, 1}, {10, 12, 12, 5, 5, 10}, {2, 3, 5, 3, 3, 2}, {1, 4, 4, 2, 2, 1},
           {4, 2, 3, 4, 4, 2},  {10, 3, 2, 4, 4, 10},   {3, 1, 1, 1, 1, 1}, {6, 5, 2, 3, 2, 3},
           {2, 2, 7, 5, 3, 1},  {10, 6, 3, 2, 5, 10}}) {
    const PerLane in = lanes::random_per_lane(gen, static_cast<std::size_t>(c.C) * c.H * c.W);
    const PerLane k = lanes::random_per_lane(gen, static_cast<std::size_t>(c.r) * c.kh * c.kw);
    bool ok = false;
    const Guarded out = fast_unpool_conv_transpose(nan_tail(lanes::interleave(in)),
                                                   lanes::interleave(k), c.C, c.H, c.W, c.kh,
                                                   c.kw, c.r, &ok);
    PerLane ref(L, nan_buffer(out.n));
    for (int l = 0; l < L; ++l) {
      std::vector<float> up = nan_buffer(static_cast<std::size_t>(c.C) * 4 * c.H * c.W);
      evoae::reference::unpool_forward(up.data(), in[l].data(), c.C, c.H, c.W);
      evoae::reference::conv_transpose_forward(ref[l].data(), up.data(), k[l].data(), c.C,
                                               2 * c.H, 2 * c.W, c.kh, c.kw, c.r, 1);
    }
    const double d = max_lane_diff(out, ref, kTwinTol, "unpool_conv_transpose");
    std::printf("  unpool_conv_transpose C=%d H=%d W=%d k=%dx%d r=%d: "
                "max |fast - reference unpool, conv_transpose| = %.3g\n",
                c.C, c.H, c.W, c.kh, c.kw, c.r, d);
    CHECK(d < kTwinTol);
    CHECK(ok);
  }
}

TEST(ops_overwrite_stale_output) {
  // Ops write their output, they do not accumulate into it: a second call on a buffer
  // still holding the first result gives the same values.
  std::mt19937 gen(6);
  const std::vector<float> in = lanes::interleave(lanes::random_per_lane(gen, 2 * 6 * 6));
  const std::vector<float> k = lanes::interleave(lanes::random_per_lane(gen, 2 * 9));
  std::vector<float> a(2 * 2 * 4 * 4 * L), b;
  evoae::conv_forward(a.data(), in.data(), k.data(), 2, 6, 6, 3, 3, 2);
  b = a;
  evoae::conv_forward(b.data(), in.data(), k.data(), 2, 6, 6, 3, 3, 2);
  CHECK(max_abs_diff(a, b) == 0.0);
  for (int stride : {1, 2}) {
    const int side = 5 * stride + 3;
    std::vector<float> padded(evoae::conv_transpose_padded_size(2, 6, 6, 3, 3, stride));
    std::vector<float> c(static_cast<std::size_t>(side) * side * L);
    evoae::conv_transpose_forward(c.data(), in.data(), k.data(), 2, 6, 6, 3, 3, 2, stride,
                                  padded.data());
    std::vector<float> d = c;
    evoae::conv_transpose_forward(d.data(), in.data(), k.data(), 2, 6, 6, 3, 3, 2, stride,
                                  padded.data());  // padded still holds the first call's data
    CHECK(max_abs_diff(c, d) == 0.0);
  }
  std::vector<float> up(2 * 4 * 4 * L), padded(evoae::conv_transpose_padded_size(2, 6, 6, 4, 4, 2));
  std::vector<float> e(14 * 14 * L);  // 2*6 + 3 - 1
  evoae::unpool_conv_transpose_forward(e.data(), in.data(), k.data(), 2, 6, 6, 3, 3, 2,
                                       up.data(), padded.data());
  std::vector<float> f = e;
  evoae::unpool_conv_transpose_forward(f.data(), in.data(), k.data(), 2, 6, 6, 3, 3, 2,
                                       up.data(), padded.data());
  CHECK(max_abs_diff(e, f) == 0.0);
}

// ---------------------------------------------------------------- activations of conv layers

namespace {

constexpr Activation kActivations[] = {Activation::Sigmoid, Activation::ReLU, Activation::Tanh,
                                       Activation::Identity};

// act(x) in double, written out again independently of the core.
std::vector<double> activated(const std::vector<double>& sums, Activation act) {
  std::vector<double> out;
  for (double x : sums)
    out.push_back(act == Activation::Sigmoid ? logistic(x)
                  : act == Activation::ReLU  ? std::max(x, 0.0)
                  : act == Activation::Tanh  ? std::tanh(x)
                                             : x);
  return out;
}

}  // namespace

TEST(conv_activations_hand_worked) {
  // One 2x4 channel, the 1x3 kernel (0.1, -0.2, 0.05): sums of both signs.
  const std::vector<float> in = {1, 2, 3, 4,
                                 0, 1, 0, 1};
  const std::vector<float> kernel = {0.1f, -0.2f, 0.05f};
  const std::vector<double> sums = {0.1 - 0.4 + 0.15, 0.2 - 0.6 + 0.2,  // -0.15, -0.2
                                    -0.2, 0.1 + 0.05};                   // -0.2, 0.15
  for (Activation act : kActivations) {
    const std::vector<double> want = activated(sums, act);
    Guarded out(4);
    std::vector<float> ref = nan_buffer(4);
    evoae::conv_forward(out.data(), nan_tail(lanes::broadcast(in)).data(),
                        lanes::broadcast(kernel).data(), 1, 2, 4, 1, 3, 1, act);
    evoae::reference::conv_forward(ref.data(), in.data(), kernel.data(), 1, 2, 4, 1, 3, 1, act);
    check_every_lane(out, want, 1e-6, evoae::activation_name(act));
    check_values(ref, want, 1e-6, evoae::activation_name(act));
  }
}

TEST(conv_transpose_activations_hand_worked) {
  // The case of unpool_conv_transpose_hand_worked under each activation: fused, and unfused
  // (a stride-1 transposed convolution of the unpooled input u), fast and reference.
  const std::vector<float> in = {1, -1};
  const std::vector<float> u = {1, 1, -1, -1,
                                1, 1, -1, -1};
  const std::vector<float> kernel = {0.1f, 0.2f,
                                     0.3f, 0.4f};
  const std::vector<double> sums = {0.1, 0.3, 0.1, -0.3, -0.2,
                                    0.4, 1.0, 0.2, -1.0, -0.6,
                                    0.3, 0.7, 0.1, -0.7, -0.4};
  for (Activation act : kActivations) {
    const std::vector<double> want = activated(sums, act);
    const char* name = evoae::activation_name(act);
    bool ok = false;
    const Guarded fused = fast_unpool_conv_transpose(
        nan_tail(lanes::broadcast(in)), lanes::broadcast(kernel), 1, 1, 2, 2, 2, 1, &ok, act);
    CHECK(ok);
    check_every_lane(fused, want, 1e-6, name);
    const Guarded plain = fast_conv_transpose(nan_tail(lanes::broadcast(u)),
                                              lanes::broadcast(kernel), 1, 2, 4, 2, 2, 1, 1,
                                              &ok, act);
    CHECK(ok);
    check_every_lane(plain, want, 1e-6, name);
    std::vector<float> ref = nan_buffer(15);
    evoae::reference::conv_transpose_forward(ref.data(), u.data(), kernel.data(), 1, 2, 4, 2, 2,
                                             1, 1, act);
    check_values(ref, want, 1e-6, name);
  }
}

TEST(conv_activations_fast_vs_reference) {
  std::mt19937 gen(9);
  struct Case { int C, H, W, kh, kw, m; };
  for (Activation act : kActivations)
    for (const Case c :
         {Case{1, 28, 28, 5, 5, 1}, Case{3, 7, 9, 2, 3, 2}, Case{2, 4, 23, 3, 2, 1}}) {
      const int OH = c.H - c.kh + 1, OW = c.W - c.kw + 1;
      const std::size_t n = static_cast<std::size_t>(c.C) * c.m * OH * OW;
      const PerLane in = lanes::random_per_lane(gen, static_cast<std::size_t>(c.C) * c.H * c.W);
      const PerLane k = lanes::random_per_lane(gen, static_cast<std::size_t>(c.m) * c.kh * c.kw);
      Guarded out(n);
      evoae::conv_forward(out.data(), nan_tail(lanes::interleave(in)).data(),
                          lanes::interleave(k).data(), c.C, c.H, c.W, c.kh, c.kw, c.m, act);
      PerLane ref(L, nan_buffer(n));
      for (int l = 0; l < L; ++l)
        evoae::reference::conv_forward(ref[l].data(), in[l].data(), k[l].data(), c.C, c.H, c.W,
                                       c.kh, c.kw, c.m, act);
      const double d = max_lane_diff(out, ref, kTwinTol, "conv");
      std::printf("  conv %s C=%d H=%d W=%d k=%dx%d m=%d: max |fast - reference| = %.3g\n",
                  evoae::activation_name(act), c.C, c.H, c.W, c.kh, c.kw, c.m, d);
      CHECK(d < kTwinTol);
      CHECK(out.guard_intact());
    }
}

TEST(conv_transpose_activations_fast_vs_reference) {
  // Each activation on the stride-1 op and on the fused unpool + conv_transpose, against the
  // reference (the unpool first for the fused op).
  std::mt19937 gen(10);
  for (Activation act : kActivations)
    for (const TransposeCase& c : std::vector<TransposeCase>{
             {10, 4, 4, 5, 5, 1}, {10, 12, 12, 5, 5, 10}, {2, 3, 5, 3, 3, 2}, {6, 5, 2, 3, 2, 3}}) {
      const PerLane in = lanes::random_per_lane(gen, static_cast<std::size_t>(c.C) * c.H * c.W);
      const PerLane k = lanes::random_per_lane(gen, static_cast<std::size_t>(c.r) * c.kh * c.kw);
      bool ok = false;
      const Guarded plain = fast_conv_transpose(nan_tail(lanes::interleave(in)),
                                                lanes::interleave(k), c.C, c.H, c.W, c.kh, c.kw,
                                                c.r, 1, &ok, act);
      CHECK(ok);
      const Guarded fused = fast_unpool_conv_transpose(nan_tail(lanes::interleave(in)),
                                                       lanes::interleave(k), c.C, c.H, c.W, c.kh,
                                                       c.kw, c.r, &ok, act);
      CHECK(ok);
      PerLane ref(L, nan_buffer(plain.n)), ref_fused(L, nan_buffer(fused.n));
      for (int l = 0; l < L; ++l) {
        evoae::reference::conv_transpose_forward(ref[l].data(), in[l].data(), k[l].data(), c.C,
                                                 c.H, c.W, c.kh, c.kw, c.r, 1, act);
        std::vector<float> up = nan_buffer(static_cast<std::size_t>(c.C) * 4 * c.H * c.W);
        evoae::reference::unpool_forward(up.data(), in[l].data(), c.C, c.H, c.W);
        evoae::reference::conv_transpose_forward(ref_fused[l].data(), up.data(), k[l].data(),
                                                 c.C, 2 * c.H, 2 * c.W, c.kh, c.kw, c.r, 1,
                                                 act);
      }
      // ReLU and identity outputs are not squashed: sums of 100 products (up to about 20)
      // keep float's relative error, 1e-6, not an absolute 1e-5.
      const bool bounded = act == Activation::Sigmoid || act == Activation::Tanh;
      const double tol = bounded ? kTwinTol : 1e-4;
      const double d = max_lane_diff(plain, ref, tol, "conv_transpose");
      const double e = max_lane_diff(fused, ref_fused, tol, "unpool_conv_transpose");
      std::printf("  conv_transpose %s C=%d H=%d W=%d k=%dx%d r=%d: max |fast - reference| = "
                  "%.3g, fused with unpool %.3g\n",
                  evoae::activation_name(act), c.C, c.H, c.W, c.kh, c.kw, c.r, d, e);
      CHECK(d < tol);
      CHECK(e < tol);
    }
}
