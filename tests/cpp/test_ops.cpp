// Each op of ops.h on a hand-worked case (expected numbers written here, checkable on
// paper), then fast op vs its reference twin on random inputs of several sizes.
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "evoae/ops.h"
#include "evoae/reference_ops.h"

namespace {

// 1/(1+e^-x) written out again, independent of evoae::sigmoid.
double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Checks got == want element by element; sizes must agree.
void check_values(const std::vector<float>& got, const std::vector<double>& want, double tol,
                  const char* what) {
  CHECK(got.size() == want.size());
  if (got.size() != want.size()) return;
  for (std::size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= tol)) {
      std::printf("  %s[%zu] = %.9g, expected %.9g\n", what, i, got[i], want[i]);
      check::fail(__FILE__, __LINE__, what);
    }
}

std::vector<float> random_buffer(std::mt19937& gen, std::size_t n) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(gen);
  return v;
}

// Output buffers start as NaN so an element an op forgets to write shows up as a difference.
std::vector<float> nan_buffer(std::size_t n) {
  return std::vector<float>(n, std::numeric_limits<float>::quiet_NaN());
}

// Max |a - b|, infinity if the sizes differ or any value is NaN.
double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double m = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
    if (std::isnan(d)) return std::numeric_limits<double>::infinity();
    m = std::max(m, d);
  }
  return m;
}

constexpr double kTwinTol = 1e-5;

}  // namespace

// ---------------------------------------------------------------- hand-worked cases

TEST(sigmoid_values) {
  CHECK_NEAR(evoae::sigmoid(0.0f), 0.5, 1e-7);
  CHECK_NEAR(evoae::sigmoid(std::log(3.0f)), 0.75, 1e-6);   // 1/(1+1/3)
  CHECK_NEAR(evoae::sigmoid(-std::log(3.0f)), 0.25, 1e-6);  // 1/(1+3)
}

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
  std::vector<float> out = nan_buffer(16), ref = nan_buffer(16);
  evoae::conv_forward(out.data(), in.data(), kernels.data(), 2, 3, 3, 2, 2, 2);
  evoae::reference::conv_forward(ref.data(), in.data(), kernels.data(), 2, 3, 3, 2, 2, 2);
  check_values(out, want, 1e-6, "conv");
  check_values(ref, want, 1e-6, "reference::conv");
}

TEST(conv_hand_worked_non_square) {
  // One 2x4 channel, a 1x3 kernel: out (1, 2, 2), row-major kernel read left to right.
  const std::vector<float> in = {1, 2, 3, 4,
                                 0, 1, 0, 1};
  const std::vector<float> kernel = {1, 10, 100};
  const std::vector<double> want = {321, 432,
                                    10, 101};
  std::vector<float> out = nan_buffer(4), ref = nan_buffer(4);
  evoae::conv_forward(out.data(), in.data(), kernel.data(), 1, 2, 4, 1, 3, 1);
  evoae::reference::conv_forward(ref.data(), in.data(), kernel.data(), 1, 2, 4, 1, 3, 1);
  check_values(out, want, 1e-4, "conv");
  check_values(ref, want, 1e-4, "reference::conv");
}

TEST(maxpool_hand_worked_4x4) {
  const std::vector<float> in = {1, 2, 3, 4,
                                 5, 6, 7, 0,
                                 -1, -2, 9, -3,
                                 -4, -5, 2, 1};
  const std::vector<double> want = {6, 7,
                                    -1, 9};
  std::vector<float> out = nan_buffer(4), ref = nan_buffer(4);
  evoae::maxpool_forward(out.data(), in.data(), 1, 4, 4);
  evoae::reference::maxpool_forward(ref.data(), in.data(), 1, 4, 4);
  check_values(out, want, 0.0, "maxpool");
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
  std::vector<float> out = nan_buffer(4), ref = nan_buffer(4);
  evoae::maxpool_forward(out.data(), in.data(), 2, 3, 5);
  evoae::reference::maxpool_forward(ref.data(), in.data(), 2, 3, 5);
  check_values(out, want, 0.0, "maxpool");
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
  std::vector<float> out = nan_buffer(3), ref = nan_buffer(3);
  evoae::dense_sigmoid_forward(out.data(), in.data(), weights.data(), bias.data(), 4, 3);
  evoae::reference::dense_sigmoid_forward(ref.data(), in.data(), weights.data(), bias.data(),
                                          4, 3);
  check_values(out, want, 1e-6, "dense");
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
  std::vector<float> out = nan_buffer(48), ref = nan_buffer(48);
  evoae::unpool_forward(out.data(), in.data(), 2, 2, 3);
  evoae::reference::unpool_forward(ref.data(), in.data(), 2, 2, 3);
  check_values(out, want, 0.0, "unpool");
  check_values(ref, want, 0.0, "reference::unpool");
}

TEST(conv_transpose_hand_worked_single_channel) {
  // A 2x2 input and a 2x2 kernel give 3x3: out[y+a][x+b] += in[y][x] * k[a][b].
  const std::vector<float> in = {1, 2,
                                 3, 4};
  const std::vector<float> kernel = {1, 0,
                                     0, -1};  // out[p][q] = in[p][q] - in[p-1][q-1]
  const std::vector<double> sums = {1, 2, 0,
                                    3, 3, -2,
                                    0, -3, -4};
  std::vector<double> want;
  for (double s : sums) want.push_back(logistic(s));
  std::vector<float> out = nan_buffer(9), ref = nan_buffer(9);
  evoae::conv_transpose_forward(out.data(), in.data(), kernel.data(), 1, 2, 2, 2, 2, 1);
  evoae::reference::conv_transpose_forward(ref.data(), in.data(), kernel.data(), 1, 2, 2, 2,
                                           2, 1);
  check_values(out, want, 1e-6, "conv_transpose");
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
  const std::vector<double> sums = {
      // channel 0: (1 2 0 / 3 3 -2 / 0 -3 -4) + (0 0 1 / 0 1 0 / 0 0 0)
      1, 2, 1,
      3, 4, -2,
      0, -3, -4,
      // channel 1: ones (*) k0 + zeros
      1, 1, 0,
      1, 0, -1,
      0, -1, -1,
  };
  std::vector<double> want;
  for (double s : sums) want.push_back(logistic(s));
  std::vector<float> out = nan_buffer(18), ref = nan_buffer(18);
  evoae::conv_transpose_forward(out.data(), in.data(), kernels.data(), 4, 2, 2, 2, 2, 2);
  evoae::reference::conv_transpose_forward(ref.data(), in.data(), kernels.data(), 4, 2, 2, 2,
                                           2, 2);
  check_values(out, want, 1e-6, "conv_transpose");
  check_values(ref, want, 1e-6, "reference::conv_transpose");
}

// ---------------------------------------------------------------- fast vs reference twin

TEST(conv_fast_vs_reference) {
  std::mt19937 gen(1);
  struct Case { int C, H, W, kh, kw, m; };
  for (const Case c : {Case{1, 28, 28, 5, 5, 1}, Case{1, 12, 12, 5, 5, 1}, Case{3, 7, 9, 2, 3, 2},
                       Case{2, 5, 5, 5, 5, 3}, Case{4, 6, 11, 1, 4, 5}, Case{1, 1, 1, 1, 1, 1}}) {
    const int OH = c.H - c.kh + 1, OW = c.W - c.kw + 1;
    const std::size_t n = static_cast<std::size_t>(c.C) * c.m * OH * OW;
    const std::vector<float> in = random_buffer(gen, static_cast<std::size_t>(c.C) * c.H * c.W);
    const std::vector<float> k = random_buffer(gen, static_cast<std::size_t>(c.m) * c.kh * c.kw);
    std::vector<float> out = nan_buffer(n), ref = nan_buffer(n);
    evoae::conv_forward(out.data(), in.data(), k.data(), c.C, c.H, c.W, c.kh, c.kw, c.m);
    evoae::reference::conv_forward(ref.data(), in.data(), k.data(), c.C, c.H, c.W, c.kh, c.kw,
                                   c.m);
    const double d = max_abs_diff(out, ref);
    std::printf("  conv C=%d H=%d W=%d k=%dx%d m=%d: max |fast - reference| = %.3g\n", c.C,
                c.H, c.W, c.kh, c.kw, c.m, d);
    CHECK(d < kTwinTol);
  }
}

TEST(maxpool_fast_vs_reference) {
  std::mt19937 gen(2);
  struct Case { int C, H, W; };
  for (const Case c : {Case{1, 24, 24}, Case{1, 8, 8}, Case{3, 7, 5}, Case{10, 2, 3},
                       Case{2, 3, 3}, Case{5, 13, 2}}) {
    const std::size_t n = static_cast<std::size_t>(c.C) * (c.H / 2) * (c.W / 2);
    const std::vector<float> in = random_buffer(gen, static_cast<std::size_t>(c.C) * c.H * c.W);
    std::vector<float> out = nan_buffer(n), ref = nan_buffer(n);
    evoae::maxpool_forward(out.data(), in.data(), c.C, c.H, c.W);
    evoae::reference::maxpool_forward(ref.data(), in.data(), c.C, c.H, c.W);
    const double d = max_abs_diff(out, ref);
    std::printf("  maxpool C=%d H=%d W=%d: max |fast - reference| = %.3g\n", c.C, c.H, c.W, d);
    CHECK(d < kTwinTol);
  }
}

TEST(dense_sigmoid_fast_vs_reference) {
  std::mt19937 gen(3);
  struct Case { int k, n; };
  for (const Case c : {Case{16, 5}, Case{5, 2}, Case{2, 5}, Case{5, 160}, Case{1, 1},
                       Case{784, 7}, Case{300, 33}}) {
    const std::vector<float> in = random_buffer(gen, c.k);
    const std::vector<float> w = random_buffer(gen, static_cast<std::size_t>(c.k) * c.n);
    const std::vector<float> b = random_buffer(gen, c.n);
    std::vector<float> out = nan_buffer(c.n), ref = nan_buffer(c.n);
    evoae::dense_sigmoid_forward(out.data(), in.data(), w.data(), b.data(), c.k, c.n);
    evoae::reference::dense_sigmoid_forward(ref.data(), in.data(), w.data(), b.data(), c.k, c.n);
    const double d = max_abs_diff(out, ref);
    std::printf("  dense k=%d n=%d: max |fast - reference| = %.3g\n", c.k, c.n, d);
    CHECK(d < kTwinTol);
  }
}

TEST(unpool_fast_vs_reference) {
  std::mt19937 gen(4);
  struct Case { int C, H, W; };
  for (const Case c : {Case{10, 4, 4}, Case{10, 12, 12}, Case{2, 3, 5}, Case{1, 1, 1},
                       Case{3, 7, 1}}) {
    const std::size_t n = static_cast<std::size_t>(c.C) * 4 * c.H * c.W;
    const std::vector<float> in = random_buffer(gen, static_cast<std::size_t>(c.C) * c.H * c.W);
    std::vector<float> out = nan_buffer(n), ref = nan_buffer(n);
    evoae::unpool_forward(out.data(), in.data(), c.C, c.H, c.W);
    evoae::reference::unpool_forward(ref.data(), in.data(), c.C, c.H, c.W);
    const double d = max_abs_diff(out, ref);
    std::printf("  unpool C=%d H=%d W=%d: max |fast - reference| = %.3g\n", c.C, c.H, c.W, d);
    CHECK(d < kTwinTol);
  }
}

TEST(conv_transpose_fast_vs_reference) {
  std::mt19937 gen(5);
  struct Case { int C, H, W, kh, kw, r; };
  for (const Case c : {Case{10, 8, 8, 5, 5, 1}, Case{10, 24, 24, 5, 5, 10},
                       Case{4, 3, 5, 2, 3, 2}, Case{6, 7, 3, 1, 1, 3}, Case{1, 1, 1, 3, 2, 1},
                       Case{6, 2, 9, 4, 2, 6}}) {
    const int OH = c.H + c.kh - 1, OW = c.W + c.kw - 1;
    const std::size_t n = static_cast<std::size_t>(c.C / c.r) * OH * OW;
    const std::vector<float> in = random_buffer(gen, static_cast<std::size_t>(c.C) * c.H * c.W);
    const std::vector<float> k = random_buffer(gen, static_cast<std::size_t>(c.r) * c.kh * c.kw);
    std::vector<float> out = nan_buffer(n), ref = nan_buffer(n);
    evoae::conv_transpose_forward(out.data(), in.data(), k.data(), c.C, c.H, c.W, c.kh, c.kw,
                                  c.r);
    evoae::reference::conv_transpose_forward(ref.data(), in.data(), k.data(), c.C, c.H, c.W,
                                             c.kh, c.kw, c.r);
    const double d = max_abs_diff(out, ref);
    std::printf("  conv_transpose C=%d H=%d W=%d k=%dx%d r=%d: max |fast - reference| = %.3g\n",
                c.C, c.H, c.W, c.kh, c.kw, c.r, d);
    CHECK(d < kTwinTol);
  }
}

TEST(ops_overwrite_stale_output) {
  // Ops write their output, they do not accumulate into it: a second call on a buffer
  // still holding the first result gives the same values.
  std::mt19937 gen(6);
  const std::vector<float> in = random_buffer(gen, 2 * 6 * 6), k = random_buffer(gen, 2 * 9);
  std::vector<float> a(2 * 2 * 4 * 4), b;
  evoae::conv_forward(a.data(), in.data(), k.data(), 2, 6, 6, 3, 3, 2);
  b = a;
  evoae::conv_forward(b.data(), in.data(), k.data(), 2, 6, 6, 3, 3, 2);
  CHECK(max_abs_diff(a, b) == 0.0);
  std::vector<float> c(1 * 8 * 8);
  evoae::conv_transpose_forward(c.data(), in.data(), k.data(), 2, 6, 6, 3, 3, 2);
  std::vector<float> d = c;
  evoae::conv_transpose_forward(d.data(), in.data(), k.data(), 2, 6, 6, 3, 3, 2);
  CHECK(max_abs_diff(c, d) == 0.0);
}
