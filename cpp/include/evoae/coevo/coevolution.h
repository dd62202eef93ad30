// Coevolved encoders and decoders (Lipizzaner-AE: Hemberg, Toutouh and O'Reilly, GECCO 2024)
// with activation-guided pruning (Jorgensen, Hemberg, Toutouh and O'Reilly, GECCO 2025), and
// the canonical training they compare with, on one dense autoencoder network. A cell holds a
// centre: one genome of that network, its first encoder_size parameters the encoder, the rest
// the decoder.
//
// An epoch visits every cell (sequential: one after another in a new random order; synchronous:
// all from the epoch's start, in parallel). A visit of cell c in epoch t:
//   1. its neighbourhood (coevo/topology.h) of n cells; the visit's order of the training
//      samples, a seeded permutation;
//   2. n > 1: the n x n pair-loss matrix (coevo/pair_losses.h) on the first `batch` samples of
//      that order; each member's loss is its encoder's best pair's (the row's minimum); a
//      binary tournament (two members drawn with replacement, the lower loss wins, ties the
//      second) picks member k, whose encoder and decoder (as the public code: the member's own
//      pair) are copied out for training; n = 1: the centre itself;
//   3. one pass of Adam (betas from the settings) over the samples in that order, `batch` at a
//      time, the L1 loss (mean |output - input|); the cell's learning rate;
//   4. with the schedule's probability (coevo/schedule.h, t of T = epochs - 1), a prune of
//      every dense layer by the operator (coevo/pruning.h): variance records the trained
//      pair's activations over the pass's whole batches, in the same order; conjunctive over
//      conjunctive_cases samples drawn with replacement;
//   5. the trained pair becomes the centre; coevolution: the learning rate gets N(0,
//      lr_mutation), kept in [1e-9, 10]; canonical (one cell): lr_0 lr_decay^floor(t /
//      lr_decay_every).
// After each epoch every centre is measured on all training samples; the best (the lowest
// loss, ties the first) is the answer.
//
// Every random draw is keyed (seed, purpose, epoch, cell) (core/rng.h), and the parallel parts
// (the evaluator, the synchronous visits) give the same bits at any thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "evoae/coevo/settings.h"
#include "evoae/core/stopping.h"
#include "evoae/eval/objective.h"
#include "evoae/nn/network.h"
#include "evoae/train/gradients.h"
#include "evoae/train/optimizer.h"

namespace evoae {

// What each epoch leaves: the best centre's loss on all training samples, its fraction of
// nonzero dense parameters, and the mean of that fraction over the centres.
struct EpochRecord {
  double best_loss;
  double best_kept;
  double mean_kept;
  std::size_t prunes;  // prunes done in the epoch
};

class Coevolution {
 public:
  // inputs: (S, input size) training samples, each its own target (an autoencoder: the output
  // shape must have the input's size). net: an input layer and dense layers only;
  // encoder_layers: how many of the dense layers form the encoder (1 .. dense layers - 1).
  // std::invalid_argument naming what does not fit.
  Coevolution(const Network& net, int encoder_layers, std::vector<float> inputs,
              CoevoSettings settings);
  Coevolution(const Coevolution&) = delete;  // the evaluators refer to net_
  Coevolution& operator=(const Coevolution&) = delete;

  void step();  // one epoch
  Advanced advance(const StopConditions& stop);

  const Network& network() const { return net_; }
  const CoevoSettings& settings() const { return settings_; }  // resolved
  std::size_t encoder_size() const { return encoder_size_; }
  std::size_t cells() const { return settings_.cells; }
  long generation() const { return epoch_; }  // epochs done
  std::uint64_t evaluations() const { return evaluations_; }  // (network, sample) passes
  std::size_t best_index() const { return best_; }
  double best_error() const { return losses_[best_]; }
  double best_metric() const { return losses_[best_]; }  // the L1 loss is the MAE
  const char* metric_name() const { return "MAE"; }
  long improved_at() const { return improved_at_; }
  std::vector<double> history() const;  // best_loss at the start and after each epoch
  const std::vector<EpochRecord>& records() const { return records_; }  // the start first
  const std::vector<double>& losses() const { return losses_; }  // each centre's, all samples
  const std::vector<double>& learning_rates() const { return learning_rates_; }
  std::vector<float> genome(std::size_t cell) const;  // (G)
  // The mean L1 loss of a genome (G) on samples (S, input size), each its own target.
  double loss_on(const float* genome, const float* samples, std::size_t S);

 private:
  struct VisitScratch {  // a thread's
    std::vector<std::size_t> order;
    std::vector<float> pairs, pair, grad;  // pair and grad padded to whole lanes
    // The training pair in lane 0 of a lane group (G, kLanes), the other lanes 0, and its
    // gradient likewise: kept from step to step, so that no step allocates (4 MB each on the
    // papers' network, fresh pages every step otherwise).
    std::vector<float> packed, packed_grad;
  };
  struct Visited {
    bool pruned = false;
    std::uint64_t evaluations = 0;
  };
  // Visit of cell c in epoch_: neighbours read from `source` (cells, G); the result written
  // to centres_ row c, the cell's learning rate and Adam state updated. Touches nothing of
  // another cell's, so that synchronous visits run in parallel.
  Visited visit(std::size_t c, const std::vector<float>& source, GradientEvaluator& evaluator,
                VisitScratch& s);
  std::uint64_t train_pass(std::size_t c, GradientEvaluator& evaluator, VisitScratch& s);
  std::uint64_t prune(std::size_t c, VisitScratch& s);  // returns the samples it ran
  void measure();  // losses_ of every centre, best_, the epoch's record

  Network net_;
  CoevoSettings settings_;
  std::size_t encoder_size_ = 0, padded_ = 0;  // padded_: G rounded up to whole lanes
  std::vector<float> inputs_;
  std::size_t samples_ = 0;
  std::vector<float> centres_;  // (cells, G)
  std::vector<double> learning_rates_;
  std::vector<OptimizerState> adam_;  // per cell, over the padded genome
  std::vector<GradientEvaluator> evaluators_;  // [0] the run's; one per thread (synchronous)
  std::vector<VisitScratch> scratch_;
  std::vector<double> losses_;
  std::vector<EpochRecord> records_;
  std::size_t best_ = 0;
  long epoch_ = 0;
  long improved_at_ = 0;
  std::uint64_t evaluations_ = 0;
};

}  // namespace evoae
