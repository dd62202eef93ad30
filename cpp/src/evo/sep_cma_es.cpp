// sep-CMA-ES; see sep_cma_es.h.
#include "evoae/evo/sep_cma_es.h"

#include <algorithm>
#include <cmath>

namespace evoae {

SepCmaEs::SepCmaEs(const EvolutionSettings& settings, std::size_t num_params, int threads)
    : SearchDistribution(settings, num_params, threads) {
  fit_population();
  reset_shape();
  start();
}

void SepCmaEs::fit_population() { par_ = cma_parameters(n_, P_, true); }

void SepCmaEs::reset_shape() {
  p_s_.assign(n_, 0.0);
  p_c_.assign(n_, 0.0);
  c_.assign(n_, 1.0);
}

DistributionSpread SepCmaEs::spread() const {
  const auto [lo, hi] = std::minmax_element(c_.begin(), c_.end());
  return {mean_, sigma_, c_, p_c_, *hi / *lo, {}};
}

SepCmaEs::SepCmaEs(const EvolutionSettings& settings, std::size_t num_params, int threads,
                   StrategyState state)
    : SepCmaEs(settings, num_params, threads) {
  const std::size_t n = n_;
  restore(std::move(state), 4 * n);
  const double* v = own_.data();
  for (std::vector<double>* part : {&mean_, &p_s_, &p_c_, &c_}) {
    std::copy(v, v + n, part->begin());
    v += n;
  }
  own_.clear();
}

std::vector<double> SepCmaEs::own_state() const {
  std::vector<double> v;
  for (const std::vector<double>* part : {&mean_, &p_s_, &p_c_, &c_})
    v.insert(v.end(), part->begin(), part->end());
  return v;
}

void SepCmaEs::sample(std::size_t, const double* z, double* x) {
  for (std::size_t i = 0; i < n_; ++i) x[i] = mean_[i] + sigma_ * std::sqrt(c_[i]) * z[i];
}

void SepCmaEs::update() {
  const CmaParameters& p = par_;
  const std::size_t n = n_, mu = p.weights.size();
  std::vector<double> z_w(n, 0.0);
  for (std::size_t k = 0; k < mu; ++k) {
    const double* z = draws(ranking_[k]);
    for (std::size_t i = 0; i < n; ++i) z_w[i] += p.weights[k] * z[i];
  }
  const double a_s = std::sqrt(p.c_s * (2.0 - p.c_s) * p.mu_eff);
  double norm_sq = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    mean_[i] += sigma_ * std::sqrt(c_[i]) * z_w[i];  // y_w = sqrt(c) z_w
    p_s_[i] = (1.0 - p.c_s) * p_s_[i] + a_s * z_w[i];
    norm_sq += p_s_[i] * p_s_[i];
  }
  const double norm_s = std::sqrt(norm_sq);
  const auto [a_c, keep] = p.path_update(norm_s, generation_ - run_start_ + 1.0, n);
  for (std::size_t i = 0; i < n; ++i) {
    const double sqrt_c = std::sqrt(c_[i]);
    p_c_[i] = (1.0 - p.c_c) * p_c_[i] + a_c * sqrt_c * z_w[i];
    double rank_mu = 0.0;  // sum_k w_k y_ki^2 with y = sqrt(c) z
    for (std::size_t k = 0; k < mu; ++k) {
      const double z = draws(ranking_[k])[i];
      rank_mu += p.weights[k] * z * z;
    }
    c_[i] = keep * c_[i] + p.c_1 * p_c_[i] * p_c_[i] + p.c_mu * c_[i] * rank_mu;
  }
  sigma_ *= std::exp(p.c_s / p.d_s * (norm_s / p.chi_n - 1.0));
}

}  // namespace evoae
