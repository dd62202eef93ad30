// SNES, the separable natural evolution strategy (Schaul, Glasmachers & Schmidhuber 2011,
// High Dimensions and Heavy Tails for Natural Evolution Strategies): a Gaussian with a mean m
// and one standard deviation s_i per parameter. x_k = m + s * z_k; with the rank-based
// utilities u_k = max(0, ln(P / 2 + 1) - ln k) / sum_j max(0, ln(P / 2 + 1) - ln j) - 1 / P of
// the k-th best (fitness shaping), the natural gradient steps are
//   m += eta_m s * sum_k u_k z_k,   s *= exp(eta_s / 2 * sum_k u_k (z_k^2 - 1))
// with the paper's learning rates eta_m = 1, eta_s = (3 + ln n) / (5 sqrt n). s starts at
// sigma for every parameter; sigma() reports their mean.
#pragma once

#include "evoae/evo/search_distribution.h"

namespace evoae {

class Snes : public SearchDistribution {
 public:
  Snes(const EvolutionSettings& settings, std::size_t num_params, int threads);
  Snes(const EvolutionSettings& settings, std::size_t num_params, int threads,
       StrategyState state);

 private:
  void sample(std::size_t agent, const double* z, double* x) override;
  void update() override;
  std::vector<double> own_state() const override;

  std::vector<double> s_;          // (n): the standard deviations
  std::vector<double> utilities_;  // (P): of the k-th best
  double eta_s_;
};

// The utilities above, best first: they sum to 0 and the worse half gets -1 / P.
std::vector<double> nes_utilities(std::size_t population);

}  // namespace evoae
