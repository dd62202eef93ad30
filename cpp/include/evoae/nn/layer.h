// One layer of a network: an immutable description, one small struct per kind with its own
// fields, held in a std::variant next to what every layer has (shapes, where its parameters
// sit in the genome). Its parameters live in the genome, its activations in a Workspace.
// Adding a kind: its struct here (name, fields, arguments, multiply-adds) and in LayerKind,
// its builder call, and its case in the one dispatch of the forward pass (Network::
// forward_batch) and of its reference twin; the compiler points at a visit that misses it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "evoae/nn/activation.h"
#include "evoae/core/shape.h"

namespace evoae {

// Each kind says its builder's integer arguments (with the layer's output shape, where the
// shape is the argument) and its multiply-adds per forward pass as defined (before any fusion).
struct NoArguments {
  std::vector<int> arguments(const Shape&) const { return {}; }
  std::size_t multiply_adds(const Shape&, const Shape&) const { return 0; }
};

// The network's input image: one channel, height x width.
struct Input : NoArguments {
  static constexpr const char* name = "input";
  std::vector<int> arguments(const Shape& out) const { return {out.height, out.width}; }
};

// "Valid" cross-correlation, stride 1, no bias: `multiplier` kernels per input channel.
struct Conv {
  static constexpr const char* name = "conv";
  static constexpr Activation default_activation = Activation::ReLU;
  int kernel_height = 0, kernel_width = 0, multiplier = 1;
  Activation activation = default_activation;

  std::vector<int> arguments(const Shape&) const {
    return {kernel_height, kernel_width, multiplier};
  }
  std::size_t multiply_adds(const Shape&, const Shape& out) const {
    return out.size() * kernel_height * kernel_width;
  }
};

struct MaxPool : NoArguments {  // 2x2, stride 2
  static constexpr const char* name = "maxpool";
};

// Fully connected: activation(scale * (W x + b)); the genome holds W and b in units of
// scale. A scale of 1 (the original layer) is not multiplied.
struct Dense {
  static constexpr const char* name = "dense";
  static constexpr Activation default_activation = Activation::Sigmoid;
  int units = 0;
  Activation activation = default_activation;
  float scale = 1.0f;

  std::vector<int> arguments(const Shape&) const { return {units}; }
  std::size_t multiply_adds(const Shape& in, const Shape&) const { return in.size() * units; }
};

struct Reshape : NoArguments {  // the same buffer, read with the layer's output shape
  static constexpr const char* name = "reshape";
  std::vector<int> arguments(const Shape& out) const {
    return {out.height, out.width, out.channels};
  }
};

struct Unpool : NoArguments {  // nearest-neighbour 2x upsampling
  static constexpr const char* name = "unpool";
};

// "Full" transposed convolution, stride 1, no bias: output channel i sums input channels
// i*reducer .. i*reducer+reducer-1, each correlated with its own kernel.
struct ConvTranspose {
  static constexpr const char* name = "conv_transpose";
  static constexpr Activation default_activation = Activation::Sigmoid;
  int kernel_height = 0, kernel_width = 0, reducer = 1;
  Activation activation = default_activation;

  std::vector<int> arguments(const Shape&) const { return {kernel_height, kernel_width, reducer}; }
  std::size_t multiply_adds(const Shape& in, const Shape&) const {
    return in.size() * kernel_height * kernel_width;
  }
};

// A dense layer using the weights of the dense layer layers()[source], transposed, and its
// scale; the genome holds only this layer's biases.
struct DenseTied {
  static constexpr const char* name = "dense_tied";
  static constexpr Activation default_activation = Activation::Sigmoid;
  int source = -1;
  Activation activation = default_activation;

  std::vector<int> arguments(const Shape&) const { return {source}; }
  std::size_t multiply_adds(const Shape& in, const Shape& out) const {
    return in.size() * out.size();
  }
};

using LayerKind =
    std::variant<Input, Conv, MaxPool, Dense, Reshape, Unpool, ConvTranspose, DenseTied>;

// The trailing builder arguments a call writes after the integers, each only when needed:
// the activation when it is not the kind's default (or a scale follows it), the scale when
// it is not 1. With the kind's name and arguments() they rebuild the layer.
struct LayerOptions {
  std::optional<Activation> activation;
  std::optional<float> scale;
};

struct Layer {
  LayerKind kind;
  Shape input;
  Shape output;
  std::size_t offset = 0;       // index of the layer's first parameter in the genome
  std::size_t num_weights = 0;  // weights come first, then (Dense, DenseTied) the biases
  std::size_t num_biases = 0;

  std::size_t num_params() const { return num_weights + num_biases; }
  template <class K>
  bool is() const { return std::holds_alternative<K>(kind); }
  template <class K>
  const K& as() const { return std::get<K>(kind); }

  const char* name() const;  // "conv", "maxpool", "dense", "dense_tied", ...
  // The activation of a kind that has one (conv, conv_transpose, dense, dense_tied).
  std::optional<Activation> activation() const;
  std::size_t multiply_adds() const;
  std::vector<int> arguments() const;  // e.g. {5, 5, 1}; Input: {height, width}
  LayerOptions options() const;
  // The builder call that makes this layer, e.g. "conv(5, 5, 1)", "conv(5, 5, 1, \"tanh\")",
  // "dense(500, \"relu\", 0.0678)"; default activations and a scale of 1 are left out.
  std::string call() const;
};

const char* layer_kind_name(const LayerKind& kind);

}  // namespace evoae
