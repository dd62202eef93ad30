// Shared by the benchmarks: random genomes and the ten-digit-like inputs, and counters
// that turn iteration times into evaluations/s and GFLOP/s.
#pragma once

#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "evoae/nn/network.h"

namespace evoae::bench {

inline std::vector<float> uniform(std::size_t n, float lo, float hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// evaluations: (genome, image) forward passes per iteration; flops: nominal per evaluation.
inline void set_rates(benchmark::State& state, double evaluations, double flops) {
  state.counters["evals/s"] =
      benchmark::Counter(evaluations, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(evaluations * flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace evoae::bench
