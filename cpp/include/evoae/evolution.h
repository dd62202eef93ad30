// The evolution loop of the original system (Varadi 2021), exactly:
// evaluate all agents; the best (strictly lowest error, ties to the lowest index) is copied
// into every agent; nMut indices are drawn once per generation, shared by all agents, and
// agents 1..N-1 each get an independent U(-1, 1) added at every drawn index. Agent 0 stays an
// exact copy of the best, so its error is known and it is not evaluated again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "evoae/network.h"
#include "evoae/population.h"

namespace evoae {

struct EvolutionSettings {
  int population = 20;
  int mutations = 10;
  std::uint64_t seed = 0;
  int threads = 0;  // <= 0: OpenMP's default
};

class Evolution {
 public:
  // images: (S, input size) scaled inputs, also the targets; the network must map its input
  // shape to the same shape. Initialises every agent uniform in [-1, 1] and evaluates them.
  Evolution(const Network& net, std::vector<float> images, std::size_t num_images,
            EvolutionSettings settings);
  Evolution(const Evolution&) = delete;  // the evaluator refers to net_
  Evolution& operator=(const Evolution&) = delete;

  void step();  // one generation

  // Runs generations until max_generations were done, max_seconds have passed (checked
  // after each generation) or best_error() <= target_error. Returns the number done.
  long advance(long max_generations, double max_seconds, double target_error);

  const Network& network() const { return net_; }
  const EvolutionSettings& settings() const { return settings_; }
  long generation() const { return generation_; }
  double best_error() const { return errors_[best_]; }
  std::size_t best_index() const { return best_; }
  const float* best_genome() const { return genome(best_); }
  const float* genome(std::size_t agent) const { return &genomes_[agent * net_.num_params()]; }
  const std::vector<double>& errors() const { return errors_; }
  const std::vector<double>& history() const { return history_; }  // best error per generation
  std::size_t num_images() const { return num_images_; }
  std::uint64_t evaluations() const { return evaluations_; }  // (genome, image) forward passes

 private:
  void select_best();
  float* mutable_genome(std::size_t agent) { return &genomes_[agent * net_.num_params()]; }

  Network net_;
  EvolutionSettings settings_;
  std::vector<float> images_;
  std::size_t num_images_;
  PopulationEvaluator evaluator_;
  std::vector<float> genomes_;  // (population, num_params)
  std::vector<double> errors_;  // (population)
  std::vector<std::size_t> mutation_indices_;
  std::size_t best_ = 0;
  long generation_ = 0;
  std::uint64_t evaluations_ = 0;
  std::vector<double> history_;
};

}  // namespace evoae
