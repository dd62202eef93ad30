// OpenAI-ES; see openai_es.h.
#include "evoae/evo/openai_es.h"

#include <cmath>

namespace evoae {

OpenAiEs::OpenAiEs(const EvolutionSettings& settings, std::size_t num_params, int threads)
    : SearchDistribution(settings, num_params, threads, /*antithetic=*/true),
      m_(num_params, 0.0), v_(num_params, 0.0) {
  start();
}

OpenAiEs::OpenAiEs(const EvolutionSettings& settings, std::size_t num_params, int threads,
                   StrategyState state)
    : OpenAiEs(settings, num_params, threads) {
  restore(std::move(state), 3 * n_ + 1);
  for (std::size_t i = 0; i < n_; ++i)
    mean_[i] = own_[i], m_[i] = own_[n_ + i], v_[i] = own_[2 * n_ + i];
  steps_ = static_cast<long>(own_[3 * n_]);
  own_.clear();
}

std::vector<double> OpenAiEs::own_state() const {
  std::vector<double> v(mean_);
  v.insert(v.end(), m_.begin(), m_.end());
  v.insert(v.end(), v_.begin(), v_.end());
  v.push_back(static_cast<double>(steps_));
  return v;
}

void OpenAiEs::sample(std::size_t, const double* z, double* x) {
  for (std::size_t i = 0; i < n_; ++i) x[i] = mean_[i] + sigma_ * z[i];
}

void OpenAiEs::update() {
  const double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  // Centred ranks: the k-th best gets (P - 1 - k) / (P - 1) - 0.5.
  std::vector<double> u(P_);
  for (std::size_t k = 0; k < P_; ++k)
    u[ranking_[k]] = static_cast<double>(P_ - 1 - k) / static_cast<double>(P_ - 1) - 0.5;
  ++steps_;
  const double t = static_cast<double>(steps_);
  const double step = settings_.learning_rate * std::sqrt(1.0 - std::pow(beta2, t)) /
                      (1.0 - std::pow(beta1, t));
  for (std::size_t i = 0; i < n_; ++i) {
    double g = 0.0;
    for (std::size_t a = 0; a < P_; ++a) g += u[a] * draws(a)[i];
    const double loss_grad = -g / static_cast<double>(P_) + settings_.weight_decay * mean_[i];
    m_[i] = beta1 * m_[i] + (1.0 - beta1) * loss_grad;
    v_[i] = beta2 * v_[i] + (1.0 - beta2) * loss_grad * loss_grad;
    mean_[i] -= step * m_[i] / (std::sqrt(v_[i]) + epsilon);
  }
}

}  // namespace evoae
