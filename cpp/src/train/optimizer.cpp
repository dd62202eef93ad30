// The optimisers' loops; see optimizer.h.
#include "evoae/train/optimizer.h"

#include <cmath>
#include <stdexcept>

namespace evoae {
namespace {

vfloat vsqrt(vfloat x) {
  for (int l = 0; l < kLanes; ++l) x[l] = std::sqrt(x[l]);  // correctly rounded: any width
  return x;
}

void sgd_step(float* params, const float* grads, float* velocity, std::size_t G,
              const LaneSettings& s) {
  for (std::size_t i = 0; i < G * kLanes; i += kLanes) {
    const vfloat p = load(params + i);
    const vfloat g = load(grads + i) + s.weight_decay * p;
    const vfloat v = s.momentum * load(velocity + i) + g;
    store(velocity + i, v);
    store(params + i, p - s.learning_rate * v);
  }
}

// Adam, or AdamW when `decoupled`; t: this step's number, from 1.
void adam_step(float* params, const float* grads, float* m1, float* m2, std::size_t G,
               const LaneSettings& s, long t, bool decoupled) {
  // The bias corrections per lane, in double: b^t of a b near 1 needs it.
  vfloat step_size, root_c2;
  for (int l = 0; l < kLanes; ++l) {
    const double t_ = static_cast<double>(t);
    step_size[l] = static_cast<float>(s.learning_rate[l] / (1.0 - std::pow(double(s.beta1[l]), t_)));
    root_c2[l] = static_cast<float>(std::sqrt(1.0 - std::pow(double(s.beta2[l]), t_)));
  }
  const vfloat one_b1 = 1.0f - s.beta1, one_b2 = 1.0f - s.beta2;
  const vfloat l2 = decoupled ? vfloat{} : s.weight_decay;
  const vfloat shrink = decoupled ? 1.0f - s.learning_rate * s.weight_decay : splat(1.0f);
  for (std::size_t i = 0; i < G * kLanes; i += kLanes) {
    vfloat p = load(params + i);
    const vfloat g = load(grads + i) + l2 * p;
    const vfloat m = s.beta1 * load(m1 + i) + one_b1 * g;
    const vfloat v = s.beta2 * load(m2 + i) + one_b2 * (g * g);
    store(m1 + i, m);
    store(m2 + i, v);
    if (decoupled) p = p * shrink;
    store(params + i, p - step_size * (m / (vsqrt(v) / root_c2 + s.epsilon)));
  }
}

}  // namespace

const char* optimizer_name(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::Adam: return "adam";
    case OptimizerKind::AdamW: return "adamw";
    case OptimizerKind::Sgd: return "sgd";
  }
  return "";
}

std::vector<std::string> optimizer_names() { return {"adam", "adamw", "sgd"}; }

OptimizerKind optimizer_from_name(const std::string& name) {
  for (OptimizerKind k : {OptimizerKind::Adam, OptimizerKind::AdamW, OptimizerKind::Sgd})
    if (name == optimizer_name(k)) return k;
  throw std::invalid_argument("unknown optimizer '" + name + "': choose adam, adamw, sgd");
}

Optimizer::Optimizer(OptimizerKind kind, std::size_t num_params, const LaneSettings& settings)
    : kind_(kind), num_params_(num_params), settings_(settings) {
  state_.first.assign(num_params * kLanes, 0.0f);
  if (kind != OptimizerKind::Sgd) state_.second.assign(num_params * kLanes, 0.0f);
}

void Optimizer::step(float* params, const float* grads) {
  ++state_.steps;
  if (kind_ == OptimizerKind::Sgd)
    sgd_step(params, grads, state_.first.data(), num_params_, settings_);
  else
    adam_step(params, grads, state_.first.data(), state_.second.data(), num_params_,
              settings_, state_.steps, kind_ == OptimizerKind::AdamW);
}

void Optimizer::restore(OptimizerState state) {
  const std::size_t n = num_params_ * kLanes;
  const std::size_t second = kind_ == OptimizerKind::Sgd ? 0 : n;
  if (state.steps < 0)
    throw std::invalid_argument("the optimizer state's steps must be >= 0, got " +
                                std::to_string(state.steps));
  if (state.first.size() != n || state.second.size() != second)
    throw std::invalid_argument(std::string("the optimizer state of '") + optimizer_name(kind_) +
                                "' must hold " + std::to_string(n) + " first and " +
                                std::to_string(second) + " second moments, got " +
                                std::to_string(state.first.size()) + " and " +
                                std::to_string(state.second.size()));
  state_ = std::move(state);
}

}  // namespace evoae
