// The GAN losses of gan_loss.h, one logit at a time (a batch has a few hundred: no vectors).
#include "evoae/gan/gan_loss.h"

#include <cmath>
#include <stdexcept>

namespace evoae {
namespace {

constexpr GeneratorLoss kLosses[] = {GeneratorLoss::Minimax, GeneratorLoss::NonSaturating,
                                     GeneratorLoss::LeastSquares};

}  // namespace

const char* generator_loss_name(GeneratorLoss loss) {
  switch (loss) {
    case GeneratorLoss::Minimax: return "minimax";
    case GeneratorLoss::NonSaturating: return "nonsaturating";
    case GeneratorLoss::LeastSquares: return "least-squares";
  }
  return "?";
}

GeneratorLoss generator_loss_from_name(const std::string& name) {
  for (GeneratorLoss loss : kLosses)
    if (name == generator_loss_name(loss)) return loss;
  throw std::invalid_argument("unknown generator loss \"" + name +
                              "\": use minimax, nonsaturating or least-squares");
}

std::vector<std::string> generator_loss_names() {
  std::vector<std::string> names;
  for (GeneratorLoss loss : kLosses) names.push_back(generator_loss_name(loss));
  return names;
}

float sigmoid(float x) {
  // e^-|x| never overflows; the two branches are the same function.
  const float e = std::exp(-std::fabs(x));
  return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

float softplus(float x) { return std::fmax(x, 0.0f) + std::log1p(std::exp(-std::fabs(x))); }

float generator_loss(GeneratorLoss loss, float logit, float* slope) {
  const float s = sigmoid(logit);
  switch (loss) {
    case GeneratorLoss::Minimax:
      *slope = -s;
      return -softplus(logit);
    case GeneratorLoss::NonSaturating:
      *slope = s - 1.0f;
      return softplus(-logit);
    case GeneratorLoss::LeastSquares: {
      // 1 - s from sigmoid(-logit): exact where s rounds to 1.
      const float q = sigmoid(-logit);
      *slope = -2.0f * q * s * q;
      return q * q;
    }
  }
  *slope = 0.0f;
  return 0.0f;
}

float discriminator_loss(bool real, float logit, float* slope) {
  if (real) {
    *slope = -sigmoid(-logit);  // sigmoid(d) - 1
    return softplus(-logit);
  }
  *slope = sigmoid(logit);
  return softplus(logit);
}

}  // namespace evoae
