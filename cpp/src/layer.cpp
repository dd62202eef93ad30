// Names and builder calls of layers, for summaries, errors and saved network descriptions.
#include "evoae/layer.h"

namespace evoae {

const char* layer_kind_name(LayerKind kind) {
  switch (kind) {
    case LayerKind::Input: return "input";
    case LayerKind::Conv: return "conv";
    case LayerKind::MaxPool: return "maxpool";
    case LayerKind::Dense: return "dense";
    case LayerKind::Reshape: return "reshape";
    case LayerKind::Unpool: return "unpool";
    case LayerKind::ConvTranspose: return "conv_transpose";
  }
  return "?";
}

std::vector<int> Layer::arguments() const {
  switch (kind) {
    case LayerKind::Input: return {output.height, output.width};
    case LayerKind::Conv:
    case LayerKind::ConvTranspose: return {kernel_height, kernel_width, channel_factor};
    case LayerKind::Dense: return {channel_factor};
    case LayerKind::Reshape: return {output.height, output.width, output.channels};
    case LayerKind::MaxPool:
    case LayerKind::Unpool: return {};
  }
  return {};
}

std::size_t Layer::multiply_adds() const {
  switch (kind) {
    case LayerKind::Conv: return output.size() * kernel_height * kernel_width;
    case LayerKind::Dense: return num_weights;
    case LayerKind::ConvTranspose: return input.size() * kernel_height * kernel_width;
    default: return 0;
  }
}

std::string Layer::call() const {
  std::string s = std::string(layer_kind_name(kind)) + "(";
  const std::vector<int> args = arguments();
  for (std::size_t i = 0; i < args.size(); ++i) s += (i ? ", " : "") + std::to_string(args[i]);
  return s + ")";
}

}  // namespace evoae
