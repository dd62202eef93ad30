// SplitMix64 (Steele, Lea, Flood 2014) used both to mix the stream key and as the generator.
#include "evoae/core/rng.h"

#include <cmath>

namespace evoae {
namespace {

std::uint64_t mix(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

Rng::Rng(std::uint64_t seed, RngPurpose purpose, std::uint64_t generation, std::uint64_t agent)
    : state_(mix(mix(mix(mix(seed) ^ static_cast<std::uint64_t>(purpose)) ^ generation) ^ agent)) {}

std::uint64_t Rng::next() {
  state_ += 0x9E3779B97F4A7C15ull;
  std::uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

float Rng::uniform_pm1() {
  return static_cast<float>(next() >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

std::size_t Rng::index(std::size_t bound) {
  // Multiply-shift (Lemire): bias below bound / 2^32, negligible for genome sizes.
  return static_cast<std::size_t>(((next() >> 32) * static_cast<std::uint64_t>(bound)) >> 32);
}

double Rng::uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

void Rng::normal_pair(float& z0, float& z1) {
  const double u1 = 1.0 - uniform01();  // in (0, 1]: log is finite
  const double u2 = uniform01();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double angle = 6.283185307179586 * u2;
  z0 = static_cast<float>(r * std::cos(angle));
  z1 = static_cast<float>(r * std::sin(angle));
}

float Rng::normal() {
  float z0, z1;
  normal_pair(z0, z1);
  return z0;
}

}  // namespace evoae
