// One layer of a network: an immutable description (kind, shapes, where its parameters
// sit in the genome). Its parameters live in the genome, its activations in a Workspace.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "evoae/shape.h"

namespace evoae {

enum class LayerKind { Input, Conv, MaxPool, Dense, Reshape, Unpool, ConvTranspose };

struct Layer {
  LayerKind kind = LayerKind::Input;
  Shape input;
  Shape output;
  int kernel_height = 0;  // Conv, ConvTranspose
  int kernel_width = 0;
  // Conv: channel multiplier m; ConvTranspose: channel reducer r; Dense: units n.
  int channel_factor = 0;
  std::size_t offset = 0;       // index of the layer's first parameter in the genome
  std::size_t num_weights = 0;  // weights come first, then (Dense only) the biases
  std::size_t num_biases = 0;

  std::size_t num_params() const { return num_weights + num_biases; }
  // Multiply-adds of one forward pass of this layer as defined (before any fusion).
  std::size_t multiply_adds() const;
  // The builder call that makes this layer, e.g. "conv(5, 5, 1)".
  std::string call() const;
  // The builder arguments, e.g. {5, 5, 1}; with the kind they rebuild the layer.
  std::vector<int> arguments() const;
};

const char* layer_kind_name(LayerKind kind);  // "conv", "maxpool", "dense", ...

}  // namespace evoae
