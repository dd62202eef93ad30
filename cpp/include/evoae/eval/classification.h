// The classification objective: the network's outputs are one logit per class; fitness: the
// mean softmax cross-entropy against the labels; metric: the error rate (argmax != label,
// ties to the lowest class). It proves the engine is not reconstruction-only: any network
// whose output is a class score vector evolves against labels.
#pragma once

#include "evoae/eval/objective.h"

namespace evoae {

class ClassificationObjective : public Objective {
 public:
  ClassificationObjective(const Network& net, ObjectiveData data, std::uint64_t seed, int batch);

  const char* metric_name() const override { return "error rate"; }
  void fitness(PopulationEvaluator& evaluator, const float* genomes, std::size_t count,
               double* out) override;
  double metric(PopulationEvaluator& evaluator, const float* genome, double fitness) override;
  Measure measure_all(PopulationEvaluator& evaluator, const float* genome) override;

 private:
  void on_new_batch() override;
  const int* labels() const;  // this generation's
  // Mean cross-entropy of `count` genomes on S samples, and the error rate of each.
  void losses(PopulationEvaluator& evaluator, const float* genomes, std::size_t count,
              const float* inputs, const int* labels, std::size_t S, double* cross_entropy,
              double* error_rate);

  std::vector<int> batch_labels_;
};

}  // namespace evoae
