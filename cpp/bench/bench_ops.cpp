// Each layer operation of the paper's network on its real shapes, 8 genome lanes at once.
// GFLOP/s count 2 FLOPs per multiply-add of the layer as defined (before any fusion).
#include "bench_common.h"
#include "evoae/nn/ops.h"
#include "evoae/core/simd.h"

namespace evoae::bench {
namespace {

constexpr int L = kLanes;

void BM_conv_28x28_k5(benchmark::State& state) {
  auto in = uniform(28 * 28 * L, 0.1f, 0.9f, 1), k = uniform(25 * L, -1, 1, 2);
  std::vector<float> out(24 * 24 * L);
  for (auto _ : state) {
    conv_forward(out.data(), in.data(), k.data(), 1, 28, 28, 5, 5, 1);
    benchmark::DoNotOptimize(out.data());
  }
  set_rates(state, L, 2.0 * 24 * 24 * 25);
}

void BM_maxpool_24x24(benchmark::State& state) {
  auto in = uniform(24 * 24 * L, 0, 1, 3);
  std::vector<float> out(12 * 12 * L);
  for (auto _ : state) {
    maxpool_forward(out.data(), in.data(), 1, 24, 24);
    benchmark::DoNotOptimize(out.data());
  }
  set_rates(state, L, 0);
}

void BM_dense_5_to_160(benchmark::State& state) {
  auto in = uniform(5 * L, 0, 1, 4), w = uniform(160 * 5 * L, -1, 1, 5),
       b = uniform(160 * L, -1, 1, 6);
  std::vector<float> out(160 * L);
  for (auto _ : state) {
    dense_sigmoid_forward(out.data(), in.data(), w.data(), b.data(), 5, 160);
    benchmark::DoNotOptimize(out.data());
  }
  set_rates(state, L, 2.0 * 5 * 160);
}

void BM_unpool_then_conv_transpose_r10(benchmark::State& state) {  // the last two layers
  auto in = uniform(10 * 12 * 12 * L, 0, 1, 7), k = uniform(10 * 25 * L, -1, 1, 8);
  std::vector<float> up(10 * 24 * 24 * L), out(28 * 28 * L),
      padded(conv_transpose_padded_size(10, 24, 24, 5, 5, 1));
  for (auto _ : state) {
    unpool_forward(up.data(), in.data(), 10, 12, 12);
    conv_transpose_forward(out.data(), up.data(), k.data(), 10, 24, 24, 5, 5, 10, 1,
                           padded.data());
    benchmark::DoNotOptimize(out.data());
  }
  set_rates(state, L, 2.0 * 10 * 24 * 24 * 25);
}

void BM_unpool_conv_transpose_fused_r10(benchmark::State& state) {
  auto in = uniform(10 * 12 * 12 * L, 0, 1, 7), k = uniform(10 * 25 * L, -1, 1, 8);
  std::vector<float> out(28 * 28 * L), upsampled(10 * 36 * L),
      padded(conv_transpose_padded_size(10, 12, 12, 6, 6, 2));
  for (auto _ : state) {
    unpool_conv_transpose_forward(out.data(), in.data(), k.data(), 10, 12, 12, 5, 5, 10,
                                  upsampled.data(), padded.data());
    benchmark::DoNotOptimize(out.data());
  }
  set_rates(state, L, 2.0 * 10 * 24 * 24 * 25);
}

BENCHMARK(BM_conv_28x28_k5);
BENCHMARK(BM_maxpool_24x24);
BENCHMARK(BM_dense_5_to_160);
BENCHMARK(BM_unpool_then_conv_transpose_r10);
BENCHMARK(BM_unpool_conv_transpose_fused_r10);

}  // namespace
}  // namespace evoae::bench
