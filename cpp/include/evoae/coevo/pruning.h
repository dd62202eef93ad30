// Pruning operators on the dense layers of any evoae network: a pruned weight or bias is set
// to 0 in the genome (not frozen: training may grow it back). A dense layer k -> n holds its
// weights (n, k) by rows, row u the inputs of neuron u, then its n biases (nn/layer.h), so
// pruning neuron u zeroes row u and bias u.
//
//   random       round(amount x size) distinct entries of every dense layer's weights, and as
//                many of its biases, drawn uniformly (already-zero entries may be drawn again).
//   variance     each neuron u of a layer scored by the spread of its activations over the
//                recorded passes (variance_scores); the scores min-max normalised to q in
//                [0, 1] (highest: (s - min)/(max - min), lowest: (max - s)/(max - min); all
//                equal: nothing pruned); every weight of row u and bias u zeroed with
//                probability q_u, each on its own draw. So with highest the neuron that varies
//                most is always pruned and the one that varies least never (the public code).
//   conjunctive  lexicase-style (conjunctive_selection): whole neurons pruned.
#pragma once

#include <cstddef>
#include <vector>

#include "evoae/coevo/settings.h"
#include "evoae/core/rng.h"
#include "evoae/nn/network.h"

namespace evoae {

// The indices (into net.layers()) of the network's dense layers, in order.
std::vector<std::size_t> dense_layers(const Network& net);

// Layer by layer of dense_layers(net), its outputs (after its activation, as the tape keeps
// them) over `rows` recorded inputs: values[k] is (rows, units of layer k), row-major.
struct ActivationRecord {
  std::size_t rows = 0;
  std::vector<std::vector<float>> values;
};

// Per neuron u: sum over batch positions b of the standard deviation (over the P = rows /
// batch passes, divided by P) of its activation at position b, the record's rows being pass
// after pass of `batch` images. values: (rows, units). std::invalid_argument unless batch
// divides rows.
std::vector<double> variance_scores(const float* values, std::size_t rows, std::size_t units,
                                    std::size_t batch);
// q_u of the variance operator (see above) from the scores.
std::vector<double> variance_prune_probabilities(const std::vector<double>& scores,
                                                 VarianceDirection direction);
// The lexicase-style choice of neurons to prune, from (cases, units) activations: on each case
// a neuron passes when (a - min) / (max - min) < threshold, min and max over the layer's units
// on that case (a case whose units are all equal passes none). Starting from the first case's
// passing set, it is intersected with case after case (the first included) while it holds
// more than one neuron; what it holds at the end is pruned (possibly one or none).
std::vector<bool> conjunctive_selection(const float* values, std::size_t cases,
                                        std::size_t units, double threshold);

// The operators on a genome (net.num_params() floats). Draws come from rng in layer order.
void prune_random(const Network& net, float* genome, double amount, Rng& rng);
// Layer `layer` (an index into net.layers()): every weight of row u and bias u zeroed with
// probability q[u], one draw each (q[u] = 0: never, 1: always).
void prune_with_probabilities(const Network& net, float* genome, std::size_t layer,
                              const std::vector<double>& q, Rng& rng);
// Layer `layer`: row u and bias u zeroed where neurons[u].
void prune_neurons(const Network& net, float* genome, std::size_t layer,
                   const std::vector<bool>& neurons);

// The fraction of the dense layers' parameters (weights and biases) that are not 0.
double kept_fraction(const Network& net, const float* genome);

}  // namespace evoae
