// IPOP restarts (Auger & Hansen 2005, A Restart CMA Evolution Strategy With Increasing
// Population Size) for CMA-ES and sep-CMA-ES: when a run stalls, the strategy starts a new
// run from a new U(-1, 1) mean with the initial sigma, C = I, paths 0 and restart_growth
// times the population, up to `restarts` times (search_distribution.h keeps the runs).
// A run stalls when one of these termination criteria of Hansen's tutorial (The CMA Evolution
// Strategy: A Tutorial, 2016, Appendix B.3) holds, with its defaults:
//   TolFun         the best fitness of the last 10 + ceil(30 n / lambda) generations and every
//                  fitness of the current one lie within a range below 1e-12
//   TolX           every sigma sqrt(C_ii) and every sigma |p_c,i| is below 1e-12 sigma_0
//   NoEffectAxis   (full covariance) adding 0.1 sigma sqrt(d_i) b_i, the principal axis
//                  i = generation mod n, does not change the mean
//   NoEffectCoord  adding 0.2 sigma sqrt(C_jj) to coordinate j does not change the mean, for
//                  some j
//   ConditionCov   the condition number of C exceeds 1e14
//   Stagnation     over the last 20% of the run's generations, but at least
//                  120 + 30 n / lambda and at most 20,000, the median of the most recent 30% of
//                  the generations' best fitness and of their median fitness are both no better
//                  than the medians of the first 30%
// The mean is kept in double, as the tutorial's; once the steps fall below the float32
// precision of the genomes every sample measures the same, and TolFun ends the run.
#pragma once

#include <cstddef>
#include <vector>

namespace evoae {

// What the distribution criteria read from a strategy after its update.
struct DistributionSpread {
  const std::vector<double>& mean;
  double sigma;
  std::vector<double> variances;  // C_ii
  const std::vector<double>& path;  // p_c
  double condition;               // of C: its largest eigenvalue over its smallest
  std::vector<double> axis;       // sqrt(d_i) b_i of the axis NoEffectAxis tries; empty: none
};

// The criterion among TolX, NoEffectAxis, NoEffectCoord and ConditionCov that holds (the
// first, in that order), or nullptr. sigma0: the initial step size.
const char* distribution_stall(const DistributionSpread& spread, double sigma0);

// A run's best and median fitness per generation, for TolFun and Stagnation, of a run of
// lambda agents on n parameters.
class RunHistory {
 public:
  RunHistory(std::size_t n, std::size_t lambda);

  void add(double best, double median);
  // TolFun, given the current generation's fitness (whose best was the last added).
  bool tol_fun(const std::vector<double>& fitness) const;
  bool stagnation() const;

  // [generations, kept, best..., median...]; read() takes them back from [v, end) and
  // returns where they ended, or throws std::invalid_argument.
  void write(std::vector<double>& out) const;
  const double* read(const double* v, const double* end);

 private:
  std::size_t tol_fun_span_;  // 10 + ceil(30 n / lambda) generations
  long stagnation_min_;       // ceil(120 + 30 n / lambda) generations
  std::size_t keep_;          // the generations kept: max(tol_fun_span_, 20,000)
  long generations_ = 0;      // in this run
  std::vector<double> best_, median_;  // of the last min(generations_, keep_)
};

// The population of run r (0: the first): round(population_0 * growth^r).
std::size_t run_population(std::size_t population_0, double growth, int run);

}  // namespace evoae
