// Backpropagation through the tape of a forward pass (Network::backward): layer by layer from
// the last, each through its op's backward (ops.h), the gradients in ping-pong buffers.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "evoae/core/simd.h"
#include "evoae/nn/network.h"
#include "evoae/nn/ops.h"

namespace evoae {

void Network::backward(const float* genomes, const float* dy, int B, Workspace& ws,
                       float* grads, float* dinput) const {
  if (!ws.keeps_activations())
    throw std::invalid_argument(
        "backward: the workspace keeps no activations (make it with keep_activations = true)");
  if (B < 1 || B > ws.batch)
    throw std::invalid_argument("backward: " + std::to_string(B) +
                                " images per lane, the workspace holds " +
                                std::to_string(ws.batch));
  // Without dinput, layers up to the first with parameters need no input gradient: the walk
  // ends there.
  std::size_t first = 1;
  while (!dinput && first < layers_.size() && layers_[first].num_params() == 0) ++first;

  // g: the gradient of the current layer's output, (B, output size, kLanes): dy, then one of
  // the two buffers. The gradient before an activation replaces g where g is the workspace's
  // own; the input gradient goes to the other buffer.
  const float* g = dy;
  float* const buffers[2] = {ws.grad_a.data(), ws.grad_b.data()};
  for (std::size_t i = layers_.size() - 1; i >= first; --i) {
    const Layer& l = layers_[i];
    // An unpool directly followed by a conv_transpose ran fused: their ops are one here too.
    const bool fused = l.is<ConvTranspose>() && layers_[i - 1].is<Unpool>();
    const std::size_t lowest = fused ? i - 1 : i;  // the op spans layers lowest..i
    const Shape& in = layers_[lowest].input;
    const int C = in.channels, H = in.height, W = in.width;
    const std::size_t in_step = in.size() * kLanes, out_step = l.output.size() * kLanes;
    const float* x = ws.activation(lowest - 1);
    const float* p = genomes + l.offset * kLanes;
    float* dp = grads + l.offset * kLanes;
    float* dz = g == buffers[1] ? buffers[1] : buffers[0];
    float* dx = lowest > first || dinput ? (dz == buffers[0] ? buffers[1] : buffers[0]) : nullptr;
    // g through the layer's activation, act(scale * z), into dz (its own buffer if given).
    auto through_activation = [&](Activation act, float scale = 1.0f, float* to = nullptr) {
      if (to) dz = to;
      activation_backward(dz, ws.activation(i), g, static_cast<long>(B) * l.output.size(), act,
                          scale);
    };
    // op(b) for each image in order, with its slices of x, dz (or g) and dx.
    auto each_image = [&](const float* grad, auto&& op) {
      for (int b = 0; b < B; ++b)
        op(dx ? dx + b * in_step : nullptr, grad + b * out_step, x + b * in_step);
    };

    if (l.is<Reshape>()) continue;  // the same values: g stays
    if (l.is<MaxPool>()) {
      each_image(g, [&](float* dxb, const float* gb, const float* xb) {
        maxpool_backward(dxb, gb, xb, C, H, W);
      });
    } else if (l.is<Unpool>()) {
      each_image(g, [&](float* dxb, const float* gb, const float*) {
        unpool_backward(dxb, gb, C, H, W);
      });
    } else if (l.is<Conv>()) {
      const Conv& c = l.as<Conv>();
      through_activation(c.activation);
      each_image(dz, [&](float* dxb, const float* dzb, const float* xb) {
        conv_backward(dxb, dp, dzb, xb, p, C, H, W, c.kernel_height, c.kernel_width,
                      c.multiplier, ws.padded.data());
      });
    } else if (l.is<ConvTranspose>()) {
      const ConvTranspose& t = l.as<ConvTranspose>();
      through_activation(t.activation);
      each_image(dz, [&](float* dxb, const float* dzb, const float* xb) {
        if (fused)
          unpool_conv_transpose_backward(dxb, dp, dzb, xb, p, C, H, W, t.kernel_height,
                                         t.kernel_width, t.reducer, ws.upsampled.data(),
                                         ws.dupsampled.data());
        else
          conv_transpose_backward(dxb, dp, dzb, xb, p, C, H, W, t.kernel_height,
                                  t.kernel_width, t.reducer, 1);
      });
    } else if (l.is<DenseTied>()) {
      // Its weights' term waits in tied_grads for the source layer; its biases are its own.
      const Layer& s = layers_[l.as<DenseTied>().source];
      through_activation(l.as<DenseTied>().activation, s.as<Dense>().scale,
                         ws.tied_grads.data() + ws.tied_offsets[i]);
      dense_transposed_backward(dx, nullptr, dp, dz, x, genomes + s.offset * kLanes,
                                static_cast<int>(in.size()), static_cast<int>(l.output.size()),
                                B);
    } else if (l.is<Dense>()) {
      const Dense& d = l.as<Dense>();
      const int k = static_cast<int>(in.size());
      through_activation(d.activation, d.scale);
      // The weights' gradient: image by image, the terms of the tied layers that use them (in
      // the order the walk met them, the last layer first), then this layer's.
      std::vector<DenseTerm> terms;
      for (std::size_t t = layers_.size() - 1; t > i; --t)
        if (layers_[t].is<DenseTied>() && layers_[t].as<DenseTied>().source == static_cast<int>(i))
          terms.push_back({ws.activation(t - 1), ws.tied_grads.data() + ws.tied_offsets[t]});
      terms.push_back({dz, x});
      dense_weights_backward(dp, terms.data(), static_cast<int>(terms.size()), d.units, k, B);
      dense_backward(dx, nullptr, dp + l.num_weights * kLanes, dz, x, p, k, d.units, B);
    }
    if (fused) --i;  // the unpool is done
    g = dx;
  }
  if (dinput)  // g: the input's gradient (dy itself where every layer is a reshape)
    std::copy(g, g + static_cast<std::size_t>(B) * layers_[0].output.size() * kLanes, dinput);
}

}  // namespace evoae
