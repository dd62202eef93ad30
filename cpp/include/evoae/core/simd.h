// Float vectors of kLanes lanes (GCC/Clang vector extensions): 16 lanes where the compiler targets
// AVX-512, 8 elsewhere (AVX2 with -march=native, plain SSE2 or scalar code in a portable build).
// evoae runs kLanes genomes at once, one per lane, so every layer, even a 2-unit dense one, uses
// full vectors and no lane depends on another: a lane's arithmetic is the same whatever the width.
// EVOAE_LANES (8 or 16) overrides the choice.
//
// Multiply-adds are explicit, never left to the compiler (the kernels build with
// -ffp-contract=off, and madd's product is opaque to it): fmadd (convolution and squared-error
// sums, exp) always fuses where the CPU has FMA; madd (dense-layer sums) fuses only in an
// EVOAE_FMA build. Either way every operation is fixed by the source, not by the loop shape, the
// width or the compiler's tuning.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__FMA__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace evoae {

#if defined(EVOAE_LANES)
#define EVOAE_LANES_ EVOAE_LANES
#elif defined(__AVX512F__)
#define EVOAE_LANES_ 16
#else
#define EVOAE_LANES_ 8
#endif
constexpr int kLanes = EVOAE_LANES_;
static_assert(kLanes == 8 || kLanes == 16, "EVOAE_LANES must be 8 or 16");

typedef float vfloat __attribute__((vector_size(4 * kLanes)));
typedef std::int32_t vint __attribute__((vector_size(4 * kLanes)));

// Whether fmadd is one rounding (the CPU has FMA) and whether madd fuses too (EVOAE_FMA).
#if defined(__FMA__)
constexpr bool kHardwareFma = true;
#else
constexpr bool kHardwareFma = false;
#endif
#if defined(EVOAE_FMA) && EVOAE_FMA
constexpr bool kFmaSums = true;
#else
constexpr bool kFmaSums = false;
#endif

inline vfloat load(const float* p) {
  vfloat v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, vfloat v) { std::memcpy(p, &v, sizeof v); }
inline vfloat splat(float x) { return vfloat{} + x; }
inline vfloat vmax(vfloat a, vfloat b) { return a > b ? a : b; }
inline vfloat vmin(vfloat a, vfloat b) { return a < b ? a : b; }

// a * b + c with one rounding where the CPU has FMA; a portable build without it rounds the
// product first (its results then differ from a native build's in the last bits).
inline vfloat fmadd(vfloat a, vfloat b, vfloat c) {
#if defined(__AVX512F__) && EVOAE_LANES_ == 16
  return _mm512_fmadd_ps(a, b, c);
#elif defined(__FMA__) && EVOAE_LANES_ == 8
  return _mm256_fmadd_ps(a, b, c);
#elif defined(__FMA__)  // 16 lanes without AVX-512: two halves
  __m256 x[2], y[2], z[2];
  std::memcpy(x, &a, sizeof a);
  std::memcpy(y, &b, sizeof b);
  std::memcpy(z, &c, sizeof c);
  for (int h = 0; h < 2; ++h) x[h] = _mm256_fmadd_ps(x[h], y[h], z[h]);
  vfloat r;
  std::memcpy(&r, x, sizeof r);
  return r;
#else
  return a * b + c;  // -ffp-contract=off: two roundings
#endif
}

// c + a * b as a term of a sum (dense layers, error sums): fused in an EVOAE_FMA build,
// otherwise the product rounded on its own, then added (the original arithmetic).
inline vfloat madd(vfloat a, vfloat b, vfloat c) {
  if constexpr (kFmaSums) return fmadd(a, b, c);
  vfloat p = a * b;
#if defined(__FMA__) && (defined(__x86_64__) || defined(__i386__))
  __asm__("" : "+v"(p));  // opaque: p exists rounded, whatever -ffp-contract says
#endif
  return c + p;
}

// e^x, relative error below 2e-7 (|x| <= 87): x = n*ln2 + r with |r| <= ln2/2,
// e^r by its Taylor series to r^7, 2^n put straight into the exponent bits.
inline vfloat vexp(vfloat x) {
  x = vmin(vmax(x, splat(-87.0f)), splat(88.0f));
  const vfloat t = fmadd(x, splat(1.44269504088896341f), splat(0.5f));
  vint n = __builtin_convertvector(t, vint);  // truncates; fix to floor for negatives
  n -= (__builtin_convertvector(n, vfloat) > t) ? 1 : 0;
  const vfloat nf = __builtin_convertvector(n, vfloat);
  const vfloat r = fmadd(nf, splat(-1.42860682030941723212e-6f),
                         fmadd(nf, splat(-0.693145751953125f), x));
  vfloat p = fmadd(r, splat(1.0f / 5040), splat(1.0f / 720));
  p = fmadd(p, r, splat(1.0f / 120));
  p = fmadd(p, r, splat(1.0f / 24));
  p = fmadd(p, r, splat(1.0f / 6));
  p = fmadd(p, r, splat(0.5f));
  p = fmadd(p, r, splat(1.0f));
  p = fmadd(p, r, splat(1.0f));
  const vint bits = (n + 127) << 23;
  vfloat scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline vfloat vsigmoid(vfloat x) { return 1.0f / (1.0f + vexp(-x)); }

inline vfloat vrelu(vfloat x) { return vmax(x, vfloat{}); }

// tanh(x) = sign(x) (1 - t) / (1 + t) with t = e^(-2|x|) in (0, 1]: no overflow, absolute
// error below 3e-7 (near 0, 1 - t loses relative but not absolute precision).
inline vfloat vtanh(vfloat x) {
  const vfloat a = vmax(x, -x);
  const vfloat t = vexp(-2.0f * a);
  const vfloat y = (1.0f - t) / (1.0f + t);
  return x < 0.0f ? -y : y;
}

}  // namespace evoae
