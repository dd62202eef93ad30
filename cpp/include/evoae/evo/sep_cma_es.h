// sep-CMA-ES (Ros & Hansen 2008, A Simple Modification in CMA-ES Achieving Linear Time and
// Space Complexity): CMA-ES (cma_es.h) with a diagonal covariance C = diag(c), so sampling
// and updates cost O(n) per agent and the state is O(n): the strategy for many parameters.
// y_k = sqrt(c) * z_k; the paths, weights, CSA and rank-one + rank-mu updates are CMA-ES's,
// restricted to the diagonal, with c_1 and c_mu multiplied by (n + 2) / 3 (the paper's faster
// learning of n variances instead of n^2 / 2 covariances); C^(-1/2) <y>_w is <z>_w.
#pragma once

#include "evoae/evo/cma_es.h"

namespace evoae {

class SepCmaEs : public SearchDistribution {
 public:
  SepCmaEs(const EvolutionSettings& settings, std::size_t num_params, int threads);
  SepCmaEs(const EvolutionSettings& settings, std::size_t num_params, int threads,
           StrategyState state);

 private:
  void sample(std::size_t agent, const double* z, double* x) override;
  void update() override;
  std::vector<double> own_state() const override;
  DistributionSpread spread() const override;
  void fit_population() override;
  void reset_shape() override;

  CmaParameters par_;
  std::vector<double> p_s_, p_c_, c_;  // (n): the paths and the diagonal of C
};

}  // namespace evoae
