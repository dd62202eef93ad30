// PGPE with ClipUp; see pgpe.h.
#include "evoae/evo/pgpe.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace evoae {

Pgpe::Pgpe(const EvolutionSettings& settings, std::size_t num_params, int threads)
    : SearchDistribution(settings, num_params, threads, /*antithetic=*/true),
      s_(num_params, settings.sigma), velocity_(num_params, 0.0) {
  start();
}

Pgpe::Pgpe(const EvolutionSettings& settings, std::size_t num_params, int threads,
           StrategyState state)
    : Pgpe(settings, num_params, threads) {
  restore(std::move(state), 3 * n_);
  const double* v = own_.data();
  for (std::vector<double>* part : {&mean_, &s_, &velocity_}) {
    std::copy(v, v + n_, part->begin());
    v += n_;
  }
  own_.clear();
}

std::vector<double> Pgpe::own_state() const {
  std::vector<double> v;
  for (const std::vector<double>* part : {&mean_, &s_, &velocity_})
    v.insert(v.end(), part->begin(), part->end());
  return v;
}

void Pgpe::sample(std::size_t, const double* z, double* x) {
  for (std::size_t i = 0; i < n_; ++i) x[i] = mean_[i] + s_[i] * z[i];
}

void Pgpe::update() {
  const double momentum = 0.9, sigma_rate = 0.1, sigma_max_change = 0.2;
  const double alpha = settings_.learning_rate, max_speed = 2.0 * alpha;
  std::vector<double> u(P_);  // centred ranks, the best +0.5
  for (std::size_t k = 0; k < P_; ++k)
    u[ranking_[k]] = static_cast<double>(P_ - 1 - k) / static_cast<double>(P_ - 1) - 0.5;
  const std::size_t K = P_ / 2;
  std::vector<double> g_m(n_, 0.0), g_s(n_, 0.0);
  for (std::size_t k = 0; k < K; ++k) {
    const double* z = draws(2 * k);  // agent 2k + 1 drew -z
    const double diff = (u[2 * k] - u[2 * k + 1]) / 2.0, avg = (u[2 * k] + u[2 * k + 1]) / 2.0;
    for (std::size_t i = 0; i < n_; ++i) {
      const double eps = s_[i] * z[i];
      g_m[i] += eps * diff;
      g_s[i] += avg * (eps * eps - s_[i] * s_[i]) / s_[i];
    }
  }
  double norm_sq = 0.0;
  for (double& g : g_m) {
    g /= static_cast<double>(K);
    norm_sq += g * g;
  }
  const double norm = std::sqrt(norm_sq);
  double speed_sq = 0.0;
  for (std::size_t i = 0; i < n_; ++i) {
    velocity_[i] = momentum * velocity_[i] + (norm > 0.0 ? alpha * g_m[i] / norm : 0.0);
    speed_sq += velocity_[i] * velocity_[i];
  }
  const double speed = std::sqrt(speed_sq);
  const double clip = speed > max_speed ? max_speed / speed : 1.0;
  for (std::size_t i = 0; i < n_; ++i) {
    velocity_[i] *= clip;
    mean_[i] += velocity_[i];
    const double change = sigma_rate * g_s[i] / static_cast<double>(K);
    const double limit = sigma_max_change * s_[i];
    s_[i] += std::clamp(change, -limit, limit);
  }
  sigma_ = std::accumulate(s_.begin(), s_.end(), 0.0) / static_cast<double>(n_);
}

}  // namespace evoae
