// Training by gradients (train/): the optimisers against hand-worked steps and a plain
// one-parameter twin, each lane with its own settings.
#include <cmath>
#include <random>
#include <vector>

#include "check.h"
#include "evoae/train/optimizer.h"

using namespace evoae;
using lanes::L;

namespace {

// -- optimisers -------------------------------------------------------------------------------

// The plain twin of one lane: one parameter, the formulas of optimizer.h written out again in
// float, one operation at a time.
struct PlainOptimizer {
  OptimizerKind kind;
  float lr, momentum, beta1, beta2, epsilon, decay;
  float m = 0, v = 0;
  long t = 0;

  float step(float p, float g) {
    ++t;
    if (kind == OptimizerKind::Sgd) {
      g = g + decay * p;
      m = momentum * m + g;
      return p - lr * m;
    }
    if (kind == OptimizerKind::Adam) g = g + decay * p;
    else p = p * (1.0f - lr * decay);
    m = beta1 * m + (1.0f - beta1) * g;
    v = beta2 * v + (1.0f - beta2) * (g * g);
    const float step_size = static_cast<float>(lr / (1.0 - std::pow(double(beta1), double(t))));
    const float root_c2 = static_cast<float>(std::sqrt(1.0 - std::pow(double(beta2), double(t))));
    return p - step_size * (m / (std::sqrt(v) / root_c2 + epsilon));
  }
};

// One parameter in every lane, lane 0 with the hand-worked settings (lr 0.1, p = 1,
// gradients 0.5 then -0.25); the other lanes' settings and gradients differ. Returns lane 0
// after each of the two steps and checks every lane against the plain twin, bit for bit.
std::vector<float> two_steps(OptimizerKind kind, float momentum, float decay) {
  LaneSettings s;
  std::vector<PlainOptimizer> plain;
  for (int l = 0; l < L; ++l) {
    s.learning_rate[l] = 0.1f / (1 + l);
    s.momentum[l] = momentum - 0.01f * l;
    s.beta1[l] = 0.9f - 0.02f * l;
    s.beta2[l] = 0.999f - 0.001f * l;
    s.epsilon[l] = 1e-8f * (1 + l);
    s.weight_decay[l] = decay * (1 + l);
    plain.push_back({kind, s.learning_rate[l], s.momentum[l], s.beta1[l], s.beta2[l],
                     s.epsilon[l], s.weight_decay[l]});
  }
  Optimizer opt(kind, 1, s);
  std::vector<float> p(L, 1.0f), want(L, 1.0f), lane0;
  for (float g0 : {0.5f, -0.25f}) {
    std::vector<float> g(L);
    for (int l = 0; l < L; ++l) g[l] = g0 * (1 + 0.1f * l);
    opt.step(p.data(), g.data());
    for (int l = 0; l < L; ++l) want[l] = plain[l].step(want[l], g[l]);
    for (int l = 0; l < L; ++l) CHECK(p[l] == want[l]);
    lane0.push_back(p[0]);
  }
  CHECK(opt.state().steps == 2);
  return lane0;
}

}  // namespace

TEST(sgd_momentum_steps) {
  // v = 0.5, p = 1 - 0.1 * 0.5; v = 0.9 * 0.5 - 0.25 = 0.2, p = 0.95 - 0.02.
  check_values(two_steps(OptimizerKind::Sgd, 0.9f, 0.0f), {0.95, 0.93}, 1e-7, "sgd");
  // Weight decay 0.1 as an L2 term: g = 0.5 + 0.1, p = 0.94; g = -0.25 + 0.094,
  // v = 0.54 - 0.156 = 0.384, p = 0.94 - 0.0384.
  check_values(two_steps(OptimizerKind::Sgd, 0.9f, 0.1f), {0.94, 0.9016}, 1e-7,
                      "sgd with decay");
}

TEST(adam_first_two_steps) {
  // Step 1: m = 0.05, v = 0.00025, unbiased 0.5 and 0.25: p = 1 - 0.1 * 0.5 / (0.5 + 1e-8).
  // Step 2: m = 0.045 - 0.025 = 0.02, v = 0.00024975 + 0.0000625 = 0.00031225;
  // p = 0.9 - (0.1 / 0.19) * 0.02 / (sqrt(0.00031225) / sqrt(0.001999) + 1e-8).
  check_values(two_steps(OptimizerKind::Adam, 0.9f, 0.0f), {0.900000002, 0.8733662987},
                      1e-7, "adam");
}

TEST(adamw_decays_the_weights_first) {
  // p *= 1 - 0.1 * 0.01 before each of Adam's steps: 0.999 - 0.1, then 0.899 * 0.999 -
  // 0.0266337 (Adam's second step as above).
  check_values(two_steps(OptimizerKind::AdamW, 0.9f, 0.01f), {0.899000002, 0.8714672987},
                      1e-7, "adamw");
}

TEST(optimizer_state_restores_bit_for_bit) {
  std::mt19937 gen(3);
  const std::size_t G = 5;
  for (OptimizerKind kind : {OptimizerKind::Sgd, OptimizerKind::Adam, OptimizerKind::AdamW}) {
    LaneSettings s;
    s.weight_decay = splat(0.01f);
    Optimizer a(kind, G, s);
    std::vector<float> p = random_buffer(gen, G * L), q;
    std::vector<std::vector<float>> grads;
    for (int k = 0; k < 4; ++k) grads.push_back(random_buffer(gen, G * L));
    a.step(p.data(), grads[0].data());
    a.step(p.data(), grads[1].data());
    Optimizer b(kind, G, s);
    b.restore(a.state());
    q = p;
    for (int k = 2; k < 4; ++k) {
      a.step(p.data(), grads[k].data());
      b.step(q.data(), grads[k].data());
    }
    CHECK(p == q);
    CHECK(b.state().steps == 4);
    OptimizerState bad = a.state();
    bad.first.pop_back();
    CHECK_THROWS_AS(b.restore(bad), std::invalid_argument);
  }
  CHECK(optimizer_from_name("adamw") == OptimizerKind::AdamW);
  CHECK_THROWS_AS(optimizer_from_name("rmsprop"), std::invalid_argument);
}
