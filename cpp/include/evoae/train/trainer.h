// Training by backpropagation: one network (images across the SIMD lanes) or a population of
// networks (one per lane, each its own weights and per-network settings) on a data set, with
// the interface of the evolution's engine (evo/evolution.h), so that the one run loop
// (python/evoae/run.py) drives either: generation() counts steps, best_error() is the best
// network's loss, advance() stops as Evolution::advance does.
//
// Each step: the optimiser moves every network along the gradient of the last step's images,
// then the step's images are chosen (all training images, or a seeded mini-batch keyed by
// (seed, step)) and every network's loss, metric and gradient measured there in one pass
// (train/gradients.h). So losses(), metrics() and best_genome() always describe the current
// weights on the current step's images; the start (step 0) is measured at construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "evoae/core/stopping.h"
#include "evoae/eval/objective.h"
#include "evoae/nn/network.h"
#include "evoae/train/gradients.h"
#include "evoae/train/optimizer.h"
#include "evoae/train/settings.h"

namespace evoae {

// The images evaluate() measures on.
enum class DataPart { Train, Holdout, All };
DataPart data_part_from_name(const std::string& name);  // "train", "holdout", "all"

// Everything that determines the rest of a run besides the settings and the data; with them
// it restores a Trainer that continues bit for bit as the one it came from.
struct TrainerState {
  long step = 0;
  std::vector<float> genomes;   // (networks, G)
  std::vector<double> history;  // (step + 1): the best loss at the start and after each step
  std::uint64_t evaluations = 0;
  // The optimiser's moments, (networks, G) each: Adam's first and second; SGD's velocity in
  // first, second empty.
  std::vector<float> first, second;
};

class Trainer {
 public:
  // data: inputs (S, input size); targets (S, output size), or none for the inputs
  // themselves (the output shape must be the input's); or labels (S) of a classifier (one
  // output, a logit, per class; loss softmax-ce; metric the error rate). genomes: (networks,
  // G) to start from, or none for settings.init. std::invalid_argument naming the setting or
  // the data that do not fit, before anything large is allocated.
  Trainer(const Network& net, ObjectiveData data, TrainSettings settings,
          std::vector<float> genomes = {});
  // Restores a saved state (see state()); the same settings and data must be given.
  Trainer(const Network& net, ObjectiveData data, TrainSettings settings, TrainerState state);
  Trainer(const Trainer&) = delete;  // the evaluator refers to net_
  Trainer& operator=(const Trainer&) = delete;

  void step();  // one optimiser step of every network, then the next step's measure
  Advanced advance(const StopConditions& stop);
  TrainerState state() const;

  const Network& network() const { return net_; }
  const TrainSettings& settings() const { return settings_; }  // resolved
  std::size_t networks() const { return settings_.networks; }
  long generation() const { return step_; }  // steps done
  // (network, image) gradient evaluations done, the start's included.
  std::uint64_t evaluations() const { return evaluations_; }
  // Per network: the mean loss and metric over the current step's images.
  const std::vector<double>& losses() const { return losses_; }
  const std::vector<double>& metrics() const { return metrics_; }
  std::size_t best_index() const { return best_; }  // the lowest loss; ties: the lowest index
  double best_error() const { return losses_[best_]; }
  double best_metric() const { return metrics_[best_]; }
  const char* metric_name() const;  // "MAE", or "error rate" with labels
  const std::vector<double>& history() const { return history_; }
  long improved_at() const { return improved_at_; }  // the step of the lowest best loss
  std::vector<float> genome(std::size_t network) const;  // (G)
  std::vector<float> genomes() const;                    // (networks, G)
  std::size_t num_train() const { return train_rows_.size(); }
  std::size_t num_holdout() const { return holdout_rows_.size(); }
  const std::vector<std::size_t>& holdout_rows() const { return holdout_rows_; }  // sorted
  const std::vector<std::size_t>& batch() const { return batch_rows_; }  // this step's rows
  // The mean loss and metric of one genome (G) on a part of the images.
  Measure evaluate(const float* genome, DataPart part);

 private:
  // The settings resolved and checked with the data and the network; throws before any
  // large allocation.
  static TrainSettings checked(const Network& net, const ObjectiveData& data, TrainSettings s,
                               std::size_t given_genomes);
  void prepare(ObjectiveData data);  // targets, the split, the optimisers
  void start_from(const float* genomes);  // (networks, G) into the lanes
  void select_batch();  // batch_rows_ of step_
  void measure();  // losses, metrics and gradients of the current weights and batch
  LaneSettings lane_settings(std::size_t group) const;

  Network net_;
  TrainSettings settings_;
  GradientEvaluator evaluator_;
  std::vector<float> inputs_, targets_;  // (S, input size), (S, output size)
  std::vector<std::size_t> train_rows_, holdout_rows_, batch_rows_;
  std::size_t groups_ = 0;
  std::vector<float> params_, grads_;  // (groups, G, kLanes)
  std::vector<Optimizer> optimizers_;  // one per group
  std::vector<double> lane_losses_, lane_metrics_;  // (groups * kLanes)
  std::vector<double> losses_, metrics_, history_;
  std::size_t best_ = 0;
  long step_ = 0;
  long improved_at_ = 0;
  std::uint64_t evaluations_ = 0;
};

}  // namespace evoae
