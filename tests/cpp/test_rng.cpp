// The counter-based Rng: a key gives one fixed stream, each key part changes it, and the
// draws stay in their documented ranges.
#include <cmath>
#include <set>
#include <vector>

#include "check.h"
#include "evoae/core/rng.h"

using evoae::Rng;
using evoae::RngPurpose;

namespace {

std::vector<std::uint64_t> draws(Rng rng, int n) {
  std::vector<std::uint64_t> v(n);
  for (auto& x : v) x = rng.next();
  return v;
}

}  // namespace

TEST(same_key_same_stream) {
  CHECK(draws(Rng(5, RngPurpose::Init, 3, 7), 1000) == draws(Rng(5, RngPurpose::Init, 3, 7), 1000));
  Rng a(9, RngPurpose::MutationValues, 12, 4), b(9, RngPurpose::MutationValues, 12, 4);
  for (int i = 0; i < 1000; ++i) {
    CHECK(a.uniform_pm1() == b.uniform_pm1());
    CHECK(a.index(1397) == b.index(1397));
  }
}

TEST(each_key_part_changes_the_stream) {
  const std::vector<std::uint64_t> base = draws(Rng(5, RngPurpose::Init, 3, 7), 16);
  CHECK(draws(Rng(6, RngPurpose::Init, 3, 7), 16) != base);
  CHECK(draws(Rng(5, RngPurpose::MutationIndices, 3, 7), 16) != base);
  CHECK(draws(Rng(5, RngPurpose::Init, 4, 7), 16) != base);
  CHECK(draws(Rng(5, RngPurpose::Init, 3, 8), 16) != base);
  // Swapping generation and agent gives another stream too.
  CHECK(draws(Rng(5, RngPurpose::Init, 7, 3), 16) != base);
  // First draws of many neighbouring keys are all distinct.
  std::set<std::uint64_t> first;
  for (std::uint64_t g = 0; g < 30; ++g)
    for (std::uint64_t a = 0; a < 30; ++a)
      first.insert(Rng(0, RngPurpose::MutationValues, g, a).next());
  CHECK(first.size() == 900u);
}

TEST(uniform_pm1_in_range) {
  Rng rng(1, RngPurpose::MutationValues, 1, 1);
  const int n = 200000;
  double lo = 2, hi = -2, sum = 0;
  for (int i = 0; i < n; ++i) {
    const float v = rng.uniform_pm1();
    CHECK(v >= -1.0f && v < 1.0f);
    lo = std::min<double>(lo, v);
    hi = std::max<double>(hi, v);
    sum += v;
  }
  std::printf("  %d draws: min %.6f max %.6f mean %.5f\n", n, lo, hi, sum / n);
  CHECK(lo < -0.999);
  CHECK(hi > 0.999);
  CHECK(std::fabs(sum / n) < 0.01);  // sd of the mean is 0.0013
}

TEST(index_below_bound) {
  Rng rng(2, RngPurpose::MutationIndices, 1, 0);
  for (std::size_t bound : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7},
                            std::size_t{95}, std::size_t{1397}, std::size_t{1} << 20}) {
    std::set<std::size_t> seen;
    for (int i = 0; i < 20000; ++i) {
      const std::size_t k = rng.index(bound);
      CHECK(k < bound);
      seen.insert(k);
    }
    if (bound <= 95) CHECK(seen.size() == bound);  // every index is reachable
  }
}
