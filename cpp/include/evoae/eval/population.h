// Evaluation of many genomes on many images, in parallel on a WorkPool (core/work_pool.h). Work items are kLanes (genome,
// image) pairs run side by side in SIMD lanes (8 or 16, simd.h): first blocks of kLanes genomes on
// one image each, then the pairs of the last P % kLanes genomes packed kLanes to an item, so only
// the very last item can have empty lanes (population 19 on 10 images: 192 lanes for 190 pairs at
// either width, not 240 or 320). Each item is computed by one thread in a fixed order, and
// per-genome sums are taken in image order afterwards, so results do not depend on the thread
// count.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "evoae/core/work_pool.h"
#include "evoae/nn/network.h"

namespace evoae {

// What errors() sums over images and pixels: |output - target| (the original's fitness) or
// (output - target)^2 (for mean squared error fitness, see operators.h).
enum class ErrorSum { Absolute, Squared };

class PopulationEvaluator {
 public:
  // threads <= 0: OpenMP's default (OMP_NUM_THREADS or the number of cores).
  PopulationEvaluator(const Network& net, int threads = 0);

  // genomes: (P, num_params); images: (S, input size); out: (P, S, output size)
  void forward(const float* genomes, std::size_t P, const float* images, std::size_t S,
               float* out);

  // Sum over images and pixels of |output - target| (or its square), per genome.
  // genomes: (P, num_params); inputs: (S, input size); targets: (S, output size); errors: (P)
  void errors(const float* genomes, std::size_t P, const float* inputs, const float* targets,
              std::size_t S, double* errors, ErrorSum sum = ErrorSum::Absolute);

  // Per genome, the sum over images (in image order) of value(output, lane, image): output is
  // an item's (output size, kLanes) result and lane the genome's lane in it. For objectives
  // other than the error sums (classification); value runs inside the parallel loop.
  using ItemValue = std::function<double(const float* output, int lane, std::size_t image)>;
  void sums(const float* genomes, std::size_t P, const float* inputs, std::size_t S,
            const ItemValue& value, double* out);

  int threads() const { return pool_.threads(); }

 private:
  // Runs every item and calls consume(output, pairs): output is the item's (output size,
  // kLanes) result, pairs[lane] = genome * S + image, or P * S for an empty lane.
  template <class Consume>
  void run(const float* genomes, std::size_t P, const float* images, std::size_t S,
           Consume&& consume);
  // out[g] = the sum of item_errors_[g * S + s] over s in image order.
  void sum_per_genome(std::size_t P, std::size_t S, double* out) const;

  // A packed copy's state in the current call (see run()).
  enum PackState { kUnpacked, kPacking, kPacked };

  const Network& net_;
  WorkPool pool_;
  std::vector<Workspace> workspaces_;  // one per worker, reused across calls
  std::vector<float> packed_;          // (distinct genome slots, num_params, kLanes), reused
  std::vector<std::size_t> slot_storage_;  // slot -> its packed copy
  std::vector<long> slots_to_pack_;        // the first slot of each packed copy
  std::unique_ptr<std::atomic<int>[]> pack_states_;  // per packed copy: PackState
  std::size_t pack_states_size_ = 0;
  std::vector<double> item_errors_;    // (P, S), reused across calls
};

}  // namespace evoae
