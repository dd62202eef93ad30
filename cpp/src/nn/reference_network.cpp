// Reference forward pass of a whole network in float: reference_backward.h's tape of the plain
// ops, one genome, no fusion.
#include "evoae/nn/reference_backward.h"
#include "evoae/nn/reference_ops.h"

namespace evoae::reference {

std::vector<float> network_forward(const Network& net, const float* genome, const float* image) {
  return network_forward<float>(net, genome, image);
}

}  // namespace evoae::reference
