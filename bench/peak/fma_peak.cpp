// The CPU's fp32 FMA peak: 12 independent FMA chains per thread (enough to cover the FMA
// latency times the FMA units), 8-wide (AVX2) and 16-wide (AVX-512) vectors, on 1 thread and
// on every core, best of 5 runs. Prints one JSON object. Built and run by fma_peak.sh.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace {

constexpr int kChains = 12;
constexpr long kIterations = 20'000'000;  // per thread: 12 * 20e6 FMAs, ~0.1 s at 16 wide

// Returns a value that depends on every chain, so none is optimised away.
__attribute__((target("avx2,fma"), noinline)) float chains8(long n, float seed) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(seed + i);
  const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
  for (long k = 0; k < n; ++k)
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], m, a);
  __m256 s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm256_add_ps(s, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}

__attribute__((target("avx512f"), noinline)) float chains16(long n, float seed) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(seed + i);
  const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
  for (long k = 0; k < n; ++k)
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], m, a);
  __m512 s = acc[0];  // every chain feeds the result, or the compiler drops the unused ones
  for (int i = 1; i < kChains; ++i) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

volatile float sink;

// GFLOP/s of `threads` threads each running the chains, best of 5.
double peak(int width, int threads) {
  double best = 0.0;
  for (int run = 0; run < 5; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads)
    {
      const float seed = static_cast<float>(omp_get_thread_num());
      sink = width == 16 ? chains16(kIterations, seed) : chains8(kIterations, seed);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * width * kChains * kIterations * threads / s / 1e9);
  }
  return best;
}

}  // namespace

int main() {
  const int cores = omp_get_num_procs();
  std::printf("{\"cores\": %d, \"chains\": %d", cores, kChains);
  for (int width : {8, 16}) {
    const bool ok = width == 8 ? __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
                               : __builtin_cpu_supports("avx512f");
    if (!ok) {
      std::printf(", \"gflops_%d_wide\": null", width);
      continue;
    }
    std::printf(", \"gflops_%d_wide\": {\"1\": %.1f, \"%d\": %.1f}", width, peak(width, 1), cores,
                peak(width, cores));
    std::fflush(stdout);
  }
  std::printf("}\n");
}
