// One layer of a network: an immutable description (kind, shapes, where its parameters
// sit in the genome). Its parameters live in the genome, its activations in a Workspace.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "evoae/activation.h"
#include "evoae/shape.h"

namespace evoae {

enum class LayerKind { Input, Conv, MaxPool, Dense, Reshape, Unpool, ConvTranspose, DenseTied };

struct Layer {
  LayerKind kind = LayerKind::Input;
  Shape input;
  Shape output;
  int kernel_height = 0;  // Conv, ConvTranspose
  int kernel_width = 0;
  // Conv: channel multiplier m; ConvTranspose: channel reducer r; Dense, DenseTied: units n.
  int channel_factor = 0;
  Activation activation = Activation::Sigmoid;  // Dense, DenseTied
  // Dense: output = activation(scale * (W x + b)); the genome holds weights and biases in
  // units of scale. DenseTied: the source's scale. 1 (the original layer) is not multiplied.
  float scale = 1.0f;
  // DenseTied: index (in the network's layers) of the dense layer whose weights it uses,
  // transposed; the genome holds only this layer's biases.
  int source = -1;
  std::size_t offset = 0;       // index of the layer's first parameter in the genome
  std::size_t num_weights = 0;  // weights come first, then (Dense, DenseTied) the biases
  std::size_t num_biases = 0;

  std::size_t num_params() const { return num_weights + num_biases; }
  // Multiply-adds of one forward pass of this layer as defined (before any fusion).
  std::size_t multiply_adds() const;
  // The builder call that makes this layer, e.g. "conv(5, 5, 1)", "dense(500, \"relu\")",
  // "dense(500, \"relu\", 0.0678)"; a dense layer's default activation (sigmoid) and scale (1)
  // are left out: "dense(5)".
  std::string call() const;
  // The builder's integer arguments, e.g. {5, 5, 1}; with the kind (and for dense layers the
  // activation and scale) they rebuild the layer.
  std::vector<int> arguments() const;
};

const char* layer_kind_name(LayerKind kind);  // "conv", "maxpool", "dense", "dense_tied", ...

}  // namespace evoae
