// Objectives: what a population is measured on. An objective holds the data (inputs, and the
// targets or labels), picks each generation's samples (all, or a seeded mini-batch), and turns
// the parallel evaluator's outputs into one fitness per genome (lower is better) and a metric
// people read (mean |error| per pixel, or the error rate of a classifier).
//
//   reconstruction   Varadi 2021: the outputs against the inputs (an autoencoder) or against
//                    given targets; fitness sae, mse or rmse (operators.h).
//   classification   the outputs are logits of one class per sample; fitness: the mean
//                    softmax cross-entropy against the labels; metric: the error rate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "evoae/evo/settings.h"
#include "evoae/nn/network.h"
#include "evoae/eval/population.h"

namespace evoae {

// A genome measured on all samples.
struct Measure {
  double fitness;
  double metric;
};

// The data an objective is made from. inputs: (num_samples, input size); targets:
// (num_samples, output size), empty for the inputs themselves; labels: (num_samples) classes.
struct ObjectiveData {
  std::vector<float> inputs;
  std::size_t num_samples = 0;
  std::vector<float> targets;
  std::vector<int> labels;
};

class Objective {
 public:
  virtual ~Objective() = default;

  virtual const char* metric_name() const = 0;  // "MAE", "error rate"
  std::size_t num_samples() const { return num_samples_; }
  // Samples each generation is measured on: the batch size, or all.
  std::size_t samples_per_generation() const { return batch_.empty() ? num_samples_ : batch_.size(); }
  const std::vector<std::size_t>& batch() const { return batch_; }  // sorted; empty: all
  int batch_size() const { return batch_size_; }  // 0: all samples

  // Chooses `generation`'s samples; true when they may differ from the last generation's, so
  // that every genome must be measured again.
  bool select(long generation);
  // Fitness of `count` genomes (count, num_params) on this generation's samples.
  virtual void fitness(PopulationEvaluator& evaluator, const float* genomes, std::size_t count,
                       double* out) = 0;
  // The metric of one genome on this generation's samples; `fitness` is its fitness there.
  virtual double metric(PopulationEvaluator& evaluator, const float* genome, double fitness) = 0;
  // Fitness and metric of one genome on all samples.
  virtual Measure measure_all(PopulationEvaluator& evaluator, const float* genome) = 0;

 protected:
  // Checks the inputs' size and the batch (<= num_samples; equal means all).
  Objective(const Network& net, ObjectiveData data, std::uint64_t seed, int batch);
  // This generation's inputs: (samples_per_generation(), input size).
  const float* inputs() const { return batch_.empty() ? data_.inputs.data() : batch_inputs_.data(); }
  // Rows `batch_` of a (num_samples, width) buffer, gathered into `out`.
  void gather(const float* rows, std::size_t width, std::vector<float>& out) const;
  // Hook for the subclasses to gather their own per-sample data after a new batch.
  virtual void on_new_batch() {}

  const Network& net_;
  ObjectiveData data_;

 private:
  std::size_t num_samples_;
  std::uint64_t seed_;
  int batch_size_;
  std::vector<std::size_t> batch_;
  std::vector<float> batch_inputs_;
};

// The objective `settings` names (settings.objective, .fitness, .batch, .seed), checked
// against the network and the data; std::invalid_argument naming what does not fit.
std::unique_ptr<Objective> make_objective(const Network& net, ObjectiveData data,
                                          const EvolutionSettings& settings);

}  // namespace evoae
