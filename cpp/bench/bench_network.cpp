// The paper's network as a whole: one forward pass (8 genome lanes), population evaluation
// and one generation of the original loop (population 20, ten images, 10 mutations), on 1
// and 2 threads. "evals/s" counts (genome, image) forward passes actually run.
#include <vector>

#include "bench_common.h"
#include "evoae/evo/evolution.h"
#include "evoae/eval/population.h"
#include "evoae/core/simd.h"

namespace evoae::bench {
namespace {

constexpr int kImages = 10, kPopulation = 20;

double nominal_flops(const Network& net) { return 2.0 * net.multiply_adds(); }

void BM_forward_8_lanes(benchmark::State& state) {
  const Network net = varadi_network();
  Workspace ws(net);
  auto genomes = uniform(net.num_params() * kLanes, -1, 1, 1);
  auto image = uniform(net.input_shape().size(), 0.1f, 0.9f, 2);
  for (auto _ : state) benchmark::DoNotOptimize(net.forward(genomes.data(), image.data(), ws));
  set_rates(state, kLanes, nominal_flops(net));
}

// P genomes on ten images; P = 19 is what a generation of population 20 evaluates.
void BM_population_errors(benchmark::State& state) {
  const Network net = varadi_network();
  const std::size_t P = state.range(0);
  PopulationEvaluator evaluator(net, static_cast<int>(state.range(1)));
  auto genomes = uniform(P * net.num_params(), -1, 1, 3);
  auto images = uniform(kImages * net.input_shape().size(), 0.1f, 0.9f, 4);
  std::vector<double> errors(P);
  for (auto _ : state)
    evaluator.errors(genomes.data(), P, images.data(), images.data(), kImages, errors.data());
  set_rates(state, double(P) * kImages, nominal_flops(net));
}

void BM_generation(benchmark::State& state) {
  const Network net = varadi_network();
  Evolution evolution(net, uniform(kImages * net.input_shape().size(), 0.1f, 0.9f, 5), kImages,
                      EvolutionSettings{kPopulation, 10, 0, static_cast<int>(state.range(0))});
  for (auto _ : state) evolution.step();
  set_rates(state, double(kPopulation - 1) * kImages, nominal_flops(net));
  state.counters["gens/s"] = benchmark::Counter(1, benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_forward_8_lanes);
BENCHMARK(BM_population_errors)
    ->ArgsProduct({{kPopulation - 1, 64, 256}, {1, 2}})
    ->ArgNames({"P", "threads"})
    ->UseRealTime();
BENCHMARK(BM_generation)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();

}  // namespace
}  // namespace evoae::bench
