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
      z_(P_ * num_params) {
  Rng rng(settings_.seed, RngPurpose::Init, 0, 0);
  for (double& m : mean_) m = rng.uniform_pm1();
}

void SearchDistribution::start() { sample_generation(); }

void SearchDistribution::restore(StrategyState state, std::size_t own_size) {
  if (state.own.size() != own_size)
    throw std::invalid_argument("the state of strategy '" + std::string(name(settings_.strategy)) +
                                "' holds " + std::to_string(state.own.size()) +
                                " values, expected " + std::to_string(own_size));
  generation_ = state.generation;
  genomes_ = std::move(state.genomes);
  fitness_ = std::move(state.fitness);
  sigmas_ = std::move(state.sigmas);
  sigma_ = state.sigma;
  own_ = std::move(state.own);
  best_ = std::min_element(fitness_.begin(), fitness_.end()) - fitness_.begin();
}

StrategyState SearchDistribution::state() const {
  return {generation_, genomes_, fitness_, sigmas_, sigma_, own_state()};
}

void SearchDistribution::sample_generation() {
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
