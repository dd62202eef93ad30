// Counter-based random numbers: every stream is keyed by (seed, purpose, generation, agent),
// so what an agent draws never depends on which thread runs it or in which order.
#pragma once

#include <cstddef>
#include <cstdint>

namespace evoae {

enum class RngPurpose : std::uint64_t { Init = 1, MutationIndices = 2, MutationValues = 3 };

class Rng {
 public:
  Rng(std::uint64_t seed, RngPurpose purpose, std::uint64_t generation, std::uint64_t agent);

  std::uint64_t next();                  // SplitMix64
  float uniform_pm1();                   // uniform in [-1, 1), 24-bit resolution
  std::size_t index(std::size_t bound);  // uniform in [0, bound)

 private:
  std::uint64_t state_;
};

}  // namespace evoae
