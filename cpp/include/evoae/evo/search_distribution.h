// What the evolution strategies share (CMA-ES, sep-CMA-ES, SNES, OpenAI-ES): each generation
// every agent is a new sample of a search distribution, so ask() returns 0 and every agent is
// measured; tell() ranks the samples (ties to the lowest index) and the strategy moves its
// distribution. Agent a's standard normal draws come from the stream (seed, Sample,
// generation, a), so a run is the same on any number of threads. The mean starts where the
// GA's agent 0 starts: U(-1, 1) per parameter from the stream (seed, Init, 0, 0). The genomes
// are float32 roundings of the samples; the strategies keep their state in double.
// best() is the best sample of the current generation: the mean itself is not measured (that
// would cost an evaluation each generation and is not part of the published algorithms).
// With settings.restarts (CMA-ES, sep-CMA-ES: IPOP, restarts.h), a run that stalls ends at
// its tell(), and the next ask() samples the new run: its first generation's mean comes from
// the stream (seed, Init, generation, 0), and population() is the new run's from then on.
#pragma once

#include <cstddef>
#include <vector>

#include "evoae/evo/restarts.h"
#include "evoae/evo/settings.h"
#include "evoae/evo/strategy.h"

namespace evoae {

class SearchDistribution : public Strategy {
 public:
  // The agents of the current generation: fitness() and genomes() hold that many.
  std::size_t population() const override { return fitness_.size(); }
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
  // IPOP restarts, for the strategies that take them (the settings refuse the others): the
  // distribution the criteria read after update(); the learning rates and weights for a run
  // of P_ agents (also on restore); the shape of a new run (C = I, paths 0).
  virtual DistributionSpread spread() const;
  virtual void fit_population() {}
  virtual void reset_shape() {}

  const double* draws(std::size_t agent) const { return &z_[agent * n_]; }

  EvolutionSettings settings_;
  std::size_t P_, n_;  // P_: the current run's population (the next samples')
  int threads_;
  bool antithetic_;
  long generation_ = 0;
  std::vector<double> mean_;            // (num_params)
  double sigma_;                        // the step size the next samples are made with
  std::vector<double> own_;             // restore(): the saved own state, for the derived class
  std::vector<std::size_t> ranking_;    // agents, best first
  std::vector<double> fitness_, sigmas_;
  std::size_t best_ = 0;
  long run_start_ = 0;  // the first generation of the current run

 private:
  void sample_generation();
  // After update(): under restarts, ends the run when it stalled and sets up the next.
  void restart_if_stalled();
  void restart();
  std::size_t run_size(int run) const;  // the population of run `run`

  std::vector<float> genomes_;  // (P, num_params)
  std::vector<double> z_;       // (P, num_params): this generation's standard normal draws
  int restarts_ = 0;            // restarts done
  RunHistory history_;          // the current run's, while restarts are left
};

// Log-linear recombination weights of the mu = P / 2 best (Hansen 2016, eq. 49 with positive
// weights only): w_i proportional to ln((P + 1) / 2) - ln i, summing to 1.
std::vector<double> recombination_weights(std::size_t population);

}  // namespace evoae
