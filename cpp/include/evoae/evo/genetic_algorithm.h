// The genetic algorithm as an ask/tell strategy. By default exactly the original system
// (Varadi 2021): the best (strictly lowest fitness, ties to the lowest index) is copied into
// every agent; k indices are drawn once per generation, shared by all agents, and agents
// 1..N-1 each get an independent U(-1, 1) added at every drawn index. Agent 0 stays an exact
// copy of the best, so its fitness is known and it is not measured again.
//
// In general (operators.h names the operators): the agents are ranked by fitness (ties to the
// lowest index); the `elites` best pass unchanged into slots 0..E-1 in rank order, keeping
// their fitness; every other slot a is a child: parent(s) chosen by the selection, crossed
// over if asked, given a step size (the shared sigma, or for self-adaptation its parent's
// sigma times a log-normal factor) and mutated. After tell() the 1/5 rule, if on, updates the
// shared sigma. Every random number comes from an Rng keyed by (seed, purpose, generation,
// agent), so a run is the same on any number of threads.
#pragma once

#include <cstddef>
#include <vector>

#include "evoae/evo/settings.h"
#include "evoae/evo/strategy.h"
#include "evoae/nn/network.h"

namespace evoae {

class GeneticAlgorithm : public Strategy {
 public:
  // settings: checked and resolved (Evolution does it); net: for the layer crossover's layer
  // boundaries; threads: for making children in parallel. Starts every agent uniform in
  // [-1, 1]; tell() their fitness before the first ask().
  GeneticAlgorithm(const Network& net, const EvolutionSettings& settings, int threads);
  // Continues from a saved state (its own part is empty: the GA's is the sigmas).
  GeneticAlgorithm(const Network& net, const EvolutionSettings& settings, int threads,
                   StrategyState state);

  std::size_t population() const override { return settings_.population; }
  std::size_t num_params() const override { return net_.num_params(); }
  long generation() const override { return generation_; }
  std::size_t ask() override;
  void tell(const double* fitness, std::size_t first) override;
  void replace_genomes(const float* genomes, std::size_t first) override;
  const float* genomes() const override { return genomes_.data(); }
  const std::vector<double>& fitness() const override { return fitness_; }
  std::size_t best() const override { return best_; }

  const float* genome(std::size_t agent) const { return genomes_.data() + agent * num_params(); }
  const std::vector<double>& sigmas() const override { return sigmas_; }
  double sigma() const override { return sigma_; }
  StrategyState state() const override;
  const std::vector<double>& mean() const override { return no_mean_; }

 private:
  std::size_t mutation_count() const;
  double shared_sigma() const;

  const Network& net_;
  EvolutionSettings settings_;
  int threads_;
  long generation_ = 0;
  std::vector<float> genomes_;       // (population, num_params)
  std::vector<double> fitness_;      // (population)
  std::vector<double> sigmas_;       // (population)
  double sigma_ = 1.0;
  std::size_t best_ = 0;
  std::size_t elites_kept_ = 0;      // slots the last ask() passed on unchanged
  std::vector<float> next_genomes_;  // scratch of ask()
  std::vector<double> next_sigmas_, parent_fitness_;
  std::vector<std::size_t> mutation_indices_;
  const std::vector<double> no_mean_;
};

}  // namespace evoae
