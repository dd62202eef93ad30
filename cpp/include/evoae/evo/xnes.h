// xNES, the exponential natural evolution strategy (Glasmachers, Schaul, Yi, Wierstra &
// Schmidhuber 2010, Exponential Natural Evolution Strategies): a Gaussian N(m, sigma^2 B B^T)
// with det B = 1, moved along the natural gradient in exponential coordinates. x_k = m +
// sigma B z_k; with SNES's rank utilities u_k (snes.h) of the k-th best,
//   G_d = sum u_k z_k,  G_M = sum u_k (z_k z_k^T - I),  G_s = tr(G_M) / n,  G_B = G_M - G_s I
//   m += eta_m sigma B G_d,  sigma *= exp(eta_s / 2 G_s),  B = B expm(eta_B / 2 G_B)
// with the paper's eta_m = 1, eta_s = eta_B = 3 (3 + ln n) / (5 n sqrt n). expm of the
// symmetric G_B comes from Eigen's SelfAdjointEigenSolver: O(n^3) each generation, so xNES
// suits tens to a few hundred parameters, not the paper's network.
#pragma once

#include "evoae/evo/search_distribution.h"

namespace evoae {

class Xnes : public SearchDistribution {
 public:
  Xnes(const EvolutionSettings& settings, std::size_t num_params, int threads);
  Xnes(const EvolutionSettings& settings, std::size_t num_params, int threads,
       StrategyState state);

 private:
  void sample(std::size_t agent, const double* z, double* x) override;
  void update() override;
  std::vector<double> own_state() const override;
  bool heavy_sampling() const override { return true; }

  std::vector<double> utilities_;
  double eta_;               // eta_s = eta_B
  std::vector<double> B_;    // (n, n), column-major, det 1
};

}  // namespace evoae
