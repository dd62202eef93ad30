// The engine: one strategy (ask/tell, evo/strategy.h) and one objective (eval/objective.h)
// composed into a run. Each generation: the strategy asks for new genomes, the objective picks
// the generation's samples and measures the genomes it does not know yet with the one
// parallel evaluator, the strategy is told their fitness, and the engine keeps the history
// (best fitness per generation) and checks the stop conditions. By default the strategy is
// the genetic algorithm and the objective the reconstruction of the images: exactly the
// original system of Varadi (2021); settings.strategy chooses another (strategy.h), and a
// test function (eval/test_function.h) can stand in for the network and its data. With
// settings.gradient_steps, every agent learns by gradient steps before it is measured
// (memetic evolution, evo/memetic.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "evoae/core/stopping.h"
#include "evoae/eval/objective.h"
#include "evoae/eval/test_function.h"
#include "evoae/evo/memetic.h"
#include "evoae/evo/settings.h"
#include "evoae/evo/strategy.h"
#include "evoae/nn/network.h"
#include "evoae/eval/population.h"

namespace evoae {

// Everything that determines the rest of a run besides the settings and the data; with them
// it restores an Evolution that continues bit for bit as the one it came from.
struct EvolutionState {
  long generation = 0;
  std::vector<float> genomes;   // (population(), num_params)
  std::vector<double> errors;   // (population): fitness on this generation's samples
  std::vector<double> sigmas;   // (population): the step size each agent was made with
  double sigma = 1.0;           // the shared step size (the GA's 1/5 rule, an ES's sigma)
  std::vector<double> history;  // (generation + 1): best fitness after each generation
  std::uint64_t evaluations = 0;
  std::vector<double> strategy;  // the strategy's own state (empty for the GA), opaque here
};

class Evolution {
 public:
  // The objective settings.objective names, on `data`. Throws std::invalid_argument for
  // impossible settings or data that do not fit the network.
  Evolution(const Network& net, ObjectiveData data, EvolutionSettings settings);
  // Restores a saved state (see state()); the same settings and data must be given.
  Evolution(const Network& net, ObjectiveData data, EvolutionSettings settings,
            EvolutionState state);
  // Reconstruction of `images` (num_images, input size): the original system.
  Evolution(const Network& net, std::vector<float> images, std::size_t num_images,
            EvolutionSettings settings);
  Evolution(const Network& net, std::vector<float> images, std::size_t num_images,
            EvolutionSettings settings, EvolutionState state);
  // Minimises a test function of num_params parameters (no network is run; network() is
  // test_function_network(num_params)); the objective's settings do not apply.
  Evolution(TestFunction function, std::size_t num_params, EvolutionSettings settings);
  Evolution(TestFunction function, std::size_t num_params, EvolutionSettings settings,
            EvolutionState state);
  Evolution(const Evolution&) = delete;  // the evaluator and the parts refer to net_
  Evolution& operator=(const Evolution&) = delete;

  void step();  // one generation: ask, measure, tell
  Advanced advance(const StopConditions& stop);
  // Runs until max_generations were done, max_seconds have passed or best_error() <=
  // target_error (fitness units). Returns the number done.
  long advance(long max_generations, double max_seconds, double target_error);

  EvolutionState state() const;

  const Network& network() const { return net_; }
  // The settings with defaults resolved (sigma, truncation, tau, schedule ends, batch 0 for all).
  const EvolutionSettings& settings() const { return settings_; }
  const Objective& objective() const { return *objective_; }
  long generation() const { return strategy_->generation(); }
  double best_error() const { return strategy_->fitness()[best_index()]; }
  std::size_t best_index() const { return strategy_->best(); }
  // The best agent's weights as they were measured: its genome, or under Baldwinian
  // learning the weights it learned from it (genome(best_index()) is the genome itself).
  const float* best_genome() const {
    return baldwinian() ? best_learned_.data() : genome(best_index());
  }
  // The strategy's genomes: under Lamarckian learning the learned weights, under Baldwinian
  // as the strategy made them.
  const float* genome(std::size_t agent) const { return strategy_->genome(agent); }
  // The agents of the current generation: settings().population, or under IPOP restarts
  // (settings().restarts) the current run's. genome(), errors() and sigmas() have that many.
  std::size_t population() const { return strategy_->population(); }
  const std::vector<double>& errors() const { return strategy_->fitness(); }
  const std::vector<double>& history() const { return history_; }  // best fitness per generation
  const std::vector<double>& sigmas() const { return strategy_->sigmas(); }
  double sigma() const { return strategy_->sigma(); }  // the 1/5 rule's or an ES's sigma
  // An evolution strategy's mean (num_params), not measured; empty for the GA.
  const std::vector<double>& mean() const { return strategy_->mean(); }
  long improved_at() const { return improved_at_; }  // generation of the lowest best fitness
  std::size_t num_images() const { return objective_->num_samples(); }
  std::size_t images_per_generation() const { return objective_->samples_per_generation(); }
  const std::vector<std::size_t>& batch() const { return objective_->batch(); }  // empty: all
  std::uint64_t evaluations() const { return evaluations_; }  // (genome, sample) forward passes
  // (genome, sample) forward and backward passes of memetic learning: each measured agent
  // took gradient_steps of them on each sample it was measured on.
  std::uint64_t gradient_evaluations() const { return settings_.gradient_steps * evaluations_; }

  // The objective's metric of the best agent on this generation's samples (mean |error| per
  // pixel for reconstruction), measured once per generation when asked.
  double best_metric();
  double best_mae() { return best_metric(); }
  // The best agent on all samples.
  Measure evaluate_best_on_all_images();

 private:
  // The settings checked (ranges, combinations, memory) and their defaults resolved: done
  // before any part is made, so that nothing too large is allocated.
  static EvolutionSettings check_and_resolve_settings(const Network& net, EvolutionSettings s);
  // The strategy's settings: checked against the strategy, its defaults resolved (the
  // population's from the network's num_params). Runs before check_and_resolve_settings (an
  // ES's default sigma is not the GA's).
  static EvolutionSettings resolve_strategy_settings(EvolutionSettings s,
                                                     std::size_t num_params);
  // After the objective is made: the strategy starts and its population is measured, or it
  // continues from `state`.
  void start();
  void restore(EvolutionState state);
  // The objective settings.objective names on `data`, and for memetic evolution the learner.
  void make_objective_and_learner(ObjectiveData data);
  void make_test_objective(TestFunction function);  // settings resolved, objective made
  // Agents [first, population) learn (memetic evolution), are measured on this generation's
  // samples and told to the strategy.
  void measure(std::size_t first);
  void finish_generation();  // history, patience
  bool baldwinian() const { return learner_ && settings_.memetic == Memetic::Baldwinian; }

  Network net_;
  EvolutionSettings settings_;
  PopulationEvaluator evaluator_;
  std::unique_ptr<Objective> objective_;
  std::unique_ptr<Strategy> strategy_;
  std::unique_ptr<MemeticLearner> learner_;  // memetic evolution only
  std::vector<double> fitness_;  // scratch: what the objective measured
  std::vector<float> learned_;   // scratch: the measured agents' learned weights
  std::vector<float> best_learned_;  // Baldwinian: the best agent's learned weights
  std::vector<double> history_;
  long improved_at_ = 0;
  double best_ever_ = 0.0;
  std::uint64_t evaluations_ = 0;
  long metric_generation_ = -1;  // best_metric()'s cache
  double metric_ = 0.0;
};

}  // namespace evoae
