#include "evoae/coevo/pair_losses.h"

#include <algorithm>
#include <stdexcept>

namespace evoae {

std::vector<double> pair_losses(GradientEvaluator& evaluator, const float* const* encoders,
                                std::size_t ne, const float* const* decoders, std::size_t nd,
                                std::size_t encoder_size, const ImageSet& images,
                                std::vector<float>& pairs) {
  const std::size_t G = evaluator.network().num_params();
  if (encoder_size == 0 || encoder_size >= G)
    throw std::invalid_argument("pair_losses: the encoder must hold 1 .. " +
                                std::to_string(G - 1) + " of the " + std::to_string(G) +
                                " parameters, got " + std::to_string(encoder_size));
  pairs.resize(ne * nd * G);
  for (std::size_t i = 0; i < ne; ++i)
    for (std::size_t j = 0; j < nd; ++j) {
      float* pair = pairs.data() + (i * nd + j) * G;
      std::copy(encoders[i], encoders[i] + encoder_size, pair);
      std::copy(decoders[j] + encoder_size, decoders[j] + G, pair + encoder_size);
    }
  std::vector<double> losses(ne * nd), metrics(ne * nd);
  evaluator.population(pairs.data(), ne * nd, images, losses.data(), metrics.data(), nullptr);
  return losses;
}

std::vector<double> encoder_losses(const std::vector<double>& matrix, std::size_t n) {
  if (n == 0 || matrix.size() != n * n)
    throw std::invalid_argument("encoder_losses: a matrix of " + std::to_string(matrix.size()) +
                                " values is not " + std::to_string(n) + " x " +
                                std::to_string(n));
  std::vector<double> best(n);
  for (std::size_t k = 0; k < n; ++k)
    best[k] = *std::min_element(matrix.begin() + k * n, matrix.begin() + (k + 1) * n);
  return best;
}

std::size_t binary_tournament(const std::vector<double>& losses, Rng& rng) {
  if (losses.empty()) throw std::invalid_argument("binary_tournament: no members");
  const std::size_t a = rng.index(losses.size());
  const std::size_t b = rng.index(losses.size());
  return losses[a] < losses[b] ? a : b;
}

}  // namespace evoae
