// Bindings of the island model's core part (evo/islands.h); evoae.islands is the rest.
#include "bindings.h"
#include "evoae/evo/islands.h"

namespace evoae::bindings {

void bind_islands(py::module_& m) {
  m.def("island_seed", &island_seed, py::arg("seed"), py::arg("island"),
        "The seed of island `island` of a run seeded `seed`: the first draw of the keyed "
        "stream (seed, Island, 0, island), in [0, 2^63 - 1].");
}

}  // namespace evoae::bindings
