// The classification objective; see classification.h.
#include "evoae/eval/classification.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "evoae/core/simd.h"

namespace evoae {

ClassificationObjective::ClassificationObjective(const Network& net, ObjectiveData data,
                                                 std::uint64_t seed, int batch)
    : Objective(net, std::move(data), seed, batch) {
  const std::size_t classes = net_.output_shape().size();
  if (classes < 2)
    throw std::invalid_argument("a classifier needs one output (logit) per class, at least 2; "
                                "the network gives " + std::to_string(classes));
  if (!data_.targets.empty())
    throw std::invalid_argument("the classification objective takes labels, not targets");
  if (data_.labels.size() != num_samples())
    throw std::invalid_argument("labels hold " + std::to_string(data_.labels.size()) +
                                " values, expected one per sample (" +
                                std::to_string(num_samples()) + ")");
  for (std::size_t i = 0; i < data_.labels.size(); ++i)
    if (data_.labels[i] < 0 || static_cast<std::size_t>(data_.labels[i]) >= classes)
      throw std::invalid_argument("label " + std::to_string(data_.labels[i]) + " of sample " +
                                  std::to_string(i) + " is not one of the network's " +
                                  std::to_string(classes) + " classes");
}

const int* ClassificationObjective::labels() const {
  return batch().empty() ? data_.labels.data() : batch_labels_.data();
}

void ClassificationObjective::on_new_batch() {
  batch_labels_.resize(batch().size());
  for (std::size_t b = 0; b < batch().size(); ++b) batch_labels_[b] = data_.labels[batch()[b]];
}

void ClassificationObjective::losses(PopulationEvaluator& evaluator, const float* genomes,
                                     std::size_t count, const float* in, const int* label,
                                     std::size_t S, double* cross_entropy, double* error_rate) {
  const std::size_t C = net_.output_shape().size();
  // Logit c of a lane is output[c * kLanes + lane]. Log-sum-exp shifted by the largest logit.
  auto loss = [&](const float* y, int lane, std::size_t image) {
    double top = y[lane];
    for (std::size_t c = 1; c < C; ++c) top = std::max(top, double(y[c * kLanes + lane]));
    double sum = 0.0;
    for (std::size_t c = 0; c < C; ++c) sum += std::exp(y[c * kLanes + lane] - top);
    return top + std::log(sum) - y[label[image] * kLanes + lane];
  };
  auto wrong = [&](const float* y, int lane, std::size_t image) {
    std::size_t arg = 0;
    for (std::size_t c = 1; c < C; ++c)
      if (y[c * kLanes + lane] > y[arg * kLanes + lane]) arg = c;
    return arg == static_cast<std::size_t>(label[image]) ? 0.0 : 1.0;
  };
  if (cross_entropy) {
    evaluator.sums(genomes, count, in, S, loss, cross_entropy);
    for (std::size_t a = 0; a < count; ++a) cross_entropy[a] /= S;
  }
  if (error_rate) {
    evaluator.sums(genomes, count, in, S, wrong, error_rate);
    for (std::size_t a = 0; a < count; ++a) error_rate[a] /= S;
  }
}

void ClassificationObjective::fitness(PopulationEvaluator& evaluator, const float* genomes,
                                      std::size_t count, double* out) {
  if (count == 0) return;
  losses(evaluator, genomes, count, inputs(), labels(), samples_per_generation(), out, nullptr);
}

double ClassificationObjective::metric(PopulationEvaluator& evaluator, const float* genome,
                                       double) {
  double rate = 0.0;
  losses(evaluator, genome, 1, inputs(), labels(), samples_per_generation(), nullptr, &rate);
  return rate;
}

Measure ClassificationObjective::measure_all(PopulationEvaluator& evaluator,
                                             const float* genome) {
  Measure m{};
  losses(evaluator, genome, 1, data_.inputs.data(), data_.labels.data(), num_samples(),
         &m.fitness, &m.metric);
  return m;
}

}  // namespace evoae
