// Island seeds; see islands.h.
#include "evoae/evo/islands.h"

#include "evoae/core/rng.h"

namespace evoae {

std::uint64_t island_seed(std::uint64_t seed, std::size_t island) {
  Rng rng(seed, RngPurpose::Island, 0, island);
  return rng.next() >> 1;  // a seed crosses to Python and back as a signed 64-bit integer
}

}  // namespace evoae
