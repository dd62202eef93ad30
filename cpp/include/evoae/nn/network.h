// A sequential network built with builder calls that infer every shape, and its forward
// pass over one flat genome (see genome order in Network::layers()).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "evoae/nn/layer.h"

namespace evoae {

class Network;

// Per-thread scratch memory for a forward pass of kLanes genomes on up to `batch` images
// each: two ping-pong activation buffers, and for transposed convolutions a zero-padded
// input and the upsampled kernels of a fused unpool + conv_transpose. With keep_activations,
// a tape in place of the ping-pong buffers: a forward pass leaves every layer's output there
// for a backward pass to read.
struct Workspace {
  explicit Workspace(const Network& net, int batch = 1, bool keep_activations = false);
  int batch;
  std::vector<float> a, b, padded, upsampled;
  // The tape: layer i's output at tape_offsets[i], room for (batch, output size, kLanes)
  // floats; a reshape shares its input's. Both empty without keep_activations.
  std::vector<float> tape;
  std::vector<std::size_t> tape_offsets;
  // With keep_activations, for Network::backward: two ping-pong gradient buffers of the
  // activations' size, and the fused unpool + conv_transpose's kernel gradient scratch
  // (padded then also holds a conv layer's output gradient for its input gradient, ops.h).
  std::vector<float> grad_a, grad_b, dupsampled;
  // Each dense_tied layer's gradient before its activation, (batch, output size, kLanes) at
  // tied_offsets[layer], kept until its source dense layer sums both layers' terms into the
  // shared weights' gradient image by image (dense_weights_backward in ops.h).
  std::vector<float> tied_grads;
  std::vector<std::size_t> tied_offsets;

  bool keeps_activations() const { return !tape_offsets.empty(); }
  // Layer i's output in the last forward pass of B images: (B, output size, kLanes) floats.
  // Layer 0's is the input, an unpool's is kept even where it runs fused with the
  // conv_transpose after it.
  const float* activation(std::size_t layer) const { return tape.data() + tape_offsets[layer]; }
  float* activation(std::size_t layer) { return tape.data() + tape_offsets[layer]; }
};

class Network {
 public:
  Network(int height, int width);  // the input layer: one channel, height x width

  // Builder calls (names as in the reference page; original names in comments).
  Network& conv(int kernel_height, int kernel_width, int multiplier,  // addConvLayer
                Activation activation = Conv::default_activation);
  Network& maxpool();                                                   // addMaxPoolLayer
  // addSigmLayer: fully connected + activation (sigmoid by default, as the original):
  // activation(scale * (W x + b)). scale > 0 sets the size of the weights a genome of U(-1, 1)
  // values starts with (sqrt(6 / (inputs + units)): Glorot's uniform initialisation) and of
  // mutation steps, as the equalized learning rate of Karras et al. (2018); 1 is the original.
  Network& dense(int units, Activation activation = Dense::default_activation, float scale = 1.0f);
  Network& reshape(int height, int width, int channels);               // addReshapeLayer
  Network& unpool();                                                    // addUnpoolLayer
  Network& conv_transpose(int kernel_height, int kernel_width, int reducer,  // addTrConvLayer
                          Activation activation = ConvTranspose::default_activation);
  // A dense layer whose weights are those of the dense layer layers()[source], transposed
  // (tied: the genome holds them once, and only this layer's biases): source maps k -> n,
  // this layer n -> k. Its input must have n values; its output is 1x1xk. The source's scale
  // applies: activation(scale * (W^T x + c)).
  Network& dense_tied(int source, Activation activation = DenseTied::default_activation);

  const std::vector<Layer>& layers() const { return layers_; }
  std::size_t num_params() const { return num_params_; }
  std::size_t multiply_adds() const;  // of one forward pass, as the layers define them
  Shape input_shape() const { return layers_.front().output; }
  Shape output_shape() const { return layers_.back().output; }
  std::size_t max_activation_size() const { return max_activation_; }
  std::string summary() const;

  // Runs one image (input_shape().size() floats) through the network with kLanes genomes at
  // once. genomes: (num_params, kLanes), genome l in lane l (see simd.h). Returns a pointer
  // into ws to (output_shape().size(), kLanes) floats. Every forward pass fills ws's tape
  // when it keeps activations (the same results, bit for bit).
  const float* forward(const float* genomes, const float* image, Workspace& ws) const;
  // The same with an image of its own for each lane: images holds kLanes pointers.
  const float* forward(const float* genomes, const float* const* images, Workspace& ws) const;
  // B images per lane with the same genomes (B <= ws.batch): images holds B * kLanes
  // pointers, image b of lane l at images[b * kLanes + l]. Dense and tied layers read their
  // weights once for the B images; every other layer runs image by image. Each image's
  // result equals forward()'s bit for bit. Returns a pointer into ws to
  // (B, output_shape().size(), kLanes) floats.
  const float* forward_batch(const float* genomes, const float* const* images, int B,
                             Workspace& ws) const;
  // Backpropagation through the last forward_batch of B images on ws (which must keep
  // activations), for the same genomes: dy is the gradient of the loss with respect to the
  // network's output, (B, output_shape().size(), kLanes). ADDS the gradient with respect to
  // every parameter into grads, (num_params, kLanes) laid out like genomes (lane l: genome
  // l's gradient, summed over its B images in order). Layer by layer from the last, each
  // through its op's backward (ops.h); a tied layer adds into its source's weights; an unpool
  // followed by a conv_transpose runs fused, as forward. The same bits for any batch shape
  // (B images at once, or one by one in order). dy may lie in ws.grad_a or ws.grad_b (a
  // loss's gradient written there needs no buffer of its own); it is overwritten then.
  // dinput, when given, receives the gradient with respect to the network's input, (B, input
  // size, kLanes): what a network feeding this one (a GAN's generator into its discriminator,
  // an encoder into a variational layer) backpropagates from; without it the walk stops at the
  // first layer with parameters.
  // std::invalid_argument for a workspace without activations or B outside 1..ws.batch.
  void backward(const float* genomes, const float* dy, int B, Workspace& ws, float* grads,
                float* dinput = nullptr) const;
  // One genome (num_params floats) on S images (S, input size) -> out (S, output size): the
  // genome is laid into all kLanes lanes once, then kLanes * preferred_batch() images run per
  // forward_batch call, in parallel over `threads` (<= 0: OpenMP's default). Each image's
  // output is what forward() gives it, bit for bit, for any thread count.
  void forward_images(const float* genome, const float* images, std::size_t S, float* out,
                      int threads = 0) const;
  // Images per forward_batch call that pay: 4 when dense and tied layers do most of the
  // multiply-adds (each load of their weights, kLanes genomes wide, then serves 4 images), 1 when
  // they do not.
  int preferred_batch() const;

 private:
  // Appends a layer with an output of height x width x channels (computed in long long, so
  // that an overflow is seen); refuses empty or too large outputs and genomes, naming `call`.
  void push(const std::string& call, LayerKind kind, long long height, long long width,
            long long channels, long long num_weights = 0, long long num_biases = 0);

  std::vector<Layer> layers_;
  std::size_t num_params_ = 0;
  std::size_t max_activation_ = 0;
};

// The network of Varadi (2021): 28x28 -> 2-D code -> 28x28, 1397 parameters.
Network varadi_network();

}  // namespace evoae
