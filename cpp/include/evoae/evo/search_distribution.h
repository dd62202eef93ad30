// What the evolution strategies share (CMA-ES, sep-CMA-ES, SNES, OpenAI-ES): each generation
// every agent is a new sample of a search distribution, so ask() returns 0 and every agent is
// measured; tell() ranks the samples (ties to the lowest index) and the strategy moves its
// distribution. Agent a's standard normal draws come from the stream (seed, Sample,
// generation, a), so a run is the same on any number of threads. The mean starts where the
// GA's agent 0 starts: U(-1, 1) per parameter from the stream (seed, Init, 0, 0). The genomes
// are float32 roundings of the samples; the strategies keep their state in double.
// best() is the best sample of the current generation: the mean itself is not measured (that
// would cost an evaluation each generation and is not part of the published algorithms).
#pragma once

#include <cstddef>
#include <vector>

#include "evoae/evo/settings.h"
#include "evoae/evo/strategy.h"

namespace evoae {

class SearchDistribution : public Strategy {
 public:
  std::size_t population() const override { return P_; }
  std::size_t num_params() const override { return n_; }
  long generation() const override { return generation_; }
  std::size_t ask() override;
  void tell(const double* fitness, std::size_t first) override;
  const float* genomes() const override { return genomes_.data(); }
  const std::vector<double>& fitness() const override { return fitness_; }
  std::size_t best() const override { return best_; }
  const std::vector<double>& sigmas() const override { return sigmas_; }
  double sigma() const override { return sigma_; }
  StrategyState state() const override;
  const std::vector<double>& mean() const override { return mean_; }

 protected:
  // antithetic: agents 2k and 2k+1 draw z and -z from stream k (the population must be even).
  SearchDistribution(const EvolutionSettings& settings, std::size_t num_params, int threads,
                     bool antithetic = false);
  // A derived constructor ends with one of these: sample generation 0, or continue from a
  // saved state whose own part must hold own_size values (then read by the derived class).
  void start();
  void restore(StrategyState state, std::size_t own_size);

  // x = agent's sample (num_params) from its standard normal draws z; also keeps what
  // update() needs. Called in parallel for different agents.
  virtual void sample(std::size_t agent, const double* z, double* x) = 0;
  // Moves the distribution from this generation's fitness_ and ranking_ (best first).
  virtual void update() = 0;
  // The strategy's own state: everything update() and sample() read besides the base's.
  virtual std::vector<double> own_state() const = 0;
  // Whether sample() costs enough to run agents in parallel.
  virtual bool heavy_sampling() const { return false; }

  const double* draws(std::size_t agent) const { return &z_[agent * n_]; }

  EvolutionSettings settings_;
  std::size_t P_, n_;
  int threads_;
  bool antithetic_;
  long generation_ = 0;
  std::vector<double> mean_;            // (num_params)
  double sigma_;                        // the step size the next samples are made with
  std::vector<double> own_;             // restore(): the saved own state, for the derived class
  std::vector<std::size_t> ranking_;    // agents, best first
  std::vector<double> fitness_, sigmas_;
  std::size_t best_ = 0;

 private:
  void sample_generation();

  std::vector<float> genomes_;  // (P, num_params)
  std::vector<double> z_;       // (P, num_params): this generation's standard normal draws
};

// Log-linear recombination weights of the mu = P / 2 best (Hansen 2016, eq. 49 with positive
// weights only): w_i proportional to ln((P + 1) / 2) - ln i, summing to 1.
std::vector<double> recombination_weights(std::size_t population);

}  // namespace evoae
