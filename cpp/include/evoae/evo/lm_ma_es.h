// LM-MA-ES, the limited-memory matrix adaptation evolution strategy (Loshchilov, Glasmachers &
// Beyer 2019, Large Scale Black-Box Optimization by Limited-Memory Matrix Adaptation): CMA-ES's
// ideas at O(m n) per sample and O(m n) memory, for networks of 10^4-10^6 weights. m = 4 +
// floor(3 ln n) direction vectors M_j stand in for the covariance matrix. Each generation
//   d_k = z_k, then for j < min(t, m): d_k = (1 - c_d,j) d_k + c_d,j M_j (M_j . d_k)
//   x_k = m + sigma d_k;  then over the mu = P / 2 best with the log-linear weights w:
//   mean += sigma <d>_w
//   s     = (1 - c_s) s + sqrt(mu_eff c_s (2 - c_s)) <z>_w
//   M_j   = (1 - c_c,j) M_j + sqrt(mu_eff c_c,j (2 - c_c,j)) <z>_w
//   sigma *= exp(c_s / 2 (|s|^2 / n - 1))
// with the paper's c_s = 2 P / n, c_d,j = 1 / (1.5^j n), c_c,j = P / (4^j n) (j from 0) and t
// the number of updates so far. The paper's rates assume n > 2 P; evoae caps c_s and c_c,j at
// 1 where they would exceed it (small n).
#pragma once

#include "evoae/evo/search_distribution.h"

namespace evoae {

class LmMaEs : public SearchDistribution {
 public:
  LmMaEs(const EvolutionSettings& settings, std::size_t num_params, int threads);
  LmMaEs(const EvolutionSettings& settings, std::size_t num_params, int threads,
         StrategyState state);

 private:
  void sample(std::size_t agent, const double* z, double* x) override;
  void update() override;
  std::vector<double> own_state() const override;
  bool heavy_sampling() const override { return true; }

  std::vector<double> weights_;
  double mu_eff_, c_s_;
  std::vector<double> c_d_, c_c_;  // (m)
  std::vector<double> s_;          // (n): the evolution path of sigma
  std::vector<double> M_;          // (m, n): the direction vectors
  std::vector<double> d_;          // (P, n): this generation's directions
};

}  // namespace evoae
