// The loss of every encoder x decoder pair of a neighbourhood, in parallel, and the selection
// of the pair that trains: a pair is one
// network whose genome is an encoder's parameters (the first `encoder_size` of the network's)
// followed by a decoder's (the rest), so the matrix is one population evaluation
// (train/gradients.h) of the ne x nd pair genomes, each pair in its own SIMD lane.
#pragma once

#include <cstddef>
#include <vector>

#include "evoae/core/rng.h"
#include "evoae/train/gradients.h"

namespace evoae {

// losses (ne, nd) row-major: pair (i, j) = encoders[i] then decoders[j], each pointing at the
// genome (net.num_params() floats) that holds it (encoders[i]'s first encoder_size values,
// decoders[j]'s values from encoder_size on). The evaluator's loss over `images`; the same
// bits for any thread count and any order of the pairs. pairs: scratch, (ne nd, G) floats.
std::vector<double> pair_losses(GradientEvaluator& evaluator, const float* const* encoders,
                                std::size_t ne, const float* const* decoders, std::size_t nd,
                                std::size_t encoder_size, const ImageSet& images,
                                std::vector<float>& pairs);

// The selection from a neighbourhood's (n, n) matrix: each member's loss is its encoder's best
// pair's (the row's minimum); a binary tournament draws two members with replacement from rng
// (rng.index(n) twice) and returns the one with the lower loss (ties: the second drawn).
std::vector<double> encoder_losses(const std::vector<double>& matrix, std::size_t n);
std::size_t binary_tournament(const std::vector<double>& losses, Rng& rng);

}  // namespace evoae
