// The variational layer between an encoder and a decoder (Kingma & Welling 2014), over lanes:
// the encoder's 2k outputs of one image, stats (2k, kLanes), are k means mu then k
// log-variances v of the posterior q(z|x) = N(mu, diag(e^v)); the layer draws the
// reparameterised sample z = mu + e^(v/2) eps with eps ~ N(0, I) from the keyed streams, and
// the Gaussian KL(q || N(0, I)) = 1/2 sum_j (mu_j^2 + e^(v_j) - 1 - v_j) is the ELBO's rate term.
// Any encoder (output 1x1x2k) and decoder (input 1 x k) compose through it (elbo_population.h).
// The plain twins are in reference_variational.h.
#pragma once

#include <cstdint>

#include "evoae/core/simd.h"

namespace evoae {

// eps (k) of image `image` at step `step`: the stream (seed, RngPurpose::Sample, step, image)
// (Sample is the ES's draw stream, which a VAE run never uses otherwise). Every lane, every
// network, every thread gets the same noise for an image at a step: the methods a run compares
// see common random numbers.
void variational_noise(std::uint64_t seed, std::uint64_t step, std::uint64_t image, int k,
                       float* eps);

// z = mu + e^(v/2) eps for each lane, written as kLanes plain inputs of k floats, lane l's at
// z + l * k (the layout Network::forward_batch reads its per-lane images in). e^x is simd.h's
// vexp (x clamped to [-87, 88]).
void variational_forward(const float* stats, const float* eps, int k, float* z);

// The gradient through the sample: dz (k, kLanes) -> dstats (2k, kLanes), WRITTEN:
// d mu = dz, d v = dz eps e^(v/2) / 2.
void variational_backward(const float* stats, const float* eps, const float* dz, int k,
                          float* dstats);

// kl[l]: lane l's KL, summed over j in order in float. With dstats, ADDS weight[l] times its
// gradient: d mu = mu, d v = (e^v - 1) / 2 (weight: the lane's beta, and any mean's factor).
void gaussian_kl(const float* stats, int k, float* kl, const float* weight = nullptr,
                 float* dstats = nullptr);

}  // namespace evoae
