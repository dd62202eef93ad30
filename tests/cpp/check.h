// The one header every C++ test includes: a tiny harness, then the helpers the tests share.
// Harness: TEST(name) registers a test; CHECK* record failures with file:line and let the test
// go on. check_main.cpp runs every test and ends with "N passed, N failed" (tests, not
// checks), exiting non-zero if any failed.
// Helpers: random buffers, max differences, the lane layout of the fast core (lanes::), and
// a small network with its evolution settings for the evolution tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "evoae/evo/evolution.h"
#include "evoae/nn/network.h"
#include "evoae/core/simd.h"

namespace check {

struct Test {
  const char* name;
  void (*fn)();
};

inline std::vector<Test>& registry() {
  static std::vector<Test> tests;
  return tests;
}
inline int& failures() {  // failed checks in the running test
  static int n = 0;
  return n;
}
inline void fail(const char* file, int line, const char* what) {
  std::printf("  %s:%d: FAILED: %s\n", file, line, what);
  ++failures();
}
struct Register {
  Register(const char* name, void (*fn)()) { registry().push_back({name, fn}); }
};

}  // namespace check

#define TEST(name)                                                \
  static void test_##name();                                      \
  static check::Register register_##name(#name, &test_##name);    \
  static void test_##name()

#define CHECK(cond) \
  do { if (!(cond)) check::fail(__FILE__, __LINE__, #cond); } while (0)

#define CHECK_NEAR(a, b, tol)                                                        \
  do {                                                                               \
    const double check_a_ = (a), check_b_ = (b);                                     \
    if (!(std::fabs(check_a_ - check_b_) <= (tol))) {                                \
      std::printf("  %s = %.9g, %s = %.9g\n", #a, check_a_, #b, check_b_);           \
      check::fail(__FILE__, __LINE__, "CHECK_NEAR(" #a ", " #b ", " #tol ")");       \
    }                                                                                \
  } while (0)

// CHECK_THROWS_AS(expr, type): expr must throw exactly that type (or a subclass).
#define CHECK_THROWS_AS(expr, type)                                                  \
  do {                                                                               \
    bool check_ok_ = false;                                                          \
    try { (void)(expr); } catch (const type&) { check_ok_ = true; } catch (...) {}   \
    if (!check_ok_) check::fail(__FILE__, __LINE__, #expr " throws " #type);         \
  } while (0)
#define CHECK_THROWS(expr) CHECK_THROWS_AS(expr, std::exception)

// -- numbers ----------------------------------------------------------------------------------

// n values uniform in [lo, hi), drawn from gen.
inline std::vector<float> random_buffer(std::mt19937& gen, std::size_t n, float lo = -1,
                                        float hi = 1) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(gen);
  return v;
}

// S images of N pixels, scaled like the data: values in [0.1, 0.9].
inline std::vector<float> random_images_of(std::size_t S, std::size_t N, unsigned seed) {
  std::mt19937 gen(seed);
  return random_buffer(gen, S * N, 0.1f, 0.9f);
}

// Max |a - b|, infinity if the sizes differ or any value is NaN.
inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double m = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
    if (std::isnan(d)) return std::numeric_limits<double>::infinity();
    m = std::max(m, d);
  }
  return m;
}

// max |got - want| / max |want| (the difference itself where want is all zero); infinity for
// NaN or different sizes.
template <class A, class B>
double max_relative(const std::vector<A>& got, const std::vector<B>& want) {
  if (got.size() != want.size()) return std::numeric_limits<double>::infinity();
  double diff = 0.0, size = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double d = std::fabs(static_cast<double>(got[i]) - static_cast<double>(want[i]));
    if (std::isnan(d)) return std::numeric_limits<double>::infinity();
    diff = std::max(diff, d);
    size = std::max(size, std::fabs(static_cast<double>(want[i])));
  }
  return size > 0.0 ? diff / size : diff;
}

// d f / d x_i by central differences (f reads x), step h = 1e-6 (in double: truncation and
// rounding about 1e-9).
inline std::vector<double> central_differences(std::vector<double>& x,
                                               const std::function<double()>& f) {
  constexpr double h = 1e-6;
  std::vector<double> g(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double keep = x[i];
    x[i] = keep + h;
    const double up = f();
    x[i] = keep - h;
    const double down = f();
    x[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

// 1/(1+e^-x) written out again, independent of the core's sigmoids.
inline double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Checks got == want element by element within tol, printing each value that is off; sizes
// must agree.
inline void check_values(const std::vector<float>& got, const std::vector<double>& want,
                         double tol, const char* what) {
  CHECK(got.size() == want.size());
  for (std::size_t i = 0; i < got.size() && i < want.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= tol)) {
      std::printf("  %s[%zu] = %.9g, expected %.9g\n", what, i, got[i], want[i]);
      check::fail(__FILE__, __LINE__, what);
    }
}

// -- lane buffers -----------------------------------------------------------------------------
// The lane layout of the fast core (evoae/simd.h): a lane buffer holds kLanes one-genome
// buffers of n floats side by side, element i of lane l at i*kLanes + l. interleave /
// broadcast build one, lane() reads one lane back.

using PerLane = std::vector<std::vector<float>>;  // kLanes buffers, one per lane

namespace lanes {

constexpr int L = evoae::kLanes;

// per_lane: kLanes buffers of n floats each -> (n, kLanes).
inline std::vector<float> interleave(const PerLane& per_lane) {
  if (per_lane.size() != static_cast<std::size_t>(L))
    throw std::invalid_argument("interleave needs one buffer per lane");
  const std::size_t n = per_lane[0].size();
  std::vector<float> v(n * L);
  for (int l = 0; l < L; ++l) {
    if (per_lane[l].size() != n) throw std::invalid_argument("lane buffers differ in size");
    for (std::size_t i = 0; i < n; ++i) v[i * L + l] = per_lane[l][i];
  }
  return v;
}

// The same n floats in every lane -> (n, kLanes).
inline std::vector<float> broadcast(const std::vector<float>& one) {
  return interleave(PerLane(L, one));
}

// Lane l of a (n, kLanes) buffer -> n floats.
inline std::vector<float> lane(const float* buffer, std::size_t n, int l) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = buffer[i * L + l];
  return v;
}

// kLanes independent buffers of n values uniform in [lo, hi): different data in every lane.
inline PerLane random_per_lane(std::mt19937& gen, std::size_t n, float lo = -1, float hi = 1) {
  PerLane v;
  for (int l = 0; l < L; ++l) v.push_back(random_buffer(gen, n, lo, hi));
  return v;
}

}  // namespace lanes

// -- evolution --------------------------------------------------------------------------------

// 6x6x1 -> 4x4x2 -> 2x2x2 -> 3 -> 8 -> 2x2x2 -> 4x4x2 -> 6x6x1; 18 + 27 + 32 + 18 = 95 params.
inline evoae::Network small_network() {
  evoae::Network net(6, 6);
  net.conv(3, 3, 2).maxpool().dense(3).dense(8).reshape(2, 2, 2).unpool().conv_transpose(3, 3, 2);
  return net;
}

// S images of 6x6 for small_network().
inline std::vector<float> random_images(std::size_t S, unsigned seed = 21) {
  return random_images_of(S, 36, seed);
}

// The original loop's settings; the operators keep their defaults.
inline evoae::EvolutionSettings settings(int population, int mutations, std::uint64_t seed = 1,
                                         int threads = 1) {
  evoae::EvolutionSettings s;
  s.population = population;
  s.mutations = mutations;
  s.seed = seed;
  s.threads = threads;
  return s;
}

// A copy of agent a's genome.
inline std::vector<float> genome_of(const evoae::Evolution& e, std::size_t a) {
  return std::vector<float>(e.genome(a), e.genome(a) + e.network().num_params());
}
