// A population of VAEs trained at once by Adam, one per SIMD lane, each with its own KL weight
// beta: member m minimises the mini-batch mean of its negative ELBO with beta,
//
//   reconstruction(x, decoder(z)) + beta_m KL(q(z|x) || N(0, I)),   z ~ q(z|x) (variational.h)
//
// the reconstruction summed over the pixels: bce = -log p(x|z) of a Bernoulli decoder (nats),
// mse = the sum of squared errors (a Gaussian decoder of variance 1/2, constants left out).
// A member's genome is its encoder's parameters then its decoder's. Any encoder (input HxW,
// output 1x1x2k: k means then k log-variances) and decoder (input 1 x k, output HxW) compose.
//
// Each step draws a mini-batch of the training images (the stream (seed, Batch, step, 0),
// B distinct rows) and the noise of each of its images (variational.h, keyed by (seed, step,
// image row)), the same for every member. The batch is cut into a fixed number of blocks (from
// the batch size and genome size only); a block's gradient is summed image by image in order
// into its own partial, the partials added in block order: the same bits at any thread count.
// The methods that set each member's beta (constant, schedules, a controller, evolution) live
// outside (python/evoae/systems/evae.py); copy_member serves population-based training.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "evoae/nn/loss.h"
#include "evoae/nn/network.h"
#include "evoae/train/optimizer.h"

namespace evoae {

struct VaeSettings {
  std::size_t members = 1;
  Loss reconstruction = Loss::BinaryCrossEntropy;  // BinaryCrossEntropy or MeanSquared
  float learning_rate = 1e-3f;                      // Adam's; beta1, beta2, eps its defaults
  int batch = 64;                                   // images per step
  std::uint64_t seed = 0;
  int threads = 0;  // 0: OpenMP's default
};

class VaePopulation {
 public:
  // images: (S, pixels) in [0, 1] for bce; the first `train_count` rows are trained on.
  // genomes: (members, encoder params + decoder params). std::invalid_argument naming what
  // does not fit (networks that do not compose, a batch larger than the training images, a
  // reconstruction other than bce or mse, non-finite genomes).
  VaePopulation(const Network& encoder, const Network& decoder, std::vector<float> images,
                std::size_t train_count, VaeSettings settings, const std::vector<float>& genomes);
  ~VaePopulation();
  VaePopulation(const VaePopulation&) = delete;  // one owner of the partials and scratch
  VaePopulation& operator=(const VaePopulation&) = delete;

  // One Adam step of every member, member m's KL weighted by betas[m] (members values): the
  // gradient of the batch mean of its loss at the current weights. recon, kl (members): the
  // batch means those weights had (before the step).
  void step(const double* betas, double* recon, double* kl);
  // What step() follows, without the step: the mini-batch of this step (sorted rows of the
  // training images), and every member's gradient there, grads (members, G), with recon and
  // kl as step() gives them.
  std::vector<std::size_t> batch_rows() const;
  void gradient(const double* betas, double* recon, double* kl, float* grads);
  // Each member's reconstruction and KL of each of `count` images (count, pixels), no
  // training: recon, kl (members, count); image i's noise is keyed (seed, noise_key, i).
  void evaluate(const float* images, std::size_t count, std::uint64_t noise_key, double* recon,
                double* kl) const;
  // Member `to` becomes a copy of member `from`: its weights and its Adam moments.
  void copy_member(std::size_t from, std::size_t to);

  std::vector<float> genomes() const;  // (members, G)
  std::size_t members() const { return settings_.members; }
  std::size_t num_params() const { return ge_ + gd_; }
  int latent() const { return k_; }
  std::size_t pixels() const { return pixels_; }  // of an image: the encoder's input size
  long steps() const { return step_; }
  std::uint64_t evaluations() const { return evaluations_; }  // (member, image) passes
  const VaeSettings& settings() const { return settings_; }
  std::size_t blocks() const { return blocks_; }  // per step: the fixed cut of the batch

 private:
  struct Scratch;  // a thread's workspaces and buffers (elbo_population.cpp)
  // The gradient of this step's batch into the first block's partial of each group (its mean
  // over the images), recon and kl. std::invalid_argument for a negative or non-finite beta.
  void measure(const double* betas, double* recon, double* kl);
  // Runs `rows` (count of them, from images) through group g's lanes, noise keyed (step, row
  // key): adds per lane the reconstruction and KL sums (2 * kLanes doubles) and, with grads,
  // the gradient of sum (recon + beta KL) into grads (G, kLanes).
  void run_block(std::size_t g, const float* images, const std::size_t* rows,
                 const std::uint64_t* keys, std::size_t count, std::uint64_t step,
                 const float* betas, Scratch& s, double* sums, float* grads) const;

  Network encoder_, decoder_;
  int k_ = 0;
  std::size_t pixels_ = 0, ge_ = 0, gd_ = 0, groups_ = 0, blocks_ = 1;
  std::vector<float> images_;
  std::size_t train_count_ = 0;
  VaeSettings settings_;
  std::vector<float> params_, partials_;  // (groups, G, kLanes); (groups, blocks, G, kLanes)
  std::vector<Optimizer> optimizers_;     // one per group
  mutable std::vector<Scratch> scratch_;  // one per thread
  long step_ = 0;
  std::uint64_t evaluations_ = 0;
};

}  // namespace evoae
