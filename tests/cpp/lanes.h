// Test helpers for the lane layout of the fast core (evoae/simd.h): a lane buffer holds
// kLanes one-genome buffers of n floats side by side, element i of lane l at i*kLanes + l.
// interleave / broadcast build one, lane() reads one lane back.
#pragma once

#include <cstddef>
#include <random>
#include <stdexcept>
#include <vector>

#include "evoae/simd.h"

namespace lanes {

constexpr int L = evoae::kLanes;

// per_lane: kLanes buffers of n floats each -> (n, kLanes).
inline std::vector<float> interleave(const std::vector<std::vector<float>>& per_lane) {
  if (per_lane.size() != static_cast<std::size_t>(L))
    throw std::invalid_argument("interleave needs one buffer per lane");
  const std::size_t n = per_lane[0].size();
  std::vector<float> v(n * L);
  for (int l = 0; l < L; ++l) {
    if (per_lane[l].size() != n) throw std::invalid_argument("lane buffers differ in size");
    for (std::size_t i = 0; i < n; ++i) v[i * L + l] = per_lane[l][i];
  }
  return v;
}

// The same n floats in every lane -> (n, kLanes).
inline std::vector<float> broadcast(const std::vector<float>& one) {
  return interleave(std::vector<std::vector<float>>(L, one));
}

// Lane l of a (n, kLanes) buffer -> n floats.
inline std::vector<float> lane(const float* buffer, std::size_t n, int l) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = buffer[i * L + l];
  return v;
}

// kLanes independent buffers of n values uniform in [lo, hi): different data in every lane.
inline std::vector<std::vector<float>> random_per_lane(std::mt19937& gen, std::size_t n,
                                                       float lo = -1, float hi = 1) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<std::vector<float>> v(L, std::vector<float>(n));
  for (std::vector<float>& one : v)
    for (float& x : one) x = u(gen);
  return v;
}

}  // namespace lanes
