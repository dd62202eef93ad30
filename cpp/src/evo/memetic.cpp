// Memetic evolution's learning step; see memetic.h. The gradients and optimisers are
// training's (train/gradients.h, train/optimizer.h); this file only feeds them the agents.
#include "evoae/evo/memetic.h"

#include <stdexcept>
#include <string>
#include <utility>

#include "evoae/core/simd.h"
#include "evoae/train/settings.h"

namespace evoae {
namespace {

std::invalid_argument bad(const std::string& what) { return std::invalid_argument(what); }

// The loss of the gradient steps when none is given: the fitness's own measure, as a mean
// over the values (sae's sum would scale the steps with the image size).
Loss default_loss(const EvolutionSettings& s) {
  if (s.objective == ObjectiveKind::Classification) return Loss::SoftmaxCrossEntropy;
  return s.fitness == Fitness::AbsoluteSum ? Loss::MeanAbsolute : Loss::MeanSquared;
}

// Every lane's optimiser settings: the rate given, the rest training's defaults for the
// optimiser (train/settings.h resolves them: momentum, betas, epsilon, weight decay).
LaneSettings lane_settings(OptimizerKind kind, double rate) {
  TrainSettings t;
  t.optimizer = kind;
  t.learning_rate = {rate};
  t = resolve_train_settings(t);
  LaneSettings lanes;
  lanes.learning_rate = splat(static_cast<float>(rate));
  lanes.weight_decay = splat(static_cast<float>(t.weight_decay[0]));
  if (kind == OptimizerKind::Sgd) {
    lanes.momentum = splat(static_cast<float>(t.momentum[0]));
  } else {
    lanes.beta1 = splat(static_cast<float>(t.beta1[0]));
    lanes.beta2 = splat(static_cast<float>(t.beta2[0]));
    lanes.epsilon = splat(static_cast<float>(t.epsilon));
  }
  return lanes;
}

// The learners' own copy of the targets: (samples, output size).
std::vector<float> targets_of(const Network& net, const ObjectiveData& data) {
  if (!data.targets.empty()) return data.targets;
  if (data.labels.empty()) return data.inputs;  // an autoencoder
  const std::size_t classes = net.output_shape().size();
  std::vector<float> one_hot(data.num_samples * classes, 0.0f);
  for (std::size_t i = 0; i < data.num_samples; ++i) one_hot[i * classes + data.labels[i]] = 1.0f;
  return one_hot;
}

}  // namespace

EvolutionSettings resolve_memetic_settings(EvolutionSettings s) {
  if (s.gradient_steps == 0) {
    const EvolutionSettings plain;
    const std::pair<const char*, bool> given[] = {
        {"memetic", s.memetic != plain.memetic},
        {"gradient_rate", s.gradient_rate != plain.gradient_rate},
        {"gradient_optimizer", s.gradient_optimizer != plain.gradient_optimizer},
        {"gradient_loss", s.gradient_loss.has_value()}};
    for (const auto& [setting, is_given] : given)
      if (is_given)
        throw bad(std::string(setting) + " is a setting of memetic evolution: it needs "
                  "gradient_steps >= 1, got 0");
    return s;
  }
  if (s.memetic == Memetic::Lamarckian && s.strategy != StrategyKind::Ga)
    throw bad(std::string("memetic 'lamarckian' writes the learned weights into the genomes, "
                          "but strategy '") + name(s.strategy) + "' samples every agent from "
              "its distribution and learns from its own samples: choose memetic 'baldwinian' "
              "or strategy 'ga'");
  if (!s.gradient_loss) s.gradient_loss = default_loss(s);
  const std::string loss = loss_name(*s.gradient_loss);
  if (s.objective == ObjectiveKind::Classification && *s.gradient_loss != Loss::SoftmaxCrossEntropy)
    throw bad("the classification objective's outputs are logits: gradient_loss must be "
              "'softmax-ce', got '" + loss + "'");
  if (s.objective == ObjectiveKind::Reconstruction && *s.gradient_loss == Loss::SoftmaxCrossEntropy)
    throw bad("gradient_loss 'softmax-ce' needs the classification objective (labels); "
              "reconstruction learns by mae, sae, mse or bce");
  // Adam's steps do not scale with the gradient; SGD's on a mean loss over 784 pixels need
  // a large rate (the ten digits: 0.3 to 3 alike, 0.1 slower).
  if (s.gradient_rate == 0.0)
    s.gradient_rate = s.gradient_optimizer == OptimizerKind::Sgd ? 1.0 : 0.01;
  return s;
}

MemeticLearner::MemeticLearner(const Network& net, const ObjectiveData& data,
                               const EvolutionSettings& s, int threads)
    : net_(net), steps_(s.gradient_steps), optimizer_(s.gradient_optimizer),
      lane_settings_(lane_settings(s.gradient_optimizer, s.gradient_rate)),
      gradients_(net, *s.gradient_loss, Metric::MeanAbsoluteError, threads),
      num_samples_(data.num_samples), inputs_(data.inputs), targets_(targets_of(net, data)) {}

void MemeticLearner::learn(const float* genomes, std::size_t count,
                           const std::vector<std::size_t>& rows, float* learned) {
  if (count == 0) return;
  const std::size_t G = net_.num_params(), groups = lane_groups(count), group = G * kLanes;
  std::vector<float> weights = pack_lanes(genomes, count, G);
  grads_.resize(weights.size());
  losses_.resize(groups * kLanes);
  metrics_.resize(groups * kLanes);
  ImageSet images;
  images.inputs = inputs_.data();
  images.targets = targets_.data();
  images.rows = rows.empty() ? nullptr : rows.data();
  images.count = rows.empty() ? num_samples_ : rows.size();
  // Fresh optimisers: no agent inherits another's (or its own last) moments.
  std::vector<Optimizer> optimizers(groups, Optimizer(optimizer_, G, lane_settings_));
  for (int step = 0; step < steps_; ++step) {
    gradients_.population_packed(weights.data(), groups, images, losses_.data(),
                                 metrics_.data(), grads_.data());
    for (std::size_t g = 0; g < groups; ++g)
      optimizers[g].step(weights.data() + g * group, grads_.data() + g * group);
  }
  unpack_lanes(weights.data(), count, G, learned);
}

}  // namespace evoae
