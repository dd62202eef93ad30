// 8-lane float vectors (GCC/Clang vector extensions; AVX2 with -march=native, plain
// scalar code elsewhere). evoae runs 8 genomes at once, one per lane, so every layer, even a
// 2-unit dense one, uses full vectors and no lane depends on another.
#pragma once

#include <cstdint>
#include <cstring>

namespace evoae {

constexpr int kLanes = 8;
typedef float v8f __attribute__((vector_size(32)));
typedef std::int32_t v8i __attribute__((vector_size(32)));

inline v8f load(const float* p) {
  v8f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, v8f v) { std::memcpy(p, &v, sizeof v); }
inline v8f splat(float x) { return v8f{} + x; }
inline v8f vmax(v8f a, v8f b) { return a > b ? a : b; }
inline v8f vmin(v8f a, v8f b) { return a < b ? a : b; }

// e^x, relative error below 2e-7 (|x| <= 87): x = n*ln2 + r with |r| <= ln2/2,
// e^r by its Taylor series to r^7, 2^n put straight into the exponent bits.
inline v8f vexp(v8f x) {
  x = vmin(vmax(x, splat(-87.0f)), splat(88.0f));
  const v8f t = x * 1.44269504088896341f + 0.5f;
  v8i n = __builtin_convertvector(t, v8i);  // truncates; fix to floor for negatives
  n -= (__builtin_convertvector(n, v8f) > t) ? 1 : 0;
  const v8f nf = __builtin_convertvector(n, v8f);
  const v8f r = (x - nf * 0.693145751953125f) - nf * 1.42860682030941723212e-6f;
  v8f p = r * (1.0f / 5040) + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const v8i bits = (n + 127) << 23;
  v8f scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// a * b rounded to float on its own, never fused with a following addition into an FMA.
// Sums of products built with it are the same float operations whatever the shape of the loop
// around them: GCC fuses some accumulation loops and not others (on AMD Zen it avoids FMAs in
// a single loop-carried chain, not in several), which would make a kernel's result depend on
// how many outputs or images it computes at once.
inline v8f mul_unfused(v8f a, v8f b) {
  v8f p = a * b;
#if defined(__FMA__) && (defined(__x86_64__) || defined(__i386__))
  __asm__("" : "+x"(p));  // opaque to the optimiser: p must exist as a rounded value
#endif
  return p;
}

inline v8f vsigmoid(v8f x) { return 1.0f / (1.0f + vexp(-x)); }

inline v8f vrelu(v8f x) { return vmax(x, v8f{}); }

// tanh(x) = sign(x) (1 - t) / (1 + t) with t = e^(-2|x|) in (0, 1]: no overflow, absolute
// error below 3e-7 (near 0, 1 - t loses relative but not absolute precision).
inline v8f vtanh(v8f x) {
  const v8f a = vmax(x, -x);
  const v8f t = vexp(-2.0f * a);
  const v8f y = (1.0f - t) / (1.0f + t);
  return x < 0.0f ? -y : y;
}

}  // namespace evoae
