#include "evoae/coevo/pruning.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace evoae {
namespace {

// Zeroes `count` distinct entries of data[0 .. n) drawn uniformly (a partial Fisher-Yates
// shuffle of the indices).
void zero_random_entries(float* data, std::size_t n, std::size_t count, Rng& rng,
                         std::vector<std::size_t>& indices) {
  indices.resize(n);
  std::iota(indices.begin(), indices.end(), std::size_t{0});
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t j = i + rng.index(n - i);
    std::swap(indices[i], indices[j]);
    data[indices[i]] = 0.0f;
  }
}

// A dense layer's weights (units, inputs) in the genome, after checking that `layer` is one
// and that `given` values (one per neuron) fit it; `what` names the caller.
struct Rows {
  float* weights;
  std::size_t units, inputs;
};
Rows neuron_rows(const Network& net, float* genome, std::size_t layer, std::size_t given,
                 const char* what) {
  if (layer >= net.layers().size() || !net.layers()[layer].is<Dense>())
    throw std::invalid_argument(std::string(what) + ": layer " + std::to_string(layer) +
                                " is not a dense layer");
  const Layer& l = net.layers()[layer];
  if (given != l.num_biases)
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(given) +
                                " values for " + std::to_string(l.num_biases) + " neurons");
  return {genome + l.offset, l.num_biases, l.num_weights / l.num_biases};
}

}  // namespace

std::vector<std::size_t> dense_layers(const Network& net) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < net.layers().size(); ++i)
    if (net.layers()[i].is<Dense>()) out.push_back(i);
  return out;
}

std::vector<double> variance_scores(const float* values, std::size_t rows, std::size_t units,
                                    std::size_t batch) {
  if (batch == 0 || rows % batch != 0 || rows == 0)
    throw std::invalid_argument("variance_scores: " + std::to_string(rows) +
                                " rows are not whole passes of " + std::to_string(batch));
  const std::size_t passes = rows / batch;
  std::vector<double> scores(units, 0.0);
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t u = 0; u < units; ++u) {
      double mean = 0.0;
      for (std::size_t p = 0; p < passes; ++p) mean += values[(p * batch + b) * units + u];
      mean /= static_cast<double>(passes);
      double squares = 0.0;
      for (std::size_t p = 0; p < passes; ++p) {
        const double d = values[(p * batch + b) * units + u] - mean;
        squares += d * d;
      }
      scores[u] += std::sqrt(squares / static_cast<double>(passes));
    }
  return scores;
}

std::vector<double> variance_prune_probabilities(const std::vector<double>& scores,
                                                 VarianceDirection direction) {
  std::vector<double> q(scores.size(), 0.0);
  if (scores.empty()) return q;
  const auto [lo, hi] = std::minmax_element(scores.begin(), scores.end());
  const double min = *lo, range = *hi - *lo;
  if (!(range > 0.0)) return q;  // no guidance: nothing pruned
  for (std::size_t u = 0; u < scores.size(); ++u) {
    const double x = (scores[u] - min) / range;
    q[u] = direction == VarianceDirection::Highest ? x : 1.0 - x;
  }
  return q;
}

std::vector<bool> conjunctive_selection(const float* values, std::size_t cases,
                                        std::size_t units, double threshold) {
  auto passing = [&](std::size_t c) {
    const float* a = values + c * units;
    const auto [lo, hi] = std::minmax_element(a, a + units);
    const double range = static_cast<double>(*hi) - *lo;
    std::vector<bool> pass(units, false);
    if (range > 0.0)
      for (std::size_t u = 0; u < units; ++u) pass[u] = (a[u] - *lo) / range < threshold;
    return pass;
  };
  if (cases == 0) return std::vector<bool>(units, false);
  std::vector<bool> selected = passing(0);
  auto count = [&] { return std::count(selected.begin(), selected.end(), true); };
  for (std::size_t c = 0; c < cases && count() > 1; ++c) {
    const std::vector<bool> pass = passing(c);
    for (std::size_t u = 0; u < units; ++u) selected[u] = selected[u] && pass[u];
  }
  return selected;
}

void prune_random(const Network& net, float* genome, double amount, Rng& rng) {
  std::vector<std::size_t> indices;
  for (std::size_t i : dense_layers(net)) {
    const Layer& l = net.layers()[i];
    float* weights = genome + l.offset;
    for (auto [data, n] : {std::pair{weights, l.num_weights},
                           std::pair{weights + l.num_weights, l.num_biases}}) {
      const auto count = static_cast<std::size_t>(std::floor(amount * n + 0.5));
      zero_random_entries(data, n, std::min(count, n), rng, indices);
    }
  }
}

void prune_with_probabilities(const Network& net, float* genome, std::size_t layer,
                              const std::vector<double>& q, Rng& rng) {
  const Rows r = neuron_rows(net, genome, layer, q.size(), "prune_with_probabilities");
  const std::size_t units = r.units, inputs = r.inputs;
  float* weights = r.weights;
  const Layer& l = net.layers()[layer];
  for (std::size_t u = 0; u < units; ++u)
    for (std::size_t i = 0; i < inputs; ++i)
      if (rng.uniform01() < q[u]) weights[u * inputs + i] = 0.0f;
  for (std::size_t u = 0; u < units; ++u)
    if (rng.uniform01() < q[u]) weights[l.num_weights + u] = 0.0f;
}

void prune_neurons(const Network& net, float* genome, std::size_t layer,
                   const std::vector<bool>& neurons) {
  const Rows r = neuron_rows(net, genome, layer, neurons.size(), "prune_neurons");
  const std::size_t units = r.units, inputs = r.inputs;
  float* weights = r.weights;
  const Layer& l = net.layers()[layer];
  for (std::size_t u = 0; u < units; ++u)
    if (neurons[u]) {
      std::fill(weights + u * inputs, weights + (u + 1) * inputs, 0.0f);
      weights[l.num_weights + u] = 0.0f;
    }
}

double kept_fraction(const Network& net, const float* genome) {
  std::size_t total = 0, kept = 0;
  for (std::size_t i : dense_layers(net)) {
    const Layer& l = net.layers()[i];
    const float* p = genome + l.offset;
    total += l.num_params();
    kept += static_cast<std::size_t>(
        std::count_if(p, p + l.num_params(), [](float v) { return v != 0.0f; }));
  }
  return total ? static_cast<double>(kept) / static_cast<double>(total) : 1.0;
}

}  // namespace evoae
