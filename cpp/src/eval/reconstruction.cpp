// The reconstruction objective; see reconstruction.h.
#include "evoae/eval/reconstruction.h"

#include <stdexcept>
#include <string>

namespace evoae {

ReconstructionObjective::ReconstructionObjective(const Network& net, ObjectiveData data,
                                                 Fitness fitness, std::uint64_t seed, int batch)
    : Objective(net, std::move(data), seed, batch), kind_(fitness) {
  const std::size_t out_size = net_.output_shape().size();
  if (data_.targets.empty() && !(net_.input_shape() == net_.output_shape()))
    throw std::invalid_argument("an autoencoder must map its input to the same shape: input " +
                                net_.input_shape().str() + ", output " +
                                net_.output_shape().str() + " (or give targets)");
  if (!data_.targets.empty() && data_.targets.size() != num_samples() * out_size)
    throw std::invalid_argument("targets hold " + std::to_string(data_.targets.size()) +
                                " values, expected " + std::to_string(num_samples()) + " x " +
                                std::to_string(out_size) + " (the network's output size)");
}

const float* ReconstructionObjective::all_targets() const {
  return data_.targets.empty() ? data_.inputs.data() : data_.targets.data();
}

const float* ReconstructionObjective::targets() const {
  if (batch().empty()) return all_targets();
  return data_.targets.empty() ? inputs() : batch_targets_.data();
}

void ReconstructionObjective::on_new_batch() {
  if (!data_.targets.empty())
    gather(data_.targets.data(), net_.output_shape().size(), batch_targets_);
}

void ReconstructionObjective::fitness(PopulationEvaluator& evaluator, const float* genomes,
                                      std::size_t count, double* out) {
  if (count == 0) return;
  const std::size_t S = samples_per_generation();
  const ErrorSum sum = kind_ == Fitness::AbsoluteSum ? ErrorSum::Absolute : ErrorSum::Squared;
  evaluator.errors(genomes, count, inputs(), targets(), S, out, sum);
  if (kind_ != Fitness::AbsoluteSum) {
    const std::size_t values = S * net_.output_shape().size();
    for (std::size_t a = 0; a < count; ++a) out[a] = fitness_from_sum(kind_, out[a], values);
  }
}

double ReconstructionObjective::metric(PopulationEvaluator& evaluator, const float* genome,
                                       double fitness) {
  const std::size_t S = samples_per_generation(), values = S * net_.output_shape().size();
  if (kind_ == Fitness::AbsoluteSum) return fitness / values;
  double sum = 0.0;
  evaluator.errors(genome, 1, inputs(), targets(), S, &sum, ErrorSum::Absolute);
  return sum / values;
}

Measure ReconstructionObjective::measure_all(PopulationEvaluator& evaluator,
                                             const float* genome) {
  const std::size_t S = num_samples(), values = S * net_.output_shape().size();
  const float* in = data_.inputs.data();
  double abs_sum = 0.0, squared_sum = 0.0;
  evaluator.errors(genome, 1, in, all_targets(), S, &abs_sum, ErrorSum::Absolute);
  if (kind_ != Fitness::AbsoluteSum)
    evaluator.errors(genome, 1, in, all_targets(), S, &squared_sum, ErrorSum::Squared);
  const double fitness =
      kind_ == Fitness::AbsoluteSum ? abs_sum : fitness_from_sum(kind_, squared_sum, values);
  return {fitness, abs_sum / values};
}

}  // namespace evoae
