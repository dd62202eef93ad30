// SNES; see snes.h.
#include "evoae/evo/snes.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace evoae {

std::vector<double> nes_utilities(std::size_t population) {
  const double P = static_cast<double>(population);
  std::vector<double> u(population);
  for (std::size_t k = 0; k < population; ++k)
    u[k] = std::max(0.0, std::log(P / 2.0 + 1.0) - std::log(static_cast<double>(k + 1)));
  const double sum = std::accumulate(u.begin(), u.end(), 0.0);
  for (double& x : u) x = x / sum - 1.0 / P;
  return u;
}

Snes::Snes(const EvolutionSettings& settings, std::size_t num_params, int threads)
    : SearchDistribution(settings, num_params, threads), s_(num_params, settings.sigma),
      utilities_(nes_utilities(settings.population)) {
  const double n = static_cast<double>(num_params);
  eta_s_ = (3.0 + std::log(n)) / (5.0 * std::sqrt(n));
  start();
}

Snes::Snes(const EvolutionSettings& settings, std::size_t num_params, int threads,
           StrategyState state)
    : Snes(settings, num_params, threads) {
  restore(std::move(state), 2 * n_);
  std::copy(own_.begin(), own_.begin() + n_, mean_.begin());
  std::copy(own_.begin() + n_, own_.end(), s_.begin());
  own_.clear();
}

std::vector<double> Snes::own_state() const {
  std::vector<double> v(mean_);
  v.insert(v.end(), s_.begin(), s_.end());
  return v;
}

void Snes::sample(std::size_t, const double* z, double* x) {
  for (std::size_t i = 0; i < n_; ++i) x[i] = mean_[i] + s_[i] * z[i];
}

void Snes::update() {
  for (std::size_t i = 0; i < n_; ++i) {
    double grad_m = 0.0, grad_s = 0.0;
    for (std::size_t k = 0; k < P_; ++k) {
      const double z = draws(ranking_[k])[i];
      grad_m += utilities_[k] * z;
      grad_s += utilities_[k] * (z * z - 1.0);
    }
    mean_[i] += s_[i] * grad_m;  // eta_m = 1
    s_[i] *= std::exp(0.5 * eta_s_ * grad_s);
  }
  sigma_ = std::accumulate(s_.begin(), s_.end(), 0.0) / static_cast<double>(n_);
}

}  // namespace evoae
