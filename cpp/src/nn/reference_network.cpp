// Reference forward pass of a whole network: one genome, the plain ops, no fusion.
#include <type_traits>
#include <variant>

#include "evoae/nn/network.h"
#include "evoae/nn/reference_ops.h"

namespace evoae::reference {

std::vector<float> network_forward(const Network& net, const float* genome, const float* image) {
  std::vector<float> cur(image, image + net.input_shape().size()), next;
  for (const Layer& l : net.layers()) {
    const Shape& in = l.input;
    const float* p = genome + l.offset;
    const int C = in.channels, H = in.height, W = in.width, k = static_cast<int>(in.size());
    next.assign(l.output.size(), 0.0f);
    float* out = next.data();
    const float* x = cur.data();
    const bool computed = std::visit(
        [&](const auto& kind) {
          using K = std::decay_t<decltype(kind)>;
          if constexpr (std::is_same_v<K, Conv>) {
            conv_forward(out, x, p, C, H, W, kind.kernel_height, kind.kernel_width,
                         kind.multiplier, kind.activation);
          } else if constexpr (std::is_same_v<K, MaxPool>) {
            maxpool_forward(out, x, C, H, W);
          } else if constexpr (std::is_same_v<K, Dense>) {
            if (kind.activation == Activation::Sigmoid && kind.scale == 1.0f)  // the page's
              dense_sigmoid_forward(out, x, p, p + l.num_weights, k, kind.units);
            else
              dense_forward(out, x, p, p + l.num_weights, k, kind.units, kind.activation,
                            kind.scale);
          } else if constexpr (std::is_same_v<K, DenseTied>) {
            const Layer& s = net.layers()[kind.source];
            dense_transposed_forward(out, x, genome + s.offset, p, k,
                                     static_cast<int>(l.output.size()), kind.activation,
                                     s.as<Dense>().scale);
          } else if constexpr (std::is_same_v<K, Unpool>) {
            unpool_forward(out, x, C, H, W);
          } else if constexpr (std::is_same_v<K, ConvTranspose>) {
            conv_transpose_forward(out, x, p, C, H, W, kind.kernel_height, kind.kernel_width,
                                   kind.reducer, kind.activation);
          } else {  // Input, Reshape: the same buffer, read with other dimensions
            static_assert(std::is_same_v<K, Input> || std::is_same_v<K, Reshape>,
                          "a layer kind without a reference forward pass");
            return false;
          }
          return true;
        },
        l.kind);
    if (computed) cur.swap(next);
  }
  return cur;
}

}  // namespace evoae::reference
