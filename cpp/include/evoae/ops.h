// The layer operations as free functions: op_forward(out, in, params, dims...).
// These are the fast versions used by Network; reference_ops.h holds their plain twins.
// Every buffer is channel-major, then row-major (see shape.h).
#pragma once

namespace evoae {

float sigmoid(float x);

// "Valid" cross-correlation, stride 1, channel multiplier m, then ReLU.
// out: (C*m, H-kh+1, W-kw+1), channel i*m+j = ReLU(in channel i (*) kernel j)
// in: (C, H, W); kernels: (m, kh, kw)
void conv_forward(float* out, const float* in, const float* kernels,
                  int C, int H, int W, int kh, int kw, int m);

// 2x2 max, stride 2; a last odd row or column is dropped.
// out: (C, H/2, W/2); in: (C, H, W)
void maxpool_forward(float* out, const float* in, int C, int H, int W);

// Fully connected + sigmoid: out[i] = sigmoid(sum_j weights[i][j] * in[j] + bias[i]).
// out: (n); in: (k); weights: (n, k) row-major; bias: (n)
void dense_sigmoid_forward(float* out, const float* in, const float* weights,
                           const float* bias, int k, int n);

// Nearest-neighbour 2x upsampling: every value fills its 2x2 block.
// out: (C, 2H, 2W); in: (C, H, W)
void unpool_forward(float* out, const float* in, int C, int H, int W);

// "Full" transposed convolution, stride 1, channel reducer r, then sigmoid.
// out: (C/r, H+kh-1, W+kw-1), channel i = sigmoid(sum_{j<r} trconv(in channel i*r+j, kernel j))
// in: (C, H, W); kernels: (r, kh, kw)
void conv_transpose_forward(float* out, const float* in, const float* kernels,
                            int C, int H, int W, int kh, int kw, int r);

}  // namespace evoae
