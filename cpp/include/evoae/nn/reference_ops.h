// Plain reference twins of ops.h: each output element computed straight from its
// definition, no loop reordering. Tests compare the fast ops against these.
#pragma once

#include <vector>

#include "evoae/nn/activation.h"

namespace evoae {
class Network;
}

namespace evoae::reference {

void conv_forward(float* out, const float* in, const float* kernels,
                  int C, int H, int W, int kh, int kw, int m,
                  Activation act = Activation::ReLU);
void maxpool_forward(float* out, const float* in, int C, int H, int W);
void dense_sigmoid_forward(float* out, const float* in, const float* weights,
                           const float* bias, int k, int n);
// out[i] = act(scale * (sum_j weights[i][j] * in[j] + bias[i])), one image, one genome.
// out: (n); in: (k); weights: (n, k); bias: (n).
void dense_forward(float* out, const float* in, const float* weights, const float* bias,
                   int k, int n, Activation act, float scale = 1.0f);
// out[j] = act(scale * (sum_i weights[i][j] * in[i] + bias[j])). out: (k); in: (n);
// weights: (n, k) of the dense layer k -> n; bias: (k).
void dense_transposed_forward(float* out, const float* in, const float* weights,
                              const float* bias, int n, int k, Activation act,
                              float scale = 1.0f);
float activate(float x, Activation act);
void unpool_forward(float* out, const float* in, int C, int H, int W);
void conv_transpose_forward(float* out, const float* in, const float* kernels,
                            int C, int H, int W, int kh, int kw, int r,
                            Activation act = Activation::Sigmoid);

// The whole network on one genome (num_params floats) and one image, layer by layer with
// the ops above. Returns output_shape().size() floats.
std::vector<float> network_forward(const Network& net, const float* genome, const float* image);

}  // namespace evoae::reference
