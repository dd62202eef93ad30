// CMA-ES with a full covariance matrix, as in Hansen's tutorial (The CMA Evolution Strategy:
// A Tutorial, 2016, arXiv:1604.00772), and the learning rates it shares with sep-CMA-ES
// (sep_cma_es.h). Each generation: y_k = B D z_k, x_k = m + sigma y_k (C = B D^2 B^T);
// then, over the mu = P / 2 best with the log-linear weights w:
//   m     += sigma <y>_w                                   (c_m = 1)
//   p_s    = (1 - c_s) p_s + sqrt(c_s (2 - c_s) mu_eff) B <z>_w        (CSA's path)
//   p_c    = (1 - c_c) p_c + h_s sqrt(c_c (2 - c_c) mu_eff) <y>_w
//   C      = (1 - c_1 - c_mu + (1 - h_s) c_1 c_c (2 - c_c)) C + c_1 p_c p_c^T
//            + c_mu sum_i w_i y_i y_i^T                         (rank-one + rank-mu)
//   sigma *= exp(c_s / d_s (|p_s| / E|N(0, I)| - 1))
// with the tutorial's defaults (Table 1, positive weights only: no active update):
// c_s = (mu_eff + 2) / (n + mu_eff + 5), d_s = 1 + 2 max(0, sqrt((mu_eff - 1) / (n + 1)) - 1)
// + c_s, c_c = (4 + mu_eff / n) / (n + 4 + 2 mu_eff / n), c_1 = 2 / ((n + 1.3)^2 + mu_eff),
// c_mu = min(1 - c_1, 2 (mu_eff - 2 + 1 / mu_eff) / ((n + 2)^2 + mu_eff)), h_s = 1 unless
// |p_s| / sqrt(1 - (1 - c_s)^(2 (g + 1))) >= (1.4 + 2 / (n + 1)) E|N(0, I)|. B and D come from
// Eigen's SelfAdjointEigenSolver every max(1, floor(1 / (10 n (c_1 + c_mu)))) generations
// (the tutorial's lazy update: O(n^2) per sample, O(n^3) amortised over those generations).
// With restarts (IPOP, restarts.h), g counts the generations of the current run.
#pragma once

#include "evoae/evo/search_distribution.h"

namespace evoae {

struct CmaParameters {
  std::vector<double> weights;  // (mu), summing to 1
  double mu_eff, c_s, d_s, c_c, c_1, c_mu, chi_n;  // chi_n: E|N(0, I)|

  // What the covariance update takes from the step-size path after `updates` updates of
  // it: the rate of p_c's new step and the factor kept of the old C, both depending on h_s
  // (false while |p_s| is too long: then p_c stalls).
  struct PathUpdate {
    double a_c, keep;
  };
  PathUpdate path_update(double norm_s, double updates, std::size_t n) const;
};
// The defaults above; sep-CMA-ES multiplies c_1 and c_mu by (n + 2) / 3.
CmaParameters cma_parameters(std::size_t n, std::size_t population, bool separable);

class CmaEs : public SearchDistribution {
 public:
  CmaEs(const EvolutionSettings& settings, std::size_t num_params, int threads);
  CmaEs(const EvolutionSettings& settings, std::size_t num_params, int threads,
        StrategyState state);

 private:
  void sample(std::size_t agent, const double* z, double* x) override;
  void update() override;
  std::vector<double> own_state() const override;
  bool heavy_sampling() const override { return true; }
  DistributionSpread spread() const override;
  void fit_population() override;
  void reset_shape() override;
  void decompose();

  CmaParameters par_;
  long eigen_every_;
  long eigen_generation_ = 0;    // the number of updates when C gave B and D
  std::vector<double> p_s_, p_c_, D_;  // (n)
  std::vector<double> C_, B_;    // (n, n), column-major: B's columns are C's eigenvectors
  std::vector<double> y_;        // (P, n): this generation's y_k
};

}  // namespace evoae
