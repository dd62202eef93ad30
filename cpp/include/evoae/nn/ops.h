// The fast layer operations, as free functions op_forward(out, in, params, dims...). They run
// kLanes (8 or 16, see simd.h) genomes at once: every buffer is laid out channel-major, then
// row-major, then lane: index = ((c*H + row)*W + col)*kLanes + lane, and every parameter array
// holds each parameter for the kLanes genomes side by side. reference_ops.h holds the plain
// one-genome twins these are tested against.
//
// Backward ops sit beside their forward op (ops_backward.cpp holds them). A backward op takes
// dz, the gradient of the loss with respect to the op's output before its activation
// (activation_backward makes it from the output's gradient), and the op's input as the forward
// pass had it (read from the tape). It ADDS the gradient of its parameters into their buffers,
// laid out like the parameters (so that B images, or a tied layer and its source, sum into
// one gradient), and WRITES the gradient of its input into dx (dx may be null: no input
// gradient wanted, e.g. for the first layer). Every sum runs in a fixed order with explicit
// fmadd (simd.h), so results are the same for any thread count and batch shape.
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

// ---- backward ----------------------------------------------------------------------------
// Every gradient output (dx, dkernels, dweights, dbias) may be null: not wanted. Their plain
// twins: reference_backward.h.

// dz = dy * act'(scale * z) * scale, from the forward's output y = act(scale * z) (sigmoid:
// y (1 - y); tanh: 1 - y^2; ReLU: y > 0; identity: 1). count values, each kLanes wide.
// dz may be dy.
void activation_backward(float* dz, const float* y, const float* dy, long count, Activation act,
                         float scale = 1.0f);

// conv_forward's gradients. dz: (C*m, H-kh+1, W-kw+1, L); in: (C, H, W, L);
// dkernels += (m, kh, kw, L), each weight's sum over channels, rows, columns in order;
// dx = (C, H, W, L), the "full" convolution of dz with the kernels, computed as
// conv_transpose_forward (reducer m, identity) does it, with its scratch:
// padded: conv_transpose_padded_size(C*m, H-kh+1, W-kw+1, kh, kw, 1) floats (used for dx only).
void conv_backward(float* dx, float* dkernels, const float* dz, const float* in,
                   const float* kernels, int C, int H, int W, int kh, int kw, int m,
                   float* padded);

// maxpool_forward's: each output's gradient goes to the first input of its 2x2 block (row by
// row) that equals the maximum; the rest, and a dropped odd row or column, get 0.
// dx: (C, H, W, L); dy: (C, H/2, W/2, L); in: (C, H, W, L)
void maxpool_backward(float* dx, const float* dy, const float* in, int C, int H, int W);

// One term u (x) v of a dense weight gradient: u (B, n, L), v (B, k, L).
struct DenseTerm {
  const float* u;
  const float* v;
};
// dweights[i][j] += u[b][i] * v[b][j] over images b = 0..B-1 and, for each image, the count
// terms in order: one chain of fmadd per weight, read and written once per 4 images. A dense
// layer and the tied layers that use its weights sum into them this way, image by image, so
// that the result does not depend on how the images are split into batches.
void dense_weights_backward(float* dweights, const DenseTerm* terms, int count, int n, int k,
                            int B = 1);

// dense_forward's over B images (summed in image order): dweights += (n, k, L) (the term
// {dz, in} of dense_weights_backward); dbias += (n, L); dx = (B, k, L), each sum over i in
// order. dz: (B, n, L) already through the activation and scale.
void dense_backward(float* dx, float* dweights, float* dbias, const float* dz, const float* in,
                    const float* weights, int k, int n, int B = 1);

// dense_transposed_forward's: dweights += (n, k, L) (the source layer's; the term {in, dz});
// dbias += (k, L); dx = (B, n, L), each sum over j in order. dz: (B, k, L); in: (B, n, L).
void dense_transposed_backward(float* dx, float* dweights, float* dbias, const float* dz,
                               const float* in, const float* weights, int n, int k, int B = 1);

// unpool_forward's: each input gets the sum of its 2x2 block, in row order. dx: (C, H, W, L);
// dy: (C, 2H, 2W, L)
void unpool_backward(float* dx, const float* dy, int C, int H, int W);

// conv_transpose_forward's with any stride (1 or 2 in use): dz: (C/r, OH, OW, L) with
// OH = (H-1)*stride + kh, OW likewise; in: (C, H, W, L); dkernels += (r, kh, kw, L), each
// weight's sum over output channels, rows, columns in order; dx = (C, H, W, L), each value a
// strided correlation of dz with its kernel, taps in row order.
void conv_transpose_backward(float* dx, float* dkernels, const float* dz, const float* in,
                             const float* kernels, int C, int H, int W, int kh, int kw, int r,
                             int stride);

// unpool_conv_transpose_forward's: dx = (C, H, W, L) the gradient of the input before
// unpooling; dkernels += (r, kh, kw, L): the stride-2 gradient of k' = k (full) (*) ones(2, 2)
// into dupsampled, then dk[a][b] += dk'[a][b] + dk'[a+1][b] + dk'[a][b+1] + dk'[a+1][b+1].
// upsampled, dupsampled: r*(kh+1)*(kw+1)*L floats of scratch each.
void unpool_conv_transpose_backward(float* dx, float* dkernels, const float* dz,
                                    const float* in, const float* kernels, int C, int H, int W,
                                    int kh, int kw, int r, float* upsampled, float* dupsampled);

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
