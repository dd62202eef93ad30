// xNES; see xnes.h.
#include "evoae/evo/xnes.h"

#include <cmath>

#include "evoae/evo/snes.h"

// GCC 12 takes Eigen's AVX-512 code in the eigensolver for reads of uninitialised values (a
// known false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Eigenvalues>
#pragma GCC diagnostic pop

namespace evoae {

Xnes::Xnes(const EvolutionSettings& settings, std::size_t num_params, int threads)
    : SearchDistribution(settings, num_params, threads),
      utilities_(nes_utilities(settings.population)), B_(num_params * num_params, 0.0) {
  const double n = static_cast<double>(num_params);
  eta_ = 3.0 * (3.0 + std::log(n)) / (5.0 * n * std::sqrt(n));
  for (std::size_t i = 0; i < num_params; ++i) B_[i * num_params + i] = 1.0;
  start();
}

Xnes::Xnes(const EvolutionSettings& settings, std::size_t num_params, int threads,
           StrategyState state)
    : Xnes(settings, num_params, threads) {
  restore(std::move(state), n_ + B_.size());
  std::copy(own_.begin(), own_.begin() + n_, mean_.begin());
  std::copy(own_.begin() + n_, own_.end(), B_.begin());
  own_.clear();
}

std::vector<double> Xnes::own_state() const {
  std::vector<double> v(mean_);
  v.insert(v.end(), B_.begin(), B_.end());
  return v;
}

void Xnes::sample(std::size_t, const double* z, double* x) {
  for (std::size_t i = 0; i < n_; ++i) x[i] = mean_[i];
  for (std::size_t j = 0; j < n_; ++j) {  // x += sigma B z, column by column
    const double sz = sigma_ * z[j];
    const double* b = &B_[j * n_];
    for (std::size_t i = 0; i < n_; ++i) x[i] += b[i] * sz;
  }
}

void Xnes::update() {
  using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>;  // column-major
  const Eigen::Index n = static_cast<Eigen::Index>(n_);
  Eigen::VectorXd G_d = Eigen::VectorXd::Zero(n);
  Matrix G_M = Matrix::Zero(n, n);
  for (std::size_t k = 0; k < P_; ++k) {
    const double u = utilities_[k];
    const Eigen::Map<const Eigen::VectorXd> z(draws(ranking_[k]), n);
    G_d += u * z;
    G_M.noalias() += u * z * z.transpose();
  }
  // The utilities sum to 0, so sum u_k I vanishes from G_M.
  const double G_s = G_M.trace() / static_cast<double>(n);
  Eigen::Map<Matrix> B(B_.data(), n, n);
  const Eigen::VectorXd step = sigma_ * (B * G_d);  // eta_m = 1
  for (Eigen::Index i = 0; i < n; ++i) mean_[i] += step[i];
  sigma_ *= std::exp(eta_ / 2.0 * G_s);
  const Matrix G_B = G_M - G_s * Matrix::Identity(n, n);
  Eigen::SelfAdjointEigenSolver<Matrix> eigen(eta_ / 2.0 * G_B);
  const Matrix& Q = eigen.eigenvectors();
  const Matrix expm = Q * eigen.eigenvalues().array().exp().matrix().asDiagonal() * Q.transpose();
  B = B * expm;
}

}  // namespace evoae
