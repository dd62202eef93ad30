// Memetic evolution (Moscato 1989): every agent learns before it is measured. Between a
// strategy's ask() and the objective's measure, the engine (evolution.h) hands the agents
// whose fitness is unknown to a MemeticLearner: each takes settings.gradient_steps steps of
// an optimiser of training (train/optimizer.h, a fresh state for every agent each time)
// along the gradient of the loss on the generation's samples (all of them, or the
// objective's batch, the same ones at every step), and is measured with the weights it
// learned. Lamarckian: the learned weights replace its genome (Strategy::replace_genomes),
// so the strategy breeds from them; Baldwinian: the genome stays as the strategy made it and
// only its fitness is the learned weights' (Hinton & Nowlan 1987; Whitley, Gordon & Mathias
// 1994, "Lamarckian evolution, the Baldwin effect and function optimization").
//
// The agents run kLanes to a group, one per lane, in the population mode of
// train/gradients.h: a lane's arithmetic depends neither on the other lanes nor on the
// thread count, so an agent learns the same weights alone as in any population.
#pragma once

#include <cstddef>
#include <vector>

#include "evoae/eval/objective.h"
#include "evoae/evo/settings.h"
#include "evoae/nn/network.h"
#include "evoae/train/gradients.h"
#include "evoae/train/optimizer.h"

namespace evoae {

// The memetic settings checked against the others and their defaults resolved (the loss
// from the fitness, the learning rate from the optimiser); std::invalid_argument naming the
// setting. Settings that need gradient steps are refused without them.
EvolutionSettings resolve_memetic_settings(EvolutionSettings s);

class MemeticLearner {
 public:
  // settings: resolved, gradient_steps >= 1. data: already checked by the objective; the
  // learner keeps its own inputs and targets (the inputs themselves, the given targets, or
  // the labels one-hot).
  MemeticLearner(const Network& net, const ObjectiveData& data, const EvolutionSettings& settings,
                 int threads);

  // learned (count, G) = genomes (count, G) after the gradient steps on the samples `rows`
  // (sorted sample numbers as Objective::batch(); empty: all samples). learned may not
  // overlap genomes.
  void learn(const float* genomes, std::size_t count, const std::vector<std::size_t>& rows,
             float* learned);

 private:
  const Network& net_;
  int steps_;
  OptimizerKind optimizer_;
  LaneSettings lane_settings_;  // every lane alike
  GradientEvaluator gradients_;
  std::size_t num_samples_;
  std::vector<float> inputs_, targets_;  // (samples, input size), (samples, output size)
  std::vector<float> grads_;             // (groups, G, kLanes), reused
  std::vector<double> losses_, metrics_;  // (groups * kLanes): computed alongside, unused
};

}  // namespace evoae
