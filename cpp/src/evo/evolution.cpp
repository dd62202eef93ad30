// The engine; see evolution.h. The genetic algorithm's rules are in evo/genetic_algorithm.cpp,
// the objectives in eval/.
#include "evoae/evo/evolution.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>

#include "evoae/core/simd.h"

namespace evoae {
namespace {

constexpr double kMaxBytes = 8.0 * (1 << 30);  // the memory a run may ask for

std::string gib(double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GiB", bytes / (1 << 30));
  return text;
}

std::invalid_argument bad(const std::string& what) { return std::invalid_argument(what); }

// The largest population the run reaches: its last restart's under IPOP.
double largest_population(const EvolutionSettings& s) {
  return s.restarts > 0 ? s.population * std::pow(s.restart_growth, s.restarts) : s.population;
}

ObjectiveData images_data(std::vector<float> images, std::size_t num_images) {
  ObjectiveData d;
  d.inputs = std::move(images);
  d.num_samples = num_images;
  return d;
}

}  // namespace

// The checks that involve more than one setting or the network, and the defaults that depend
// on others; each setting's own range is checked by the table (evo/settings.cpp).
EvolutionSettings Evolution::check_and_resolve_settings(const Network& net,
                                                        EvolutionSettings s) {
  check_setting_ranges(s);
  const std::size_t G = net.num_params();
  const std::string P = std::to_string(s.population);
  const bool uses_k = s.mutation != Mutation::GaussianAll;
  if (G == 0 && ((uses_k && (s.mutations > 0 || s.mutations_end > 0)) || !uses_k))
    throw bad("the network has no parameters to mutate");
  // Each mutated position costs time; more than 10 per parameter changes nothing more.
  const double max_mutations = 10.0 * G;
  for (const auto& [setting, k] : {std::pair{"mutations", s.mutations},
                                   std::pair{"mutations_end", s.mutations_end}})
    if (uses_k && k > max_mutations)
      throw bad(std::string(setting) + " must be <= 10 x the network's " + std::to_string(G) +
                " parameters = " + std::to_string(static_cast<long long>(max_mutations)) +
                ", got " + std::to_string(k));
  // Memory, before any of it is allocated: the population's genomes three times (this
  // generation's, the next's, the evaluator's lane-packed copy) and each thread's two
  // activation buffers.
  const int threads = s.threads > 0 ? s.threads : omp_get_max_threads();
  const double largest = largest_population(s);
  if (largest > kSettingCountMax)
    throw bad("population x restart_growth^restarts = " + P + " x " +
              setting_value_text(s.restart_growth) + "^" + std::to_string(s.restarts) +
              " exceeds " + std::to_string(kSettingCountMax) + " agents");
  const std::string agents =
      s.restarts > 0 ? std::to_string(std::llround(largest)) + " (the last restart's)" : P;
  const double genome_bytes = 3.0 * largest * G * sizeof(float);
  const double buffer_bytes =
      2.0 * threads * net.max_activation_size() * kLanes * sizeof(float);
  const double learning_bytes =
      s.gradient_steps > 0 ? training_bytes(net, std::llround(largest), threads) : 0.0;
  const double bytes = genome_bytes + buffer_bytes + learning_bytes;
  if (bytes > kMaxBytes)
    throw bad("population " + agents + " x " + std::to_string(G) + " parameters on " +
              std::to_string(threads) + " threads needs " + gib(bytes) + " (genomes " +
              gib(genome_bytes) + ", activation buffers " + gib(buffer_bytes) +
              (learning_bytes > 0.0 ? ", memetic learning " + gib(learning_bytes) : "") +
              "), more than the limit of " + gib(kMaxBytes));

  // Step size and its control.
  if (!has_step_size(s.mutation) && s.sigma != 0.0)
    throw bad("mutation '" + std::string(name(s.mutation)) +
              "' has no step size: sigma does not apply");
  if (has_step_size(s.mutation) && s.sigma == 0.0) s.sigma = default_sigma(s.mutation);
  const bool schedule = s.step_control == StepControl::Schedule;
  if (!schedule && (s.sigma_end != 0.0 || s.mutations_end >= 0 || s.schedule_generations != 0))
    throw bad("sigma_end, mutations_end and schedule_generations need step control "
              "'schedule', not '" + std::string(name(s.step_control)) + "'");
  if (!has_step_size(s.mutation) &&
      (s.step_control == StepControl::OneFifth || s.step_control == StepControl::SelfAdaptive))
    throw bad("mutation '" + std::string(name(s.mutation)) + "' has no step size for step "
              "control '" + name(s.step_control) + "' to adapt");
  if (schedule) {
    if (s.schedule_generations < 1)
      throw bad("step control 'schedule' needs schedule_generations >= 1, got " +
                std::to_string(s.schedule_generations));
    if (s.sigma_end == 0.0) s.sigma_end = s.sigma;
    if (s.mutations_end < 0) s.mutations_end = s.mutations;
  }
  if (s.step_control != StepControl::SelfAdaptive && s.tau != 0.0)
    throw bad("tau needs step control 'self-adaptive', not '" +
              std::string(name(s.step_control)) + "'");
  if (s.step_control == StepControl::SelfAdaptive && s.tau == 0.0) s.tau = default_tau(G);

  // Selection, elites, crossover.
  if (s.population > 1 && s.elites >= s.population)
    throw bad("elites must be < population (" + P + "), got " + std::to_string(s.elites) +
              ": no agent would be left to make children");
  if (s.population == 1 && s.elites > 1)
    throw bad("elites must be <= population (1), got " + std::to_string(s.elites));
  const bool truncation = s.selection == Selection::Truncation;
  if (!truncation && s.truncation != 0)
    throw bad("truncation (the number of parents) needs selection 'truncation', not '" +
              std::string(name(s.selection)) + "'");
  if (truncation) {
    if (s.truncation > s.population)
      throw bad("truncation T = " + std::to_string(s.truncation) + " exceeds the population (" +
                P + "): at most " + P + " agents can be parents");
    if (s.truncation == 0) s.truncation = std::min(s.population, std::max(2, s.population / 5));
  }
  const bool tournament = s.selection == Selection::Tournament;
  if (!tournament && s.tournament_size != 0)
    throw bad("tournament_size needs selection 'tournament', not '" +
              std::string(name(s.selection)) + "'");
  if (tournament && s.tournament_size == 0) s.tournament_size = 3;
  if (s.crossover != Crossover::None && s.selection == Selection::CopyBest)
    throw bad("crossover '" + std::string(name(s.crossover)) + "' with selection 'copy-best' "
              "crosses the best with itself: choose selection 'truncation' or 'tournament'");
  return resolve_memetic_settings(s);
}

// Under an evolution strategy the GA's operators keep their defaults: every agent is a sample.
EvolutionSettings Evolution::resolve_strategy_settings(EvolutionSettings s,
                                                       std::size_t num_params) {
  check_setting_ranges(s);
  const std::string strategy = name(s.strategy);
  const bool openai = s.strategy == StrategyKind::OpenAiEs;
  const bool pgpe = s.strategy == StrategyKind::Pgpe;
  const bool cma = s.strategy == StrategyKind::CmaEs || s.strategy == StrategyKind::SepCmaEs;
  if (!openai && s.weight_decay >= 0.0)
    throw bad("weight_decay needs strategy 'openai-es', not '" + strategy + "'");
  if (!openai && !pgpe && s.learning_rate != 0.0)
    throw bad("learning_rate needs strategy 'openai-es' or 'pgpe', not '" + strategy + "'");
  if (!cma && s.restarts > 0)
    throw bad("restarts needs strategy 'cma-es' or 'sep-cma-es' (IPOP), not '" + strategy +
              "'");
  if (s.restarts == 0 && s.restart_growth != 0.0)
    throw bad("restart_growth needs restarts >= 1, got 0");
  if (s.restarts > 0 && s.restart_growth == 0.0) s.restart_growth = 2.0;
  if (s.population == -1) s.population = default_population(s.strategy, num_params);
  if (s.strategy == StrategyKind::Ga) return s;
  const EvolutionSettings ga;
  const std::pair<const char*, bool> operators[] = {
      {"mutation", s.mutation != ga.mutation},
      {"mutations", s.mutations != ga.mutations},
      {"step_control", s.step_control != ga.step_control},
      {"sigma_end", s.sigma_end != ga.sigma_end},
      {"mutations_end", s.mutations_end != ga.mutations_end},
      {"schedule_generations", s.schedule_generations != ga.schedule_generations},
      {"tau", s.tau != ga.tau},
      {"crossover", s.crossover != ga.crossover},
      {"selection", s.selection != ga.selection},
      {"truncation", s.truncation != ga.truncation},
      {"tournament_size", s.tournament_size != ga.tournament_size},
      {"elites", s.elites != ga.elites}};
  for (const auto& [setting, given] : operators)
    if (given)
      throw bad(std::string(setting) + " is an operator of strategy 'ga': strategy '" +
                strategy + "' samples every agent from its distribution");
  if (s.population < 2)
    throw bad("strategy '" + strategy + "' needs population >= 2, got " +
              std::to_string(s.population));
  if ((openai || pgpe) && s.population % 2 != 0)
    throw bad("strategy '" + strategy + "' samples antithetic pairs: population must be even, "
              "got " +
              std::to_string(s.population));
  if (s.sigma == 0.0) s.sigma = openai ? 0.02 : 0.1;
  if (openai && s.learning_rate == 0.0) s.learning_rate = 0.01;
  if (pgpe && s.learning_rate == 0.0) s.learning_rate = 0.15;
  if (openai && s.weight_decay < 0.0) s.weight_decay = 0.005;
  return s;
}

Evolution::Evolution(const Network& net, ObjectiveData data, EvolutionSettings settings)
    : net_(net),
      settings_(check_and_resolve_settings(
          net, resolve_strategy_settings(settings, net.num_params()))),
      evaluator_(net_, settings_.threads) {
  make_objective_and_learner(std::move(data));
  start();
}

Evolution::Evolution(const Network& net, ObjectiveData data, EvolutionSettings settings,
                     EvolutionState state)
    : net_(net),
      settings_(check_and_resolve_settings(
          net, resolve_strategy_settings(settings, net.num_params()))),
      evaluator_(net_, settings_.threads) {
  make_objective_and_learner(std::move(data));
  restore(std::move(state));
}

Evolution::Evolution(const Network& net, std::vector<float> images, std::size_t num_images,
                     EvolutionSettings settings)
    : Evolution(net, images_data(std::move(images), num_images), settings) {}

Evolution::Evolution(const Network& net, std::vector<float> images, std::size_t num_images,
                     EvolutionSettings settings, EvolutionState state)
    : Evolution(net, images_data(std::move(images), num_images), settings, std::move(state)) {}

Evolution::Evolution(TestFunction function, std::size_t num_params, EvolutionSettings settings)
    : net_(test_function_network(num_params)),
      settings_(
          check_and_resolve_settings(net_, resolve_strategy_settings(settings, num_params))),
      evaluator_(net_, settings_.threads) {
  make_test_objective(function);
  start();
}

Evolution::Evolution(TestFunction function, std::size_t num_params, EvolutionSettings settings,
                     EvolutionState state)
    : net_(test_function_network(num_params)),
      settings_(
          check_and_resolve_settings(net_, resolve_strategy_settings(settings, num_params))),
      evaluator_(net_, settings_.threads) {
  make_test_objective(function);
  restore(std::move(state));
}

void Evolution::make_objective_and_learner(ObjectiveData data) {
  if (settings_.gradient_steps == 0) {
    objective_ = make_objective(net_, std::move(data), settings_);
    return;
  }
  objective_ = make_objective(net_, data, settings_);  // checks the data the learner reads
  learner_ = std::make_unique<MemeticLearner>(net_, data, settings_, evaluator_.threads());
}

void Evolution::make_test_objective(TestFunction function) {
  const EvolutionSettings defaults;
  if (settings_.objective != defaults.objective || settings_.fitness != defaults.fitness ||
      settings_.batch != defaults.batch)
    throw bad(std::string("objective, fitness and batch do not apply to test function '") +
              name(function) + "'");
  if (settings_.gradient_steps > 0)
    throw bad(std::string("gradient_steps needs a network to learn: test function '") +
              name(function) + "' runs none, so it has no gradient");
  objective_ = std::make_unique<TestFunctionObjective>(net_, function);
}

void Evolution::start() {
  settings_.batch = objective_->batch_size();
  strategy_ = make_strategy(net_, settings_, evaluator_.threads());
  objective_->select(0);
  measure(0);
  best_ever_ = best_error();
  finish_generation();
}

void Evolution::restore(EvolutionState state) {
  settings_.batch = objective_->batch_size();
  // Under restarts the population is the run's: the strategy checks it.
  const std::size_t P = settings_.restarts > 0 ? state.errors.size() : settings_.population;
  const std::size_t G = net_.num_params();
  if (state.generation < 0)
    throw bad("the state's generation must be >= 0, got " + std::to_string(state.generation));
  if (state.genomes.size() != P * G)
    throw bad("the state holds " + std::to_string(state.genomes.size()) +
              " genome values, expected population x parameters = " + std::to_string(P) +
              " x " + std::to_string(G));
  if (state.errors.size() != P || state.sigmas.size() != P)
    throw bad("the state's errors and sigmas must hold one value per agent (" +
              std::to_string(P) + ")");
  if (state.history.size() != static_cast<std::size_t>(state.generation) + 1)
    throw bad("the state's history must hold generation + 1 = " +
              std::to_string(state.generation + 1) + " values, got " +
              std::to_string(state.history.size()));
  StrategyState saved{state.generation,     std::move(state.genomes), std::move(state.errors),
                      std::move(state.sigmas), state.sigma,           std::move(state.strategy)};
  strategy_ = make_strategy(net_, settings_, evaluator_.threads(), &saved);
  history_ = std::move(state.history);
  evaluations_ = state.evaluations;
  objective_->select(state.generation);  // the current generation's samples, for best_metric()
  best_ever_ = history_[0];
  improved_at_ = 0;
  for (std::size_t g = 1; g < history_.size(); ++g)
    if (history_[g] < best_ever_) best_ever_ = history_[g], improved_at_ = static_cast<long>(g);
  if (baldwinian()) {  // learning is deterministic: the best learns again what it learned
    best_learned_.resize(G);
    learner_->learn(genome(best_index()), 1, objective_->batch(), best_learned_.data());
  }
}

EvolutionState Evolution::state() const {
  StrategyState g = strategy_->state();
  EvolutionState s;
  s.generation = g.generation;
  s.genomes = std::move(g.genomes);
  s.errors = std::move(g.fitness);
  s.sigmas = std::move(g.sigmas);
  s.sigma = g.sigma;
  s.history = history_;
  s.evaluations = evaluations_;
  s.strategy = std::move(g.own);
  return s;
}

void Evolution::finish_generation() {
  history_.push_back(best_error());
  if (best_error() < best_ever_ || history_.size() == 1)
    best_ever_ = best_error(), improved_at_ = generation();
}

void Evolution::measure(std::size_t first) {
  const std::size_t P = strategy_->population(), G = strategy_->num_params();
  const float* genomes = strategy_->genomes() + first * G;
  fitness_.resize(P);  // a restart's run may be larger
  if (learner_) {
    learned_.resize((P - first) * G);
    learner_->learn(genomes, P - first, objective_->batch(), learned_.data());
    genomes = learned_.data();
    if (!baldwinian()) strategy_->replace_genomes(genomes, first);
  }
  objective_->fitness(evaluator_, genomes, P - first, fitness_.data());
  evaluations_ += (P - first) * objective_->samples_per_generation();
  strategy_->tell(fitness_.data(), first);
  // A best among the agents not measured is the last generation's best (the first elite),
  // whose learned weights are kept.
  const std::size_t best = best_index();
  if (baldwinian() && best >= first)
    best_learned_.assign(&learned_[(best - first) * G], &learned_[(best - first + 1) * G]);
}

void Evolution::step() {
  std::size_t first = strategy_->ask();
  if (objective_->select(generation())) first = 0;  // new samples: measure every agent again
  measure(first);
  finish_generation();
}

double Evolution::best_metric() {
  if (metric_generation_ != generation()) {
    metric_ = objective_->metric(evaluator_, best_genome(), best_error());
    metric_generation_ = generation();
  }
  return metric_;
}

Measure Evolution::evaluate_best_on_all_images() {
  return objective_->measure_all(evaluator_, best_genome());
}

Advanced Evolution::advance(const StopConditions& stop) { return advance_until(*this, stop); }

long Evolution::advance(long max_generations, double max_seconds, double target_error) {
  StopConditions stop;
  stop.max_generations = max_generations;
  stop.max_seconds = max_seconds;
  stop.target_error = target_error;
  return advance(stop).generations;
}

}  // namespace evoae
