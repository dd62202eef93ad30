// Population evaluation: genomes packed into blocks of kLanes, then one OpenMP loop over
// (block, image) items with no locks and no allocation; each thread uses its own Workspace.
#include "evoae/population.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "evoae/simd.h"

namespace evoae {

PopulationEvaluator::PopulationEvaluator(const Network& net, int threads)
    : net_(net), threads_(threads > 0 ? threads : omp_get_max_threads()) {
  workspaces_.reserve(threads_);
  for (int t = 0; t < threads_; ++t) workspaces_.emplace_back(net);
}

std::size_t PopulationEvaluator::pack(const float* genomes, std::size_t P) {
  const std::size_t G = net_.num_params(), blocks = (P + kLanes - 1) / kLanes;
  packed_.assign(blocks * G * kLanes, 0.0f);
  for (std::size_t g = 0; g < P; ++g) {
    float* block = &packed_[g / kLanes * G * kLanes] + g % kLanes;
    for (std::size_t i = 0; i < G; ++i) block[i * kLanes] = genomes[g * G + i];
  }
  return blocks;
}

void PopulationEvaluator::forward(const float* genomes, std::size_t P, const float* images,
                                  std::size_t S, float* out) {
  const std::size_t G = net_.num_params(), in_size = net_.input_shape().size(),
                    out_size = net_.output_shape().size();
  const long items = static_cast<long>(pack(genomes, P) * S);
#pragma omp parallel for schedule(static) num_threads(threads_)
  for (long item = 0; item < items; ++item) {
    const std::size_t block = item / S, s = item % S;
    const float* y = net_.forward(&packed_[block * G * kLanes], images + s * in_size,
                                  workspaces_[omp_get_thread_num()]);
    for (std::size_t lane = 0; lane < kLanes && block * kLanes + lane < P; ++lane) {
      float* o = out + ((block * kLanes + lane) * S + s) * out_size;
      for (std::size_t p = 0; p < out_size; ++p) o[p] = y[p * kLanes + lane];
    }
  }
}

void PopulationEvaluator::errors(const float* genomes, std::size_t P, const float* inputs,
                                 const float* targets, std::size_t S, double* errors) {
  const std::size_t G = net_.num_params(), in_size = net_.input_shape().size(),
                    out_size = net_.output_shape().size();
  // Float partial sums over chunks of pixels keep the vector loop cheap; chunks are added in
  // double, so the rounding stays at chunk level (values are at most 1).
  constexpr std::size_t kChunk = 32;
  if (item_errors_.size() < P * S) item_errors_.resize(P * S);
  const long items = static_cast<long>(pack(genomes, P) * S);
#pragma omp parallel for schedule(static) num_threads(threads_)
  for (long item = 0; item < items; ++item) {
    const std::size_t block = item / S, s = item % S;
    const float* y = net_.forward(&packed_[block * G * kLanes], inputs + s * in_size,
                                  workspaces_[omp_get_thread_num()]);
    const float* t = targets + s * out_size;
    double sum[kLanes] = {};
    for (std::size_t p0 = 0; p0 < out_size; p0 += kChunk) {
      v8f chunk{};
      for (std::size_t p = p0; p < std::min(out_size, p0 + kChunk); ++p) {
        const v8f d = load(y + p * kLanes) - t[p];
        chunk += vmax(d, -d);
      }
      for (int lane = 0; lane < kLanes; ++lane) sum[lane] += chunk[lane];
    }
    for (std::size_t lane = 0; lane < kLanes && block * kLanes + lane < P; ++lane)
      item_errors_[(block * kLanes + lane) * S + s] = sum[lane];
  }
  for (std::size_t g = 0; g < P; ++g) {  // image order: the same sum for any thread count
    double sum = 0.0;
    for (std::size_t s = 0; s < S; ++s) sum += item_errors_[g * S + s];
    errors[g] = sum;
  }
}

}  // namespace evoae
