// The fast layer operations, as free functions op_forward(out, in, params, dims...). They run
// kLanes (8 or 16, see simd.h) genomes at once: every buffer is laid out channel-major, then
// row-major, then lane: index = ((c*H + row)*W + col)*kLanes + lane, and every parameter array
// holds each parameter for the kLanes genomes side by side. reference_ops.h holds the plain
// one-genome twins these are tested against.
#pragma once

#include "evoae/nn/activation.h"

namespace evoae {

// "Valid" cross-correlation, stride 1, channel multiplier m, then an activation (ReLU, the
// original's, by default).
// out: (C*m, H-kh+1, W-kw+1, L), channel i*m+j = act(in channel i (*) kernel j)
// in: (C, H, W, L); kernels: (m, kh, kw, L)
void conv_forward(float* out, const float* in, const float* kernels,
                  int C, int H, int W, int kh, int kw, int m,
                  Activation act = Activation::ReLU);

// 2x2 max, stride 2; a last odd row or column is dropped.
// out: (C, H/2, W/2, L); in: (C, H, W, L)
void maxpool_forward(float* out, const float* in, int C, int H, int W);

// Fully connected + sigmoid: out[i] = sigmoid(sum_j weights[i][j] * in[j] + bias[i]);
// dense_forward with Activation::Sigmoid and one image.
// out: (n, L); in: (k, L); weights: (n, k, L); bias: (n, L)
void dense_sigmoid_forward(float* out, const float* in, const float* weights,
                           const float* bias, int k, int n);

// Fully connected + activation over a batch of B images that share the genomes (weights are read
// once per batch, not once per image): out[b][i] = act(scale * (sum_j weights[i][j] * in[b][j] +
// bias[i])). Each output sums bias first, then each product (madd in simd.h: rounded on its own, or
// fused in an EVOAE_FMA build), j = 0, 1, ... in order: every image's result is the same for any B,
// and with sigmoid and scale 1 (not multiplied) this is dense_sigmoid_forward.
// out: (B, n, L); in: (B, k, L); weights: (n, k, L); bias: (n, L)
void dense_forward(float* out, const float* in, const float* weights, const float* bias,
                   int k, int n, Activation act, int B = 1, float scale = 1.0f);

// The tied (transposed) form: the weights of a dense layer k -> n used to map n -> k,
// out[b][j] = act(scale * (sum_i weights[i][j] * in[b][i] + bias[j])), summed bias first,
// then i in order, products unfused.
// out: (B, k, L); in: (B, n, L); weights: (n, k, L) as the dense layer stores them; bias: (k, L)
void dense_transposed_forward(float* out, const float* in, const float* weights,
                              const float* bias, int n, int k, Activation act, int B = 1,
                              float scale = 1.0f);

// Nearest-neighbour 2x upsampling: every value fills its 2x2 block.
// out: (C, 2H, 2W, L); in: (C, H, W, L)
void unpool_forward(float* out, const float* in, int C, int H, int W);

// Transposed convolution ("full"), channel reducer r, then an activation (sigmoid, the
// original's, by default):
// out[i][p][q] = act(sum_{j<r} sum_{a,b} in[i*r+j][y][x] * kernel_j[a][b]) over the
// (y, x, a, b) with p = y*stride + a, q = x*stride + b. Computed as stride^2 phases (outputs
// with the same p % stride and q % stride), each a plain correlation of a zero-padded input.
// out: (C/r, (H-1)*stride+kh, (W-1)*stride+kw, L); in: (C, H, W, L); kernels: (r, kh, kw, L);
// padded: conv_transpose_padded_size(C, H, W, kh, kw, stride) floats of scratch (lanes included)
void conv_transpose_forward(float* out, const float* in, const float* kernels,
                            int C, int H, int W, int kh, int kw, int r, int stride,
                            float* padded, Activation act = Activation::Sigmoid);
int conv_transpose_padded_size(int C, int H, int W, int kh, int kw, int stride);

// unpool followed by conv_transpose, done as one stride-2 transposed convolution: a value
// spread over a 2x2 block and then by kernel k lands where a stride-2 transposed convolution
// with kernel k' = k (full) (*) ones(2, 2) puts it, at (2+1)/4 of the work for 5x5 kernels.
// out: (C/r, 2H+kh-1, 2W+kw-1, L); in: (C, H, W, L) before unpooling; kernels: (r, kh, kw, L);
// upsampled: r*(kh+1)*(kw+1)*L floats of scratch; padded: as conv_transpose_forward with
// stride 2 and kernels of (kh+1)x(kw+1)
void unpool_conv_transpose_forward(float* out, const float* in, const float* kernels,
                                   int C, int H, int W, int kh, int kw, int r,
                                   float* upsampled, float* padded,
                                   Activation act = Activation::Sigmoid);

}  // namespace evoae
