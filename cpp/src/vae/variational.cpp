// The variational layer over lanes (variational.h): every lane the same operations in the same
// order, products rounded on their own (built with -ffp-contract=off), so that a lane's
// results do not depend on the lane width.
#include "evoae/vae/variational.h"

#include "evoae/core/rng.h"

namespace evoae {

void variational_noise(std::uint64_t seed, std::uint64_t step, std::uint64_t image, int k,
                       float* eps) {
  Rng rng(seed, RngPurpose::Sample, step, image);
  for (int j = 0; j + 1 < k; j += 2) rng.normal_pair(eps[j], eps[j + 1]);
  if (k % 2) eps[k - 1] = rng.normal();
}

void variational_forward(const float* stats, const float* eps, int k, float* z) {
  for (int j = 0; j < k; ++j) {
    const vfloat mu = load(stats + j * kLanes), v = load(stats + (k + j) * kLanes);
    const vfloat zj = mu + vexp(v * 0.5f) * eps[j];
    for (int l = 0; l < kLanes; ++l) z[l * k + j] = zj[l];
  }
}

void variational_backward(const float* stats, const float* eps, const float* dz, int k,
                          float* dstats) {
  for (int j = 0; j < k; ++j) {
    const vfloat d = load(dz + j * kLanes), v = load(stats + (k + j) * kLanes);
    store(dstats + j * kLanes, d);
    store(dstats + (k + j) * kLanes, d * eps[j] * vexp(v * 0.5f) * 0.5f);
  }
}

void gaussian_kl(const float* stats, int k, float* kl, const float* weight, float* dstats) {
  vfloat sum{};
  for (int j = 0; j < k; ++j) {
    const vfloat mu = load(stats + j * kLanes), v = load(stats + (k + j) * kLanes);
    const vfloat ev = vexp(v);
    sum += (mu * mu + ev - 1.0f - v) * 0.5f;
    if (dstats) {
      const vfloat w = load(weight);
      float* dmu = dstats + j * kLanes;
      float* dv = dstats + (k + j) * kLanes;
      store(dmu, load(dmu) + w * mu);
      store(dv, load(dv) + w * ((ev - 1.0f) * 0.5f));
    }
  }
  store(kl, sum);
}

}  // namespace evoae
