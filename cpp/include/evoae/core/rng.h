// Counter-based random numbers: every stream is keyed by (seed, purpose, generation, agent),
// so what an agent draws never depends on which thread runs it or in which order.
#pragma once

#include <cstddef>
#include <cstdint>

namespace evoae {

// One stream per (seed, purpose, generation, agent). Init .. MutationValues are the original
// loop's; the others serve the operators of operators.h and the strategies of strategy.h.
enum class RngPurpose : std::uint64_t {
  Init = 1,
  MutationIndices = 2,  // the original's shared indices: agent 0 of each generation
  MutationValues = 3,   // per child: its mutation (indices too, for per-agent operators)
  Selection = 4,        // per child: which parent(s)
  Crossover = 5,        // per child: which parent each weight or layer comes from
  StepSize = 6,         // per child: the log-normal factor of a self-adaptive sigma
  Batch = 7,            // per generation: the images of a mini-batch
  Sample = 8,           // per agent: its draw from an evolution strategy's distribution
  Holdout = 9,          // once per run: the samples training holds out (train/trainer.h)
  Island = 10,          // per island: its seed in an island run (evo/islands.h)
};

class Rng {
 public:
  Rng(std::uint64_t seed, RngPurpose purpose, std::uint64_t generation, std::uint64_t agent);

  std::uint64_t next();                  // SplitMix64
  float uniform_pm1();                   // uniform in [-1, 1), 24-bit resolution
  std::size_t index(std::size_t bound);  // uniform in [0, bound)
  double uniform01();                    // uniform in [0, 1), 53-bit resolution
  // Standard normal N(0, 1) (Box-Muller); normal_pair gives two independent values from one
  // pair of uniforms, normal() the first of a pair.
  void normal_pair(float& z0, float& z1);
  float normal();

 private:
  std::uint64_t state_;
};

}  // namespace evoae
