// Optimisers for training by gradients: loops over a flat (num_params, kLanes) parameter
// buffer and its gradient, laid out like the genomes of a forward pass (simd.h), so that each
// lane is one network with hyper-parameters of its own. One kind for all lanes.
//
//   sgd    SGD with momentum (Nesterov off), weight decay as an L2 term of the gradient:
//          g += wd p; v = mu v + g; p -= lr v (v starts at 0, so the first v is g).
//   adam   Adam (Kingma & Ba 2015), weight decay as an L2 term: g += wd p;
//          m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
//          p -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps).
//   adamw  Adam with decoupled weight decay (Loshchilov & Hutter 2019): p *= 1 - lr wd
//          first, then Adam's step without the L2 term.
//
// Every lane computes the same operations in the same order, in float (products rounded on
// their own, no fused multiply-adds), so results do not depend on the lane width.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "evoae/core/simd.h"

namespace evoae {

enum class OptimizerKind { Adam, AdamW, Sgd };
const char* optimizer_name(OptimizerKind kind);              // "adam", "adamw", "sgd"
OptimizerKind optimizer_from_name(const std::string& name);  // std::invalid_argument
std::vector<std::string> optimizer_names();                  // "adam" first

// Each lane's hyper-parameters, lane l network l's (a lane with learning rate 0 stays as it
// is: padding). momentum is SGD's; beta1, beta2, epsilon Adam's and AdamW's.
struct LaneSettings {
  vfloat learning_rate = splat(0.01f);
  vfloat momentum = splat(0.9f);
  vfloat beta1 = splat(0.9f);
  vfloat beta2 = splat(0.999f);
  vfloat epsilon = splat(1e-8f);
  vfloat weight_decay = splat(0.0f);
};

// What a step depends on besides the parameters and gradients: the steps done and the
// moments, (num_params, kLanes) each like the parameters. SGD's velocity is `first`, its
// `second` is empty.
struct OptimizerState {
  long steps = 0;
  std::vector<float> first, second;
};

class Optimizer {
 public:
  Optimizer(OptimizerKind kind, std::size_t num_params, const LaneSettings& settings);

  // One step of every lane: params (num_params, kLanes) updated from grads laid out alike.
  void step(float* params, const float* grads);

  OptimizerKind kind() const { return kind_; }
  std::size_t num_params() const { return num_params_; }
  const LaneSettings& settings() const { return settings_; }
  const OptimizerState& state() const { return state_; }
  // Continues from a saved state (see state()); std::invalid_argument when its step count is
  // negative or its moments do not fit this optimiser.
  void restore(OptimizerState state);

 private:
  OptimizerKind kind_;
  std::size_t num_params_;
  LaneSettings settings_;
  OptimizerState state_;
};

}  // namespace evoae
