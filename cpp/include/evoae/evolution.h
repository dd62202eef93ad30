// The evolution loop. By default exactly the original system (Varadi 2021): evaluate all
// agents; the best (strictly lowest error, ties to the lowest index) is copied into every
// agent; nMut indices are drawn once per generation, shared by all agents, and agents 1..N-1
// each get an independent U(-1, 1) added at every drawn index. Agent 0 stays an exact copy of
// the best, so its error is known and it is not evaluated again.
//
// The general loop, of which the original is one setting (operators.h names the operators):
// each generation the agents are ranked by error (ties to the lowest index); the `elites` best
// pass unchanged into slots 0..E-1 in rank order, keeping their error; every other slot a is a
// child: parent(s) chosen by the selection, crossed over if asked, given a step size (the
// shared sigma, or for self-adaptation its parent's sigma times a log-normal factor) and
// mutated. Then the children are evaluated (all agents, on a new random subset of the images,
// when mini-batches are on), the best is found and the 1/5 rule, if on, updates sigma. Every
// random number comes from an Rng keyed by (seed, purpose, generation, agent), so a run is the
// same on any number of threads, and a restored state continues exactly as the original run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "evoae/network.h"
#include "evoae/operators.h"
#include "evoae/population.h"

namespace evoae {

struct EvolutionSettings {
  int population = 20;
  int mutations = 10;  // k: positions mutated per child (shared ones for "original")
  std::uint64_t seed = 0;
  int threads = 0;  // <= 0: OpenMP's default
  // The operators; these defaults are the original loop.
  Mutation mutation = Mutation::Original;
  double sigma = 1.0;  // step size: scales U(-1, 1) or N(0, 1); initial sigma of the controls
  StepControl step_control = StepControl::Fixed;
  double sigma_end = 0.0;          // Schedule: final sigma (<= 0: sigma)
  int mutations_end = -1;          // Schedule: final k (< 0: mutations)
  long schedule_generations = 0;   // Schedule: generations from the start to the end values
  double tau = 0.0;                // SelfAdaptive: learning rate (<= 0: 1 / sqrt(2 params))
  Crossover crossover = Crossover::None;
  Selection selection = Selection::CopyBest;
  int truncation = 0;              // Truncation: T parents (0: max(2, population / 5))
  int tournament_size = 0;         // Tournament: agents per tournament (0: 3)
  int elites = 1;                  // agents passed on unchanged
  Fitness fitness = Fitness::AbsoluteSum;
  int batch = 0;                   // images per generation, a new random subset each (0: all)
};

// Everything that determines the rest of a run besides the settings and the images; with
// them it restores an Evolution that continues bit for bit as the one it came from.
struct EvolutionState {
  long generation = 0;
  std::vector<float> genomes;   // (population, num_params)
  std::vector<double> errors;   // (population): fitness on this generation's images
  std::vector<double> sigmas;   // (population): the step size each agent was made with
  double sigma = 1.0;           // the shared step size of the 1/5 rule
  std::vector<double> history;  // (generation + 1): best fitness after each generation
  std::uint64_t evaluations = 0;
};

// advance() runs until the first of these holds (unset ones never do).
struct StopConditions {
  long max_generations = std::numeric_limits<long>::max();
  double max_seconds = std::numeric_limits<double>::infinity();  // checked after a generation
  double target_error = -1.0;  // best_error() <= target_error (fitness units)
  double target_mae = -1.0;    // best_mae() <= target_mae
  long patience = 0;           // > 0: the lowest best error is this many generations old
};
enum class StopReason { Generations, Seconds, Target, Patience };
struct Advanced {
  long generations;
  StopReason reason;
};

// The best agent measured on all images (after a run with mini-batches).
struct FullEvaluation {
  double error;  // fitness on all images
  double mae;    // mean |output - target| per pixel on all images
};

class Evolution {
 public:
  // images: (S, input size) scaled inputs, also the targets; the network must map its input
  // shape to the same shape. Initialises every agent uniform in [-1, 1] and evaluates them.
  // Throws std::invalid_argument for impossible settings.
  Evolution(const Network& net, std::vector<float> images, std::size_t num_images,
            EvolutionSettings settings);
  // Restores a saved state (see state()); the same settings and images must be given.
  Evolution(const Network& net, std::vector<float> images, std::size_t num_images,
            EvolutionSettings settings, EvolutionState state);
  Evolution(const Evolution&) = delete;  // the evaluator refers to net_
  Evolution& operator=(const Evolution&) = delete;

  void step();  // one generation

  // Runs generations until max_generations were done, max_seconds have passed (checked
  // after each generation) or best_error() <= target_error. Returns the number done.
  long advance(long max_generations, double max_seconds, double target_error);
  Advanced advance(const StopConditions& stop);

  EvolutionState state() const;

  const Network& network() const { return net_; }
  // The settings with defaults resolved (truncation, tau, schedule ends, batch 0 for all).
  const EvolutionSettings& settings() const { return settings_; }
  long generation() const { return generation_; }
  double best_error() const { return errors_[best_]; }
  std::size_t best_index() const { return best_; }
  const float* best_genome() const { return genome(best_); }
  const float* genome(std::size_t agent) const { return genomes_.data() + agent * net_.num_params(); }
  const std::vector<double>& errors() const { return errors_; }
  const std::vector<double>& history() const { return history_; }  // best error per generation
  const std::vector<double>& sigmas() const { return sigmas_; }
  double sigma() const { return sigma_; }  // the 1/5 rule's current sigma
  long improved_at() const { return improved_at_; }  // generation of the lowest best error
  std::size_t num_images() const { return num_images_; }
  // Images each generation is evaluated on: the batch size, or all images.
  std::size_t images_per_generation() const { return batch_.empty() ? num_images_ : batch_.size(); }
  const std::vector<std::size_t>& batch() const { return batch_; }  // empty: all images
  std::uint64_t evaluations() const { return evaluations_; }  // (genome, image) forward passes

  // Mean |output - target| per pixel of the best agent on this generation's images (for "sae"
  // best_error() / values; otherwise evaluated once per generation when asked).
  double best_mae();
  // The best agent on all images.
  FullEvaluation evaluate_best_on_all_images();

 private:
  // What both public constructors share: members set, settings checked, nothing evaluated.
  struct Unstarted {};
  Evolution(const Network& net, std::vector<float> images, std::size_t num_images,
            EvolutionSettings settings, Unstarted);
  void check_and_resolve_settings();
  void choose_batch();
  const float* eval_images() const { return batch_.empty() ? images_.data() : batch_images_.data(); }
  // Fitness of genomes [first, first + count) on this generation's images, into errors_.
  void evaluate(std::size_t first, std::size_t count);
  void finish_generation();  // best, history, patience
  std::size_t mutation_count() const;
  double shared_sigma() const;
  float* mutable_genome(std::size_t agent) { return genomes_.data() + agent * net_.num_params(); }

  Network net_;
  EvolutionSettings settings_;
  std::vector<float> images_;
  std::size_t num_images_;
  PopulationEvaluator evaluator_;
  std::vector<float> genomes_;       // (population, num_params)
  std::vector<double> errors_;       // (population)
  std::vector<double> sigmas_;       // (population)
  double sigma_ = 1.0;
  std::vector<float> next_genomes_;  // scratch of step()
  std::vector<double> next_errors_, next_sigmas_, parent_errors_;
  std::vector<std::size_t> mutation_indices_;
  std::vector<std::size_t> batch_;   // this generation's images (sorted), empty for all
  std::vector<float> batch_images_;  // (batch, input size)
  std::size_t best_ = 0;
  long generation_ = 0;
  long improved_at_ = 0;
  double best_ever_ = 0.0;
  std::uint64_t evaluations_ = 0;
  std::vector<double> history_;
  long mae_generation_ = -1;  // best_mae()'s cache
  double mae_ = 0.0;
};

}  // namespace evoae
