// Evaluation of many genomes on many images, parallel with OpenMP over (genome block, image)
// work items; a block is kLanes genomes run side by side in SIMD lanes. Each item is computed
// by one thread in a fixed order, and per-genome sums are taken in image order afterwards, so
// results do not depend on the thread count.
#pragma once

#include <cstddef>
#include <vector>

#include "evoae/network.h"

namespace evoae {

class PopulationEvaluator {
 public:
  // threads <= 0: OpenMP's default (OMP_NUM_THREADS or the number of cores).
  PopulationEvaluator(const Network& net, int threads = 0);

  // genomes: (P, num_params); images: (S, input size); out: (P, S, output size)
  void forward(const float* genomes, std::size_t P, const float* images, std::size_t S,
               float* out);

  // Sum over images and pixels of |output - target|, per genome.
  // genomes: (P, num_params); inputs: (S, input size); targets: (S, output size); errors: (P)
  void errors(const float* genomes, std::size_t P, const float* inputs, const float* targets,
              std::size_t S, double* errors);

  int threads() const { return threads_; }

 private:
  const Network& net_;
  int threads_;
  // Interleaves genomes into blocks of kLanes: (blocks, num_params, kLanes); missing lanes 0.
  std::size_t pack(const float* genomes, std::size_t P);

  std::vector<Workspace> workspaces_;  // one per thread, reused across calls
  std::vector<float> packed_;          // reused across calls
  std::vector<double> item_errors_;    // (P, S), reused across calls
};

}  // namespace evoae
