// Losses of a network's output against a target, each with its gradient, over lanes: the
// output and target of one image are (n, kLanes) floats, lane l one network's (or one image's).
// Training (train/) averages them over the images of a step.
#pragma once

#include <string>
#include <vector>

namespace evoae {

// mae: mean over the n values of |y - t| (the evolution's measure); sae: the sum (the
// paper's fitness); mse: mean of (y - t)^2; bce: mean binary cross-entropy of outputs in
// (0, 1) (clamped to p in [1e-7, 1 - 1e-7]: no log 0; the gradient is (p - t) / (p (1 - p)) / n
// at the clamped p, so that a saturated output is still pushed back); softmax-ce:
// cross-entropy of softmax(y) (the outputs are logits) against target probabilities (a
// one-hot class), sum_i t_i (logsumexp(y) - y_i), the log-sum-exp taken after subtracting the
// largest y, with gradient (sum_j t_j) softmax(y)_i - t_i.
enum class Loss { MeanAbsolute, SumAbsolute, MeanSquared, BinaryCrossEntropy, SoftmaxCrossEntropy };
const char* loss_name(Loss loss);              // "mae", "sae", "mse", "bce", "softmax-ce"
Loss loss_from_name(const std::string& name);  // std::invalid_argument naming the valid ones
std::vector<std::string> loss_names();         // "mae" first

// loss[l] = the loss of lane l (kLanes floats); grad (n, kLanes) = d loss / d output, or null
// for the loss alone. |y - t|' at y = t is 0.
void loss_forward_backward(Loss loss, const float* output, const float* target, int n,
                           float* lane_losses, float* grad);

}  // namespace evoae
