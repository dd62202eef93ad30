// CMA-ES with full covariance; see cma_es.h for the rules and where they come from.
#include "evoae/evo/cma_es.h"

#include <algorithm>
#include <cmath>

// GCC 12 takes Eigen's AVX-512 code in the eigensolver for reads of uninitialised values (a
// known false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Eigenvalues>
#pragma GCC diagnostic pop

namespace evoae {

CmaParameters cma_parameters(std::size_t n, std::size_t population, bool separable) {
  CmaParameters p;
  p.weights = recombination_weights(population);
  double sum_sq = 0.0;
  for (double w : p.weights) sum_sq += w * w;
  const double N = static_cast<double>(n), mu_eff = 1.0 / sum_sq;
  p.mu_eff = mu_eff;
  p.c_s = (mu_eff + 2.0) / (N + mu_eff + 5.0);
  p.d_s = 1.0 + 2.0 * std::max(0.0, std::sqrt((mu_eff - 1.0) / (N + 1.0)) - 1.0) + p.c_s;
  p.c_c = (4.0 + mu_eff / N) / (N + 4.0 + 2.0 * mu_eff / N);
  // Ros & Hansen 2008: a diagonal C has n parameters to learn, not n^2 / 2, so it may learn
  // (n + 2) / 3 times faster.
  const double faster = separable ? (N + 2.0) / 3.0 : 1.0;
  p.c_1 = std::min(1.0, faster * 2.0 / ((N + 1.3) * (N + 1.3) + mu_eff));
  p.c_mu = std::min(1.0 - p.c_1, faster * 2.0 * (mu_eff - 2.0 + 1.0 / mu_eff) /
                                     ((N + 2.0) * (N + 2.0) + mu_eff));
  p.chi_n = std::sqrt(N) * (1.0 - 1.0 / (4.0 * N) + 1.0 / (21.0 * N * N));
  return p;
}

CmaParameters::PathUpdate CmaParameters::path_update(double norm_s, double updates,
                                                     std::size_t n) const {
  const bool h_s = norm_s / std::sqrt(1.0 - std::pow(1.0 - c_s, 2.0 * updates)) <
                   (1.4 + 2.0 / (n + 1.0)) * chi_n;
  const double a_c = h_s ? std::sqrt(c_c * (2.0 - c_c) * mu_eff) : 0.0;
  const double keep = 1.0 - c_1 - c_mu + (h_s ? 0.0 : c_1 * c_c * (2.0 - c_c));
  return {a_c, keep};
}

CmaEs::CmaEs(const EvolutionSettings& settings, std::size_t num_params, int threads)
    : SearchDistribution(settings, num_params, threads) {
  fit_population();
  reset_shape();
  start();
}

void CmaEs::fit_population() {
  par_ = cma_parameters(n_, P_, false);
  y_.resize(P_ * n_);
  const double n = static_cast<double>(n_);
  eigen_every_ = std::max(1L, static_cast<long>(1.0 / (10.0 * n * (par_.c_1 + par_.c_mu))));
}

void CmaEs::reset_shape() {
  const std::size_t n = n_;
  p_s_.assign(n, 0.0);
  p_c_.assign(n, 0.0);
  D_.assign(n, 1.0);
  C_.assign(n * n, 0.0);
  B_.assign(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) C_[i * n + i] = B_[i * n + i] = 1.0;
  eigen_generation_ = run_start_;
}

DistributionSpread CmaEs::spread() const {
  const std::size_t n = n_;
  std::vector<double> variances(n), axis(n);
  for (std::size_t i = 0; i < n; ++i) variances[i] = C_[i * n + i];
  const std::size_t a = static_cast<std::size_t>(generation_) % n;  // the tutorial's g mod n
  for (std::size_t i = 0; i < n; ++i) axis[i] = D_[a] * B_[a * n + i];
  const auto [lo, hi] = std::minmax_element(D_.begin(), D_.end());
  return {mean_, sigma_, std::move(variances), p_c_, (*hi * *hi) / (*lo * *lo),
          std::move(axis)};
}

CmaEs::CmaEs(const EvolutionSettings& settings, std::size_t num_params, int threads,
             StrategyState state)
    : CmaEs(settings, num_params, threads) {
  const std::size_t n = n_;
  restore(std::move(state), 4 * n + 2 * n * n + 1);
  const double* v = own_.data();
  for (std::vector<double>* part : {&mean_, &p_s_, &p_c_, &D_, &C_, &B_}) {
    std::copy(v, v + part->size(), part->begin());
    v += part->size();
  }
  eigen_generation_ = static_cast<long>(*v);
  own_.clear();
}

std::vector<double> CmaEs::own_state() const {
  std::vector<double> v;
  for (const std::vector<double>* part : {&mean_, &p_s_, &p_c_, &D_, &C_, &B_})
    v.insert(v.end(), part->begin(), part->end());
  v.push_back(static_cast<double>(eigen_generation_));
  return v;
}

void CmaEs::sample(std::size_t agent, const double* z, double* x) {
  double* y = &y_[agent * n_];
  std::fill(y, y + n_, 0.0);
  for (std::size_t j = 0; j < n_; ++j) {  // y = B (D z), column by column
    const double dz = D_[j] * z[j];
    const double* b = &B_[j * n_];
    for (std::size_t i = 0; i < n_; ++i) y[i] += b[i] * dz;
  }
  for (std::size_t i = 0; i < n_; ++i) x[i] = mean_[i] + sigma_ * y[i];
}

void CmaEs::update() {
  const CmaParameters& p = par_;
  const std::size_t n = n_, mu = p.weights.size();
  std::vector<double> y_w(n, 0.0), z_w(n, 0.0), b_z(n, 0.0);
  for (std::size_t k = 0; k < mu; ++k) {
    const double* y = &y_[ranking_[k] * n];
    const double* z = draws(ranking_[k]);
    for (std::size_t i = 0; i < n; ++i) {
      y_w[i] += p.weights[k] * y[i];
      z_w[i] += p.weights[k] * z[i];
    }
  }
  for (std::size_t i = 0; i < n; ++i) mean_[i] += sigma_ * y_w[i];

  for (std::size_t j = 0; j < n; ++j)  // B <z>_w = C^(-1/2) <y>_w
    for (std::size_t i = 0; i < n; ++i) b_z[i] += B_[j * n + i] * z_w[j];
  const double a_s = std::sqrt(p.c_s * (2.0 - p.c_s) * p.mu_eff);
  double norm_sq = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    p_s_[i] = (1.0 - p.c_s) * p_s_[i] + a_s * b_z[i];
    norm_sq += p_s_[i] * p_s_[i];
  }
  const double norm_s = std::sqrt(norm_sq);
  const auto [a_c, keep] = p.path_update(norm_s, generation_ - run_start_ + 1.0, n);
  for (std::size_t i = 0; i < n; ++i) p_c_[i] = (1.0 - p.c_c) * p_c_[i] + a_c * y_w[i];

  // Column j of C is its own work: any thread count gives the same matrix.
  const long N = static_cast<long>(n);
#pragma omp parallel for num_threads(threads_) schedule(static) if (N >= 64)
  for (long j = 0; j < N; ++j) {
    double* c = &C_[j * n];
    const double pc_j = p.c_1 * p_c_[j];
    for (std::size_t i = 0; i < n; ++i) c[i] = keep * c[i] + pc_j * p_c_[i];
    for (std::size_t k = 0; k < mu; ++k) {
      const double* y = &y_[ranking_[k] * n];
      const double wy_j = p.c_mu * p.weights[k] * y[j];
      for (std::size_t i = 0; i < n; ++i) c[i] += wy_j * y[i];
    }
  }
  sigma_ *= std::exp(p.c_s / p.d_s * (norm_s / p.chi_n - 1.0));
  if (generation_ + 1 - eigen_generation_ >= eigen_every_) decompose();
}

void CmaEs::decompose() {
  using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>;  // column-major
  const Eigen::Index n = static_cast<Eigen::Index>(n_);
  // The solver reads C's lower triangle (rounding may leave the triangles a bit apart).
  Eigen::SelfAdjointEigenSolver<Matrix> eigen(Eigen::Map<const Matrix>(C_.data(), n, n));
  Eigen::Map<Matrix>(B_.data(), n, n) = eigen.eigenvectors();
  // Rounding can leave a tiny negative eigenvalue where C is nearly singular.
  for (Eigen::Index i = 0; i < n; ++i) D_[i] = std::sqrt(std::max(0.0, eigen.eigenvalues()[i]));
  eigen_generation_ = generation_ + 1;
}

}  // namespace evoae
