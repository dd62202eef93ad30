// Internal to ops.cpp and ops_backward.cpp: the 2x2 box sums behind the fused unpool +
// conv_transpose (ops.h), defined in ops.cpp.
#pragma once

namespace evoae {

// out[a][b] = the sum of in[a + sign*da][b + sign*db] over da, db in {0, 1} in row order, from
// 0, for the taps inside in (ih x iw), for r kernels; out and in hold kLanes values a tap.
// sign -1 spreads a kernel over 2x2 (k' = k (full) (*) ones(2, 2), unpool_conv_transpose_forward's
// kernel), sign +1 gathers it back (the gradient of k from that of k'), added to out where `add`.
void box_sums(float* out, int oh, int ow, const float* in, int ih, int iw, int r, int sign,
              bool add);

}  // namespace evoae
