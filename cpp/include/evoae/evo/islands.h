// The island model's one part in the core: each island's seed. An island run (evoae.islands)
// evolves K populations, each an Evolution of its own seed, and migrates genomes between them
// at fixed generations; island i's seed comes from the keyed stream (seed, Island, 0, i), so
// the islands' runs differ and any island can be made again from the run's seed alone, on
// any worker.
#pragma once

#include <cstddef>
#include <cstdint>

namespace evoae {

// The seed of island `island` of a run seeded `seed`: in [0, 2^63 - 1], the settings' range.
std::uint64_t island_seed(std::uint64_t seed, std::size_t island);

}  // namespace evoae
