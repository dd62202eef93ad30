// The losses of a GAN on one logit d of the discriminator (its output before the sigmoid,
// D(x) = sigmoid(d) the probability that x is real), each with its slope d loss / d d. A
// generator minimises one of three (the mutations of E-GAN, Wang et al. 2019):
//
//   minimax         log(1 - D)    = -softplus(d)   slope -sigmoid(d)
//   nonsaturating   -log D        =  softplus(-d)  slope sigmoid(d) - 1
//   least-squares   (D - 1)^2                      slope 2 (D - 1) D (1 - D)
//
// The discriminator minimises the binary cross-entropy: softplus(-d) on a real sample (slope
// sigmoid(d) - 1), softplus(d) on a fake one (slope sigmoid(d)). softplus(x) = log(1 + e^x) is
// taken as max(x, 0) + log1p(e^-|x|): no overflow at any logit.
#pragma once

#include <string>
#include <vector>

namespace evoae {

enum class GeneratorLoss { Minimax, NonSaturating, LeastSquares };
const char* generator_loss_name(GeneratorLoss loss);  // "minimax", "nonsaturating", ...
// std::invalid_argument naming the valid names for another.
GeneratorLoss generator_loss_from_name(const std::string& name);
std::vector<std::string> generator_loss_names();  // "minimax", "nonsaturating", "least-squares"

float sigmoid(float x);
float softplus(float x);

// The loss of one logit; *slope = d loss / d logit.
float generator_loss(GeneratorLoss loss, float logit, float* slope);
float discriminator_loss(bool real, float logit, float* slope);

}  // namespace evoae
