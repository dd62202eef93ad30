// A sequential network built with builder calls that infer every shape, and its forward
// pass over one flat genome (see genome order in Network::layers()).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "evoae/layer.h"

namespace evoae {

class Network;

// Per-thread scratch memory for a forward pass: two ping-pong activation buffers.
struct Workspace {
  explicit Workspace(const Network& net);
  std::vector<float> a, b;
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
  Shape input_shape() const { return layers_.front().output; }
  Shape output_shape() const { return layers_.back().output; }
  std::size_t max_activation_size() const { return max_activation_; }
  std::string summary() const;

  // Runs one image (input_shape().size() floats) through the network with the given genome
  // (num_params() floats). Returns a pointer into ws to output_shape().size() floats.
  const float* forward(const float* genome, const float* image, Workspace& ws) const;

 private:
  void push(Layer layer);

  std::vector<Layer> layers_;
  std::size_t num_params_ = 0;
  std::size_t max_activation_ = 0;
};

// The network of Varadi (2021): 28x28 -> 2-D code -> 28x28, 1397 parameters.
Network varadi_network();

}  // namespace evoae
