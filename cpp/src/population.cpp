// Population evaluation: one OpenMP loop over (genome, image) items, no locks, no
// allocation inside; each thread uses its own Workspace.
#include "evoae/population.h"

#include <omp.h>

#include <cmath>

namespace evoae {

PopulationEvaluator::PopulationEvaluator(const Network& net, int threads)
    : net_(net), threads_(threads > 0 ? threads : omp_get_max_threads()) {
  workspaces_.reserve(threads_);
  for (int t = 0; t < threads_; ++t) workspaces_.emplace_back(net);
}

void PopulationEvaluator::forward(const float* genomes, std::size_t P, const float* images,
                                  std::size_t S, float* out) {
  const std::size_t G = net_.num_params(), in_size = net_.input_shape().size(),
                    out_size = net_.output_shape().size();
  const long items = static_cast<long>(P * S);
#pragma omp parallel for schedule(static) num_threads(threads_)
  for (long item = 0; item < items; ++item) {
    const std::size_t g = item / S, s = item % S;
    const float* y = net_.forward(genomes + g * G, images + s * in_size,
                                  workspaces_[omp_get_thread_num()]);
    std::copy(y, y + out_size, out + item * out_size);
  }
}

void PopulationEvaluator::errors(const float* genomes, std::size_t P, const float* inputs,
                                 const float* targets, std::size_t S, double* errors) {
  const std::size_t G = net_.num_params(), in_size = net_.input_shape().size(),
                    out_size = net_.output_shape().size();
  if (item_errors_.size() < P * S) item_errors_.resize(P * S);
  const long items = static_cast<long>(P * S);
#pragma omp parallel for schedule(static) num_threads(threads_)
  for (long item = 0; item < items; ++item) {
    const std::size_t g = item / S, s = item % S;
    const float* y = net_.forward(genomes + g * G, inputs + s * in_size,
                                  workspaces_[omp_get_thread_num()]);
    const float* t = targets + s * out_size;
    double sum = 0.0;
    for (std::size_t p = 0; p < out_size; ++p) sum += std::fabs(y[p] - t[p]);
    item_errors_[item] = sum;
  }
  for (std::size_t g = 0; g < P; ++g) {  // image order: the same sum for any thread count
    double sum = 0.0;
    for (std::size_t s = 0; s < S; ++s) sum += item_errors_[g * S + s];
    errors[g] = sum;
  }
}

}  // namespace evoae
