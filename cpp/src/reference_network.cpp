// Reference forward pass of a whole network: one genome, the plain ops, no fusion.
#include <algorithm>

#include "evoae/network.h"
#include "evoae/reference_ops.h"

namespace evoae::reference {

std::vector<float> network_forward(const Network& net, const float* genome, const float* image) {
  std::vector<float> cur(image, image + net.input_shape().size()), next;
  for (const Layer& l : net.layers()) {
    const Shape& in = l.input;
    const float* p = genome + l.offset;
    next.assign(l.output.size(), 0.0f);
    switch (l.kind) {
      case LayerKind::Input:
      case LayerKind::Reshape:
        continue;
      case LayerKind::Conv:
        conv_forward(next.data(), cur.data(), p, in.channels, in.height, in.width,
                     l.kernel_height, l.kernel_width, l.channel_factor);
        break;
      case LayerKind::MaxPool:
        maxpool_forward(next.data(), cur.data(), in.channels, in.height, in.width);
        break;
      case LayerKind::Dense:
        if (l.activation == Activation::Sigmoid && l.scale == 1.0f)  // the page's, via Eigen
          dense_sigmoid_forward(next.data(), cur.data(), p, p + l.num_weights,
                                static_cast<int>(in.size()), l.channel_factor);
        else
          dense_forward(next.data(), cur.data(), p, p + l.num_weights,
                        static_cast<int>(in.size()), l.channel_factor, l.activation, l.scale);
        break;
      case LayerKind::DenseTied:
        dense_transposed_forward(next.data(), cur.data(), genome + net.layers()[l.source].offset,
                                 p, static_cast<int>(in.size()), l.channel_factor,
                                 l.activation, l.scale);
        break;
      case LayerKind::Unpool:
        unpool_forward(next.data(), cur.data(), in.channels, in.height, in.width);
        break;
      case LayerKind::ConvTranspose:
        conv_transpose_forward(next.data(), cur.data(), p, in.channels, in.height, in.width,
                               l.kernel_height, l.kernel_width, l.channel_factor);
        break;
    }
    cur.swap(next);
  }
  return cur;
}

}  // namespace evoae::reference
