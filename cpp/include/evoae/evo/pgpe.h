// PGPE, policy gradients with parameter-based exploration (Sehnke et al. 2010, Parameter-
// exploring policy gradients), with the ClipUp optimiser (Toklu, Liskowski & Srivastava 2020,
// ClipUp: A Simple and Powerful Optimizer for Distribution-based Policy Evolution). A Gaussian
// with mean m and one sigma_i per parameter, sampled in symmetric pairs x = m +- eps_k,
// eps_k = sigma * z_k (agents 2k and 2k + 1; the population must be even). With centred ranks
// u in [-0.5, 0.5] (the best +0.5) and K pairs:
//   g_m = sum_k eps_k (u+_k - u-_k) / (2 K)
//   g_s = sum_k ((u+_k + u-_k) / 2) (eps_k^2 - sigma^2) / sigma / K   (baseline: the mean, 0)
// ClipUp moves the mean: v = 0.9 v + alpha g_m / |g_m|, v clipped to |v| <= v_max = 2 alpha
// (the paper's alpha = v_max / 2), m += v; sigma += 0.1 g_s, each sigma_i changing by at most
// 20% a generation (EvoTorch's PGPE defaults). alpha is learning_rate (default 0.15, evoae's
// choice: ClipUp's steps are in the L2 norm of the whole genome, so a step moves each of the
// paper's network's 1,397 weights by about 0.15 / sqrt(1397) = 0.004); the mean's steps keep
// that size, so PGPE settles at alpha's scale instead of converging like CMA-ES.
#pragma once

#include "evoae/evo/search_distribution.h"

namespace evoae {

class Pgpe : public SearchDistribution {
 public:
  Pgpe(const EvolutionSettings& settings, std::size_t num_params, int threads);
  Pgpe(const EvolutionSettings& settings, std::size_t num_params, int threads,
       StrategyState state);

 private:
  void sample(std::size_t agent, const double* z, double* x) override;
  void update() override;
  std::vector<double> own_state() const override;

  std::vector<double> s_;         // (n): the standard deviations
  std::vector<double> velocity_;  // (n): ClipUp's
};

}  // namespace evoae
