// The evolution strategies' shared ask and tell; see search_distribution.h.
#include "evoae/evo/search_distribution.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "evoae/core/rng.h"
#include "evoae/evo/operators.h"

namespace evoae {

SearchDistribution::SearchDistribution(const EvolutionSettings& settings, std::size_t num_params,
                                       int threads, bool antithetic)
    : settings_(settings), P_(settings.population), n_(num_params), threads_(threads),
      antithetic_(antithetic), mean_(num_params), sigma_(settings.sigma),
      fitness_(P_, 0.0), sigmas_(P_, settings.sigma), genomes_(P_ * num_params),
      z_(P_ * num_params), history_(num_params, P_) {
  Rng rng(settings_.seed, RngPurpose::Init, 0, 0);
  for (double& m : mean_) m = rng.uniform_pm1();
}

void SearchDistribution::start() { sample_generation(); }

// Under restarts the own state ends with [restarts done, the run's first generation, the
// run's history]; the arrays are the current generation's, of the population of its run.
void SearchDistribution::restore(StrategyState state, std::size_t own_size) {
  const std::string strategy = name(settings_.strategy);
  const std::size_t trailer = settings_.restarts > 0 ? 4 : 0;  // the least it holds
  if (trailer ? state.own.size() < own_size + trailer : state.own.size() != own_size)
    throw std::invalid_argument("the state of strategy '" + strategy + "' holds " +
                                std::to_string(state.own.size()) + " values, expected " +
                                std::to_string(own_size) + (trailer ? " and its restarts" : ""));
  generation_ = state.generation;
  if (trailer) {
    const double* v = state.own.data() + own_size;
    const double* end = state.own.data() + state.own.size();
    // The first run starts at 0, a later one after a generation of the one before.
    const bool first = v[0] == 0 && v[1] == 0;
    const bool later = v[0] >= 1 && v[0] <= settings_.restarts && v[1] >= 1 &&
                       v[1] <= generation_ + 1.0;
    if (!(first || later) || v[0] != std::floor(v[0]) || v[1] != std::floor(v[1]))
      throw std::invalid_argument("the state of strategy '" + strategy +
                                  "' holds no valid restart count and run start");
    restarts_ = static_cast<int>(v[0]);
    run_start_ = static_cast<long>(v[1]);
    P_ = run_size(restarts_);
    history_ = RunHistory(n_, P_);
    if (history_.read(v + 2, end) != end)
      throw std::invalid_argument("the state of strategy '" + strategy +
                                  "' holds more values than its restarts");
    state.own.resize(own_size);
    fit_population();
  }
  // A run that just ended has not sampled the next: the arrays are still its last's.
  const std::size_t rows = run_start_ > generation_ ? run_size(restarts_ - 1) : P_;
  if (state.fitness.size() != rows || state.sigmas.size() != rows ||
      state.genomes.size() != rows * n_)
    throw std::invalid_argument("the state of strategy '" + strategy + "' holds " +
                                std::to_string(state.fitness.size()) + " agents, expected " +
                                std::to_string(rows) + " (its run's population)");
  genomes_ = std::move(state.genomes);
  fitness_ = std::move(state.fitness);
  sigmas_ = std::move(state.sigmas);
  sigma_ = state.sigma;
  own_ = std::move(state.own);
  best_ = std::min_element(fitness_.begin(), fitness_.end()) - fitness_.begin();
}

StrategyState SearchDistribution::state() const {
  std::vector<double> own = own_state();
  if (settings_.restarts > 0) {
    own.push_back(restarts_);
    own.push_back(static_cast<double>(run_start_));
    history_.write(own);
  }
  return {generation_, genomes_, fitness_, sigmas_, sigma_, std::move(own)};
}

std::size_t SearchDistribution::run_size(int run) const {
  return run_population(settings_.population, settings_.restart_growth, run);
}

DistributionSpread SearchDistribution::spread() const {
  throw std::logic_error("strategy '" + std::string(name(settings_.strategy)) +
                         "' does not restart");
}

void SearchDistribution::restart_if_stalled() {
  history_.add(fitness_[ranking_[0]], fitness_[ranking_[P_ / 2]]);
  if (history_.tol_fun(fitness_) || history_.stagnation() ||
      distribution_stall(spread(), settings_.sigma))
    restart();
}

// Auger & Hansen 2005: a new start in the initial region, the initial step size, a larger
// population.
void SearchDistribution::restart() {
  ++restarts_;
  run_start_ = generation_ + 1;
  P_ = run_size(restarts_);
  history_ = RunHistory(n_, P_);
  Rng rng(settings_.seed, RngPurpose::Init, static_cast<std::uint64_t>(run_start_), 0);
  for (double& m : mean_) m = rng.uniform_pm1();
  sigma_ = settings_.sigma;
  fit_population();
  reset_shape();
}

void SearchDistribution::sample_generation() {
  // A new run's first generation has its own population (no-ops otherwise).
  fitness_.resize(P_);
  sigmas_.resize(P_);
  genomes_.resize(P_ * n_);
  z_.resize(P_ * n_);
  const long P = static_cast<long>(P_);
#pragma omp parallel num_threads(threads_) if (heavy_sampling() && P > 1)
  {
    std::vector<double> x(n_);
#pragma omp for schedule(static)
    for (long a = 0; a < P; ++a) {
      double* z = &z_[a * n_];
      const bool mirror = antithetic_ && a % 2 == 1;
      Rng rng(settings_.seed, RngPurpose::Sample, generation_, antithetic_ ? a / 2 : a);
      for (std::size_t i = 0; i < n_; i += 2) {
        float z0, z1;
        rng.normal_pair(z0, z1);
        z[i] = mirror ? -z0 : z0;
        if (i + 1 < n_) z[i + 1] = mirror ? -z1 : z1;
      }
      sample(a, z, x.data());
      float* genome = &genomes_[a * n_];
      for (std::size_t i = 0; i < n_; ++i) genome[i] = static_cast<float>(x[i]);
    }
  }
  std::fill(sigmas_.begin(), sigmas_.end(), sigma_);
}

std::size_t SearchDistribution::ask() {
  ++generation_;
  sample_generation();
  return 0;
}

void SearchDistribution::tell(const double* fitness, std::size_t first) {
  std::copy(fitness, fitness + (P_ - first), fitness_.begin() + first);
  ranking_ = rank_agents(fitness_);
  best_ = ranking_[0];
  update();
  if (restarts_ < settings_.restarts) restart_if_stalled();
}

std::vector<double> recombination_weights(std::size_t population) {
  const std::size_t mu = std::max<std::size_t>(1, population / 2);
  std::vector<double> w(mu);
  double sum = 0.0;
  for (std::size_t i = 0; i < mu; ++i)
    sum += w[i] = std::log((population + 1) / 2.0) - std::log(static_cast<double>(i + 1));
  for (double& x : w) x /= sum;
  return w;
}

}  // namespace evoae
