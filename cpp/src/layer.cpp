// Names and builder calls of layers, for summaries, errors and saved network descriptions.
#include "evoae/layer.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

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
    case LayerKind::DenseTied: return "dense_tied";
  }
  return "?";
}

const char* activation_name(Activation activation) {
  switch (activation) {
    case Activation::Sigmoid: return "sigmoid";
    case Activation::ReLU: return "relu";
    case Activation::Tanh: return "tanh";
    case Activation::Identity: return "identity";
  }
  return "?";
}

Activation activation_from_name(const std::string& name) {
  for (Activation a : {Activation::Sigmoid, Activation::ReLU, Activation::Tanh,
                       Activation::Identity})
    if (name == activation_name(a)) return a;
  throw std::invalid_argument("unknown activation \"" + name +
                              "\": use sigmoid, relu, tanh or identity");
}

std::vector<int> Layer::arguments() const {
  switch (kind) {
    case LayerKind::Input: return {output.height, output.width};
    case LayerKind::Conv:
    case LayerKind::ConvTranspose: return {kernel_height, kernel_width, channel_factor};
    case LayerKind::Dense: return {channel_factor};
    case LayerKind::DenseTied: return {source};
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
    case LayerKind::DenseTied: return input.size() * output.size();
    case LayerKind::ConvTranspose: return input.size() * kernel_height * kernel_width;
    default: return 0;
  }
}

std::string Layer::call() const {
  std::string s = std::string(layer_kind_name(kind)) + "(";
  const std::vector<int> args = arguments();
  for (std::size_t i = 0; i < args.size(); ++i) s += (i ? ", " : "") + std::to_string(args[i]);
  const bool scaled = kind == LayerKind::Dense && scale != 1.0f;
  if ((kind == LayerKind::Dense || kind == LayerKind::DenseTied) &&
      (activation != Activation::Sigmoid || scaled))
    s += std::string(", \"") + activation_name(activation) + "\"";
  if (scaled) {  // the fewest digits that read back as the same float
    char text[32];
    for (int digits = 6; digits <= 9; ++digits) {
      std::snprintf(text, sizeof text, "%.*g", digits, static_cast<double>(scale));
      if (std::strtof(text, nullptr) == scale) break;
    }
    s += std::string(", ") + text;
  }
  return s + ")";
}

}  // namespace evoae
