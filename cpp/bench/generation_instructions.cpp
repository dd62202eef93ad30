// A fixed amount of work for `valgrind --tool=callgrind`: GENERATIONS generations of the
// original loop (population 20, ten images, 10 mutations) on one thread. Instruction counts
// are repeatable where timings on a shared machine are not; bench/cpp_benchmarks.sh divides
// the count collected inside Evolution::step by the number of generations.
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "evoae/evo/evolution.h"

int main(int argc, char** argv) {
  const int generations = argc > 1 ? std::atoi(argv[1]) : 20;
  const evoae::Network net = evoae::varadi_network();
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> pixel(0.1f, 0.9f);
  std::vector<float> images(10 * net.input_shape().size());
  for (float& x : images) x = pixel(rng);
  evoae::Evolution evolution(net, images, 10, evoae::EvolutionSettings{20, 10, 0, 1});
  for (int g = 0; g < generations; ++g) evolution.step();
  std::printf("%d generations, best error %.6f\n", generations, evolution.best_error());
  return 0;
}
