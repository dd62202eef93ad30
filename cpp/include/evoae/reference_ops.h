// Plain reference twins of ops.h: each output element computed straight from its
// definition, no loop reordering. Tests compare the fast ops against these.
#pragma once

#include <vector>

namespace evoae {
class Network;
}

namespace evoae::reference {

void conv_forward(float* out, const float* in, const float* kernels,
                  int C, int H, int W, int kh, int kw, int m);
void maxpool_forward(float* out, const float* in, int C, int H, int W);
void dense_sigmoid_forward(float* out, const float* in, const float* weights,
                           const float* bias, int k, int n);
void unpool_forward(float* out, const float* in, int C, int H, int W);
void conv_transpose_forward(float* out, const float* in, const float* kernels,
                            int C, int H, int W, int kh, int kw, int r);

// The whole network on one genome (num_params floats) and one image, layer by layer with
// the ops above. Returns output_shape().size() floats.
std::vector<float> network_forward(const Network& net, const float* genome, const float* image);

}  // namespace evoae::reference
