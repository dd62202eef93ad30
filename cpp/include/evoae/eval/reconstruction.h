// The reconstruction objective (Varadi 2021): each output against its input (an autoencoder)
// or against a given target; fitness sae, mse or rmse; metric: mean |error| per pixel.
#pragma once

#include "evoae/eval/objective.h"

namespace evoae {

class ReconstructionObjective : public Objective {
 public:
  // data.targets empty: the inputs are the targets, and the network must map its input
  // shape to the same shape.
  ReconstructionObjective(const Network& net, ObjectiveData data, Fitness fitness,
                          std::uint64_t seed, int batch);

  const char* metric_name() const override { return "MAE"; }
  void fitness(PopulationEvaluator& evaluator, const float* genomes, std::size_t count,
               double* out) override;
  double metric(PopulationEvaluator& evaluator, const float* genome, double fitness) override;
  Measure measure_all(PopulationEvaluator& evaluator, const float* genome) override;

 private:
  void on_new_batch() override;
  const float* all_targets() const;
  const float* targets() const;  // this generation's: (samples_per_generation(), output size)

  Fitness kind_;
  std::vector<float> batch_targets_;
};

}  // namespace evoae
