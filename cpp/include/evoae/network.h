// A sequential network built with builder calls that infer every shape, and its forward
// pass over one flat genome (see genome order in Network::layers()).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "evoae/layer.h"

namespace evoae {

class Network;

// Per-thread scratch memory for a forward pass of kLanes genomes: two ping-pong
// activation buffers, and for transposed convolutions a zero-padded input and the
// upsampled kernels of a fused unpool + conv_transpose.
struct Workspace {
  explicit Workspace(const Network& net);
  std::vector<float> a, b, padded, upsampled;
};

class Network {
 public:
  Network(int height, int width);  // the input layer: one channel, height x width

  // Builder calls (names as in the reference page; original names in comments).
  Network& conv(int kernel_height, int kernel_width, int multiplier);  // addConvLayer
  Network& maxpool();                                                   // addMaxPoolLayer
  Network& dense(int units);                  // addSigmLayer: fully connected + sigmoid
  Network& reshape(int height, int width, int channels);               // addReshapeLayer
  Network& unpool();                                                    // addUnpoolLayer
  Network& conv_transpose(int kernel_height, int kernel_width, int reducer);  // addTrConvLayer

  const std::vector<Layer>& layers() const { return layers_; }
  std::size_t num_params() const { return num_params_; }
  std::size_t multiply_adds() const;  // of one forward pass, as the layers define them
  Shape input_shape() const { return layers_.front().output; }
  Shape output_shape() const { return layers_.back().output; }
  std::size_t max_activation_size() const { return max_activation_; }
  std::string summary() const;

  // Runs one image (input_shape().size() floats) through the network with kLanes genomes at
  // once. genomes: (num_params, kLanes), genome l in lane l (see simd.h). Returns a pointer
  // into ws to (output_shape().size(), kLanes) floats.
  const float* forward(const float* genomes, const float* image, Workspace& ws) const;
  // The same with an image of its own for each lane: images holds kLanes pointers.
  const float* forward(const float* genomes, const float* const* images, Workspace& ws) const;

 private:
  void push(Layer layer);

  std::vector<Layer> layers_;
  std::size_t num_params_ = 0;
  std::size_t max_activation_ = 0;
};

// The network of Varadi (2021): 28x28 -> 2-D code -> 28x28, 1397 parameters.
Network varadi_network();

}  // namespace evoae
