// The evolution loop; see evolution.h for the rules and operators.cpp for the operators.
#include "evoae/evolution.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>

#include "evoae/rng.h"

namespace evoae {
namespace {

std::invalid_argument bad(const std::string& what) { return std::invalid_argument(what); }
std::string str(double x) {
  std::string s = std::to_string(x);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

void Evolution::check_and_resolve_settings() {
  EvolutionSettings& s = settings_;
  const std::size_t G = net_.num_params();
  const std::string P = std::to_string(s.population);
  if (s.population < 1) throw bad("population must be >= 1, got " + P);
  if (s.mutations < 0)
    throw bad("mutations must be >= 0, got " + std::to_string(s.mutations));
  const bool uses_k = s.mutation != Mutation::GaussianAll;
  if (G == 0 && ((uses_k && (s.mutations > 0 || s.mutations_end > 0)) || !uses_k))
    throw bad("the network has no parameters to mutate");
  if (num_images_ < 1) throw bad("at least one image is needed");
  if (!(net_.input_shape() == net_.output_shape()))
    throw bad("an autoencoder must map its input to the same shape: input " +
              net_.input_shape().str() + ", output " + net_.output_shape().str());
  if (images_.size() != num_images_ * net_.input_shape().size())
    throw bad("images hold " + std::to_string(images_.size()) + " values, expected " +
              std::to_string(num_images_) + " x " + std::to_string(net_.input_shape().size()));

  // Step size and its control.
  if (!(s.sigma > 0.0) || !std::isfinite(s.sigma))
    throw bad("sigma must be > 0, got " + str(s.sigma));
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
    if (s.sigma_end < 0.0 || !std::isfinite(s.sigma_end))
      throw bad("sigma_end must be > 0, got " + str(s.sigma_end));
    if (s.sigma_end == 0.0) s.sigma_end = s.sigma;
    if (s.mutations_end < 0) s.mutations_end = s.mutations;
  }
  if (s.step_control != StepControl::SelfAdaptive && s.tau != 0.0)
    throw bad("tau needs step control 'self-adaptive', not '" +
              std::string(name(s.step_control)) + "'");
  if (s.step_control == StepControl::SelfAdaptive) {
    if (s.tau < 0.0 || !std::isfinite(s.tau)) throw bad("tau must be >= 0, got " + str(s.tau));
    if (s.tau == 0.0) s.tau = default_tau(G);
  }

  // Selection, elites, crossover.
  if (s.elites < 0) throw bad("elites must be >= 0, got " + std::to_string(s.elites));
  if (s.population > 1 && s.elites >= s.population)
    throw bad("elites must be < population (" + P + "), got " + std::to_string(s.elites) +
              ": no agent would be left to make children");
  if (s.population == 1 && s.elites > 1)
    throw bad("elites must be <= population (1), got " + std::to_string(s.elites));
  const bool truncation = s.selection == Selection::Truncation;
  if (s.truncation < 0) throw bad("truncation must be >= 1, got " + std::to_string(s.truncation));
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
  if (s.tournament_size < 0)
    throw bad("tournament_size must be >= 1, got " + std::to_string(s.tournament_size));
  if (!tournament && s.tournament_size != 0)
    throw bad("tournament_size needs selection 'tournament', not '" +
              std::string(name(s.selection)) + "'");
  if (tournament && s.tournament_size == 0) s.tournament_size = 3;
  if (s.crossover != Crossover::None && s.selection == Selection::CopyBest)
    throw bad("crossover '" + std::string(name(s.crossover)) + "' with selection 'copy-best' "
              "crosses the best with itself: choose selection 'truncation' or 'tournament'");

  // Mini-batches.
  if (s.batch < 0) throw bad("batch must be >= 0, got " + std::to_string(s.batch));
  if (static_cast<std::size_t>(s.batch) > num_images_)
    throw bad("batch " + std::to_string(s.batch) + " exceeds the number of images (" +
              std::to_string(num_images_) + ")");
  if (static_cast<std::size_t>(s.batch) == num_images_) s.batch = 0;  // all of them
}

Evolution::Evolution(const Network& net, std::vector<float> images, std::size_t num_images,
                     EvolutionSettings settings, Unstarted)
    : net_(net),
      settings_(settings),
      images_(std::move(images)),
      num_images_(num_images),
      evaluator_(net_, settings.threads) {
  check_and_resolve_settings();
}

Evolution::Evolution(const Network& net, std::vector<float> images, std::size_t num_images,
                     EvolutionSettings settings)
    : Evolution(net, std::move(images), num_images, settings, Unstarted{}) {
  const std::size_t P = settings_.population, G = net_.num_params();
  genomes_.resize(P * G);
  for (std::size_t a = 0; a < P; ++a) {
    Rng rng(settings_.seed, RngPurpose::Init, 0, a);
    for (std::size_t i = 0; i < G; ++i) mutable_genome(a)[i] = rng.uniform_pm1();
  }
  sigma_ = settings_.sigma;
  sigmas_.assign(P, settings_.sigma);
  errors_.resize(P);
  choose_batch();
  evaluate(0, P);
  best_ever_ = errors_[0];  // finish_generation() sets it from the best
  finish_generation();
}

Evolution::Evolution(const Network& net, std::vector<float> images, std::size_t num_images,
                     EvolutionSettings settings, EvolutionState state)
    : Evolution(net, std::move(images), num_images, settings, Unstarted{}) {
  const std::size_t P = settings_.population, G = net_.num_params();
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
  genomes_ = std::move(state.genomes);
  errors_ = std::move(state.errors);
  sigmas_ = std::move(state.sigmas);
  sigma_ = state.sigma;
  history_ = std::move(state.history);
  generation_ = state.generation;
  evaluations_ = state.evaluations;
  choose_batch();  // the current generation's images, for best_mae()
  best_ = std::min_element(errors_.begin(), errors_.end()) - errors_.begin();
  best_ever_ = history_[0];
  improved_at_ = 0;
  for (std::size_t g = 1; g < history_.size(); ++g)
    if (history_[g] < best_ever_) best_ever_ = history_[g], improved_at_ = static_cast<long>(g);
}

EvolutionState Evolution::state() const {
  EvolutionState s;
  s.generation = generation_;
  s.genomes = genomes_;
  s.errors = errors_;
  s.sigmas = sigmas_;
  s.sigma = sigma_;
  s.history = history_;
  s.evaluations = evaluations_;
  return s;
}

void Evolution::choose_batch() {
  if (settings_.batch == 0) return;
  Rng rng(settings_.seed, RngPurpose::Batch, generation_, 0);
  batch_ = sample_batch(num_images_, settings_.batch, rng);
  const std::size_t N = net_.input_shape().size();
  batch_images_.resize(batch_.size() * N);
  for (std::size_t b = 0; b < batch_.size(); ++b)
    std::copy(&images_[batch_[b] * N], &images_[batch_[b] * N] + N, &batch_images_[b * N]);
}

void Evolution::evaluate(std::size_t first, std::size_t count) {
  if (count == 0) return;
  const std::size_t S = images_per_generation();
  const Fitness f = settings_.fitness;
  const ErrorSum kind = f == Fitness::AbsoluteSum ? ErrorSum::Absolute : ErrorSum::Squared;
  evaluator_.errors(genome(first), count, eval_images(), eval_images(), S, &errors_[first], kind);
  if (f != Fitness::AbsoluteSum) {
    const std::size_t values = S * net_.output_shape().size();
    for (std::size_t a = first; a < first + count; ++a)
      errors_[a] = fitness_from_sum(f, errors_[a], values);
  }
  evaluations_ += count * S;
}

void Evolution::finish_generation() {
  // std::min_element returns the first of equal minima: ties go to the lowest index.
  best_ = std::min_element(errors_.begin(), errors_.end()) - errors_.begin();
  history_.push_back(best_error());
  if (best_error() < best_ever_ || history_.size() == 1)
    best_ever_ = best_error(), improved_at_ = generation_;
}

std::size_t Evolution::mutation_count() const {
  if (settings_.step_control == StepControl::Schedule)
    return scheduled_count(settings_.mutations, settings_.mutations_end,
                           settings_.schedule_generations, generation_);
  return settings_.mutations;
}

double Evolution::shared_sigma() const {
  switch (settings_.step_control) {
    case StepControl::Schedule:
      return scheduled_sigma(settings_.sigma, settings_.sigma_end,
                             settings_.schedule_generations, generation_);
    case StepControl::OneFifth:
      return sigma_;
    default:
      return settings_.sigma;
  }
}

void Evolution::step() {
  const EvolutionSettings& s = settings_;
  const std::size_t P = s.population, G = net_.num_params();
  const std::size_t E = std::min<std::size_t>(s.elites, P);
  ++generation_;
  const std::vector<std::size_t> ranking = rank_agents(errors_);
  const std::size_t k = mutation_count();
  const double sigma = shared_sigma();
  if (s.mutation == Mutation::Original) {  // drawn once, shared by all children
    Rng index_rng(s.seed, RngPurpose::MutationIndices, generation_, 0);
    mutation_indices_.resize(k);
    for (std::size_t& i : mutation_indices_) i = index_rng.index(G);
  }

  next_genomes_.resize(P * G);
  next_errors_.resize(P);
  next_sigmas_.resize(P);
  parent_errors_.resize(P);
  for (std::size_t e = 0; e < E; ++e) {  // elites, in rank order
    const std::size_t from = ranking[e];
    std::copy(genome(from), genome(from) + G, &next_genomes_[e * G]);
    next_errors_[e] = errors_[from];
    next_sigmas_[e] = sigmas_[from];
  }
  // Children. Each draws only from its own streams, so the loop may run in any order; it is
  // parallel only where a child costs more than a copy and a few draws.
  const bool heavy = s.mutation == Mutation::GaussianAll || s.crossover != Crossover::None;
  const long first = static_cast<long>(E), end = static_cast<long>(P);
#pragma omp parallel for num_threads(evaluator_.threads()) schedule(static) if (heavy && end - first > 1)
  for (long a = first; a < end; ++a) {
    float* child = &next_genomes_[a * G];
    Rng select_rng(s.seed, RngPurpose::Selection, generation_, a);
    const std::size_t p1 =
        select_parent(s.selection, ranking, errors_, s.truncation, s.tournament_size, select_rng);
    if (s.crossover == Crossover::None) {
      std::copy(genome(p1), genome(p1) + G, child);
    } else {
      const std::size_t p2 = select_parent(s.selection, ranking, errors_, s.truncation,
                                           s.tournament_size, select_rng);
      Rng cross_rng(s.seed, RngPurpose::Crossover, generation_, a);
      if (s.crossover == Crossover::Uniform)
        crossover_uniform(genome(p1), genome(p2), child, G, cross_rng);
      else
        crossover_layers(net_, genome(p1), genome(p2), child, cross_rng);
    }
    parent_errors_[a] = errors_[p1];
    double child_sigma = sigma;
    if (s.step_control == StepControl::SelfAdaptive) {
      Rng step_rng(s.seed, RngPurpose::StepSize, generation_, a);
      child_sigma = self_adapt(sigmas_[p1], s.tau, step_rng);
    }
    next_sigmas_[a] = child_sigma;
    Rng value_rng(s.seed, RngPurpose::MutationValues, generation_, a);
    mutate(s.mutation, child, G, k, mutation_indices_.data(), static_cast<float>(child_sigma),
           value_rng);
  }
  genomes_.swap(next_genomes_);
  sigmas_.swap(next_sigmas_);

  if (s.batch > 0) {  // new images: every agent, elites too, is measured again
    choose_batch();
    evaluate(0, P);
  } else {
    std::copy(next_errors_.begin(), next_errors_.begin() + E, errors_.begin());
    evaluate(E, P - E);
  }
  if (s.step_control == StepControl::OneFifth) {
    std::size_t successes = 0;
    for (std::size_t a = E; a < P; ++a) successes += errors_[a] < parent_errors_[a];
    sigma_ = one_fifth_rule(sigma_, successes, P - E);
  }
  finish_generation();
}

double Evolution::best_mae() {
  const std::size_t values = images_per_generation() * net_.output_shape().size();
  if (settings_.fitness == Fitness::AbsoluteSum) return best_error() / values;
  if (mae_generation_ != generation_) {
    double sum = 0.0;
    evaluator_.errors(best_genome(), 1, eval_images(), eval_images(), images_per_generation(),
                      &sum, ErrorSum::Absolute);
    mae_ = sum / values;
    mae_generation_ = generation_;
  }
  return mae_;
}

FullEvaluation Evolution::evaluate_best_on_all_images() {
  const std::size_t values = num_images_ * net_.output_shape().size();
  double abs_sum = 0.0, squared_sum = 0.0;
  evaluator_.errors(best_genome(), 1, images_.data(), images_.data(), num_images_, &abs_sum,
                    ErrorSum::Absolute);
  if (settings_.fitness != Fitness::AbsoluteSum)
    evaluator_.errors(best_genome(), 1, images_.data(), images_.data(), num_images_,
                      &squared_sum, ErrorSum::Squared);
  const double error = settings_.fitness == Fitness::AbsoluteSum
                           ? abs_sum
                           : fitness_from_sum(settings_.fitness, squared_sum, values);
  return {error, abs_sum / values};
}

Advanced Evolution::advance(const StopConditions& stop) {
  const auto start = std::chrono::steady_clock::now();
  long done = 0;
  while (true) {
    if (done >= stop.max_generations) return {done, StopReason::Generations};
    if (best_error() <= stop.target_error) return {done, StopReason::Target};
    if (stop.target_mae >= 0.0 && best_mae() <= stop.target_mae) return {done, StopReason::Target};
    if (stop.patience > 0 && generation_ - improved_at_ >= stop.patience)
      return {done, StopReason::Patience};
    step();
    ++done;
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    if (elapsed.count() >= stop.max_seconds) {
      // A stop that holds now is the better reason to give.
      if (done < stop.max_generations && best_error() > stop.target_error &&
          !(stop.target_mae >= 0.0 && best_mae() <= stop.target_mae) &&
          !(stop.patience > 0 && generation_ - improved_at_ >= stop.patience))
        return {done, StopReason::Seconds};
    }
  }
}

long Evolution::advance(long max_generations, double max_seconds, double target_error) {
  StopConditions stop;
  stop.max_generations = max_generations;
  stop.max_seconds = max_seconds;
  stop.target_error = target_error;
  return advance(stop).generations;
}

}  // namespace evoae
