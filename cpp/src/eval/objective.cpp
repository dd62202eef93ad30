// What every objective shares: the data's checks, the seeded mini-batches, and the choice of
// objective by name.
#include "evoae/eval/objective.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "evoae/eval/classification.h"
#include "evoae/eval/reconstruction.h"
#include "evoae/core/rng.h"

namespace evoae {

Objective::Objective(const Network& net, ObjectiveData data, std::uint64_t seed, int batch)
    : net_(net), data_(std::move(data)), num_samples_(data_.num_samples), seed_(seed),
      batch_size_(batch) {
  const std::size_t S = num_samples_, N = net_.input_shape().size();
  if (S < 1) throw std::invalid_argument("at least one sample (image) is needed");
  if (data_.inputs.size() != S * N)
    throw std::invalid_argument("images hold " + std::to_string(data_.inputs.size()) +
                                " values, expected " + std::to_string(S) + " x " +
                                std::to_string(N));
  if (batch < 0) throw std::invalid_argument("batch must be >= 1, got " + std::to_string(batch));
  if (static_cast<std::size_t>(batch) > S)
    throw std::invalid_argument("batch " + std::to_string(batch) +
                                " exceeds the number of samples (" + std::to_string(S) + ")");
  if (static_cast<std::size_t>(batch) == S) batch_size_ = 0;  // all of them
}

bool Objective::select(long generation) {
  if (batch_size_ == 0) return false;
  Rng rng(seed_, RngPurpose::Batch, generation, 0);
  batch_ = sample_batch(num_samples_, batch_size_, rng);
  gather(data_.inputs.data(), net_.input_shape().size(), batch_inputs_);
  on_new_batch();
  return true;
}

void Objective::gather(const float* rows, std::size_t width, std::vector<float>& out) const {
  out.resize(batch_.size() * width);
  for (std::size_t b = 0; b < batch_.size(); ++b)
    std::copy(rows + batch_[b] * width, rows + (batch_[b] + 1) * width, &out[b * width]);
}

std::unique_ptr<Objective> make_objective(const Network& net, ObjectiveData data,
                                          const EvolutionSettings& s) {
  if (s.objective == ObjectiveKind::Classification) {
    if (s.fitness != Fitness::CrossEntropy)
      throw std::invalid_argument(std::string("the classification objective minimises "
                                              "cross-entropy, not '") + name(s.fitness) + "'");
    return std::make_unique<ClassificationObjective>(net, std::move(data), s.seed, s.batch);
  }
  if (s.fitness == Fitness::CrossEntropy)
    throw std::invalid_argument("fitness 'cross-entropy' needs the classification objective "
                                "(labels); reconstruction uses sae, mse or rmse");
  if (!data.labels.empty())
    throw std::invalid_argument("labels are for the classification objective, not "
                                "reconstruction");
  return std::make_unique<ReconstructionObjective>(net, std::move(data), s.fitness, s.seed,
                                                   s.batch);
}

}  // namespace evoae
