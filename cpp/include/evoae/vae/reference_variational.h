// Plain twins of the variational layer (variational.h): one network, no lanes, any scalar
// type (double for the central-difference checks). stats: k means then k log-variances.
#pragma once

#include <cmath>
#include <utility>
#include <vector>

#include "evoae/nn/loss.h"
#include "evoae/nn/network.h"
#include "evoae/nn/reference_backward.h"

namespace evoae::reference {

template <class T>
void variational_forward(const T* stats, const T* eps, int k, T* z) {
  for (int j = 0; j < k; ++j) z[j] = stats[j] + std::exp(stats[k + j] / T(2)) * eps[j];
}

template <class T>
void variational_backward(const T* stats, const T* eps, const T* dz, int k, T* dstats) {
  for (int j = 0; j < k; ++j) {
    dstats[j] = dz[j];
    dstats[k + j] = dz[j] * eps[j] * std::exp(stats[k + j] / T(2)) / T(2);
  }
}

// The KL; with dstats, adds weight times its gradient.
template <class T>
T gaussian_kl(const T* stats, int k, T weight = T(1), T* dstats = nullptr) {
  T kl = T(0);
  for (int j = 0; j < k; ++j) {
    const T mu = stats[j], v = stats[k + j];
    kl += (mu * mu + std::exp(v) - T(1) - v) / T(2);
    if (dstats) {
      dstats[j] += weight * mu;
      dstats[k + j] += weight * (std::exp(v) - T(1)) / T(2);
    }
  }
  return kl;
}

// One VAE on one image with noise eps (k): {reconstruction, KL}, the reconstruction summed over
// the pixels (loss's per-value mean times their count, elbo_population.h). With grads (encoder
// params then decoder params), ADDS the gradient of reconstruction + beta KL.
template <class T>
std::pair<T, T> elbo(const Network& encoder, const Network& decoder, Loss loss, const T* genome,
                     const T* image, const T* eps, T beta, T* grads = nullptr) {
  const int k = decoder.input_shape().size();
  const int n = static_cast<int>(encoder.input_shape().size());
  const T* dec = genome + encoder.num_params();
  const std::vector<T> stats = network_forward<T>(encoder, genome, image);
  std::vector<T> z(k), dy(n), dz(k), dstats(2 * k);
  variational_forward<T>(stats.data(), eps, k, z.data());
  const std::vector<T> y = network_forward<T>(decoder, dec, z.data());
  const T recon = loss_forward_backward<T>(loss, y.data(), image, n, dy.data()) * T(n);
  if (!grads) return {recon, gaussian_kl<T>(stats.data(), k)};
  for (T& d : dy) d *= T(n);
  network_backward<T>(decoder, dec, z.data(), dy.data(), grads + encoder.num_params(),
                      dz.data());
  variational_backward<T>(stats.data(), eps, dz.data(), k, dstats.data());
  const T kl = gaussian_kl<T>(stats.data(), k, beta, dstats.data());
  network_backward<T>(encoder, genome, image, dstats.data(), grads);
  return {recon, kl};
}

}  // namespace evoae::reference
