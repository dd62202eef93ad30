// A population of generators against one discriminator: the passes a GAN needs, each over
// many networks and samples at once, in parallel with OpenMP.
//
// Work is cut as train/gradients.h cuts it: P networks each on the same n items (noise
// vectors, or images for the discriminator alone) make P * nb chains, a chain one network on
// one block of consecutive items (nb from P, n and kLanes only: enough chains for at least
// kMinUnits units, chains of at least 4 items where n allows). kLanes chains run side by side in the lanes of one unit, by one thread,
// batch() items of a chain per pass; a unit's gradients go into its own partial, and a
// network's gradient is its chains' lanes added in block order. The discriminator's
// parameters lie in every lane. So results depend on the parameters and items only: the same
// bits at any thread count.
//
// Generator p's samples feed the discriminator: G's output is read as D's input (the sizes
// must match), D's output is one logit, and D's input gradient (Network::backward's dinput)
// is what G backpropagates from.
#pragma once

#include <cstddef>
#include <vector>

#include "evoae/gan/gan_loss.h"
#include "evoae/nn/network.h"

namespace evoae {

class Adversarial {
 public:
  // std::invalid_argument when D's output is not one value or G's output size is not D's
  // input size. threads <= 0: OpenMP's default.
  Adversarial(const Network& generator, const Network& discriminator, int threads = 0);

  // D's parameters (num_params floats) for every later call.
  void set_discriminator(const float* params);

  // gens: P generator genomes; noise: (n, noise size), noise_size() each.
  // The mean over the n noise vectors of losses[p](D(G_p(z))) -> mean_losses[p], and its
  // gradient with respect to G_p's parameters -> grads[p] (overwritten).
  void generator_gradients(const std::vector<const float*>& gens,
                           const std::vector<GeneratorLoss>& losses, const float* noise,
                           std::size_t n, double* mean_losses, const std::vector<float*>& grads);
  // D's logits of G_p(z_i) -> logits (P, n); the samples -> samples (P, n, sample_size()) or
  // null; with dgrads (P pointers, else empty): the gradient with respect to D's parameters
  // of the mean fake loss softplus(d) over the n samples of each generator.
  void evaluate(const std::vector<const float*>& gens, const float* noise, std::size_t n,
                float* logits, float* samples, const std::vector<float*>& dgrads);
  // The mean over the n noise vectors of the mean squared error between G_p(z_i) and
  // teachers (P, n, sample_size()) -> mean_losses[p], its gradient -> grads[p].
  void distillation_gradients(const std::vector<const float*>& gens, const float* noise,
                              std::size_t n, const float* teachers, double* mean_losses,
                              const std::vector<float*>& grads);
  // D's loss on m real and k fake images (each D's input size): the mean of softplus(-d) over
  // the real plus the mean of softplus(d) over the fake (an empty set adds nothing). Returns
  // it; its gradient with respect to D's parameters -> grad (overwritten); the mean
  // sigmoid(d) of the fakes -> *fake_score when given (0 without fakes).
  double discriminator_gradient(const float* real, std::size_t m, const float* fake,
                                std::size_t k, float* grad, double* fake_score = nullptr);

  const Network& generator() const { return g_; }
  const Network& discriminator() const { return d_; }
  std::size_t noise_size() const { return g_.input_shape().size(); }
  std::size_t sample_size() const { return g_.output_shape().size(); }
  int threads() const { return threads_; }
  int batch() const { return batch_; }  // items of a chain per pass
  static constexpr std::size_t kMinUnits = 2;

 private:
  struct Scratch {  // a thread's
    Workspace g, d;
    std::vector<float> gparams;  // the unit's generators, (G's num_params, kLanes)
    std::vector<float> fake;     // G's outputs, slot by slot: (batch * kLanes, sample size)
    std::vector<float> dfake;    // D's input gradient, (batch, sample size, kLanes)
    std::vector<float> sink;     // D's parameter gradients nobody reads, (D's params, kLanes)
    std::vector<float> target;   // a distillation's teachers in lanes
    std::vector<const float*> inputs;  // batch * kLanes
  };
  // One pass of a unit: rows items per lane; item[b * kLanes + l] is lane l's item b (-1: an
  // empty slot), net[l] its network (-1: an empty lane).
  struct Pass {
    int rows = 0;
    std::vector<long> net, item;
  };
  template <class Body>
  void run_chains(std::size_t P, std::size_t n, const std::vector<const float*>* gens,
                  std::size_t grad_size, const std::vector<float*>& grads, Body body);
  // Lane l's G output of slot b as D's input, slot by slot in s.fake; returns D's logits
  // (rows, kLanes).
  const float* generate_and_judge(const Pass& pass, const float* noise, Scratch& s) const;

  // means[p] = the mean of item_values_ over network p's n items, in order.
  void item_means(std::size_t P, std::size_t n, double* means) const;

  const Network& g_;
  const Network& d_;
  int threads_, batch_;
  std::vector<float> d_lanes_;  // D's parameters in every lane
  std::vector<Scratch> scratch_;
  std::vector<float> partials_;  // (units, grad size, kLanes), reused
  std::vector<float> item_values_;  // each (network, item)'s loss, reused
};

}  // namespace evoae
