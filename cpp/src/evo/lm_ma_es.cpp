// LM-MA-ES; see lm_ma_es.h.
#include "evoae/evo/lm_ma_es.h"

#include <algorithm>
#include <cmath>

namespace evoae {

LmMaEs::LmMaEs(const EvolutionSettings& settings, std::size_t num_params, int threads)
    : SearchDistribution(settings, num_params, threads),
      weights_(recombination_weights(settings.population)), s_(num_params, 0.0),
      d_(settings.population * num_params) {
  const double n = static_cast<double>(num_params), P = static_cast<double>(settings.population);
  double sum_sq = 0.0;
  for (double w : weights_) sum_sq += w * w;
  mu_eff_ = 1.0 / sum_sq;
  c_s_ = std::min(1.0, 2.0 * P / n);
  const std::size_t m = 4 + static_cast<std::size_t>(3.0 * std::log(n));
  for (std::size_t j = 0; j < m; ++j) {
    c_d_.push_back(1.0 / (std::pow(1.5, double(j)) * n));
    c_c_.push_back(std::min(1.0, P / (std::pow(4.0, double(j)) * n)));
  }
  M_.assign(m * num_params, 0.0);
  start();
}

LmMaEs::LmMaEs(const EvolutionSettings& settings, std::size_t num_params, int threads,
               StrategyState state)
    : LmMaEs(settings, num_params, threads) {
  restore(std::move(state), 2 * n_ + M_.size());
  const double* v = own_.data();
  for (std::vector<double>* part : {&mean_, &s_, &M_}) {
    std::copy(v, v + part->size(), part->begin());
    v += part->size();
  }
  own_.clear();
}

std::vector<double> LmMaEs::own_state() const {
  std::vector<double> v;
  for (const std::vector<double>* part : {&mean_, &s_, &M_})
    v.insert(v.end(), part->begin(), part->end());
  return v;
}

void LmMaEs::sample(std::size_t agent, const double* z, double* x) {
  double* d = &d_[agent * n_];
  std::copy(z, z + n_, d);
  // The first generations use only the directions learnt so far (t updates: t vectors).
  const std::size_t used =
      std::min<std::size_t>(static_cast<std::size_t>(generation_), c_d_.size());
  for (std::size_t j = 0; j < used; ++j) {
    const double* M = &M_[j * n_];
    double dot = 0.0;
    for (std::size_t i = 0; i < n_; ++i) dot += M[i] * d[i];
    const double keep = 1.0 - c_d_[j], along = c_d_[j] * dot;
    for (std::size_t i = 0; i < n_; ++i) d[i] = keep * d[i] + along * M[i];
  }
  for (std::size_t i = 0; i < n_; ++i) x[i] = mean_[i] + sigma_ * d[i];
}

void LmMaEs::update() {
  const std::size_t n = n_;
  std::vector<double> d_w(n, 0.0), z_w(n, 0.0);
  for (std::size_t k = 0; k < weights_.size(); ++k) {
    const double* d = &d_[ranking_[k] * n];
    const double* z = draws(ranking_[k]);
    for (std::size_t i = 0; i < n; ++i) {
      d_w[i] += weights_[k] * d[i];
      z_w[i] += weights_[k] * z[i];
    }
  }
  const double a_s = std::sqrt(mu_eff_ * c_s_ * (2.0 - c_s_));
  double norm_sq = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    mean_[i] += sigma_ * d_w[i];
    s_[i] = (1.0 - c_s_) * s_[i] + a_s * z_w[i];
    norm_sq += s_[i] * s_[i];
  }
  for (std::size_t j = 0; j < c_c_.size(); ++j) {
    const double a_c = std::sqrt(mu_eff_ * c_c_[j] * (2.0 - c_c_[j]));
    double* M = &M_[j * n];
    for (std::size_t i = 0; i < n; ++i) M[i] = (1.0 - c_c_[j]) * M[i] + a_c * z_w[i];
  }
  sigma_ *= std::exp(c_s_ / 2.0 * (norm_sq / static_cast<double>(n) - 1.0));
}

}  // namespace evoae
