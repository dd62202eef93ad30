// OpenAI-ES (Salimans, Ho, Chen, Sidor & Sutskever 2017, Evolution Strategies as a Scalable
// Alternative to Reinforcement Learning): a fixed isotropic Gaussian around the parameters
// theta, x = theta +- sigma eps (antithetic pairs: agents 2k and 2k + 1 share eps_k, so the
// population must be even). Fitness is replaced by centred ranks in [-0.5, 0.5] (the best
// +0.5); the gradient estimate of the expected utility is g = sum_k u_k eps_k / P (as the
// paper's code, without the 1 / sigma that Adam's scale invariance absorbs), and Adam
// (Kingma & Ba 2015: beta1 0.9, beta2 0.999, epsilon 1e-8) steps theta down the loss gradient
// -g + weight_decay * theta (L2 regularisation). Defaults are the paper's: sigma 0.02 (fixed,
// never adapted), learning rate 0.01, weight decay 0.005.
#pragma once

#include "evoae/evo/search_distribution.h"

namespace evoae {

class OpenAiEs : public SearchDistribution {
 public:
  OpenAiEs(const EvolutionSettings& settings, std::size_t num_params, int threads);
  OpenAiEs(const EvolutionSettings& settings, std::size_t num_params, int threads,
           StrategyState state);

 private:
  void sample(std::size_t agent, const double* z, double* x) override;
  void update() override;
  std::vector<double> own_state() const override;

  std::vector<double> m_, v_;  // (n): Adam's first and second moments
  long steps_ = 0;             // Adam's t
};

}  // namespace evoae
