// The network builder (shape inference and checks) and the forward pass.
#include "evoae/network.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "evoae/ops.h"
#include "evoae/simd.h"

namespace evoae {
namespace {

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

std::string call_text(const char* name, std::initializer_list<int> args) {
  std::string s = std::string(name) + "(";
  bool first = true;
  for (int a : args) {
    s += (first ? "" : ", ") + std::to_string(a);
    first = false;
  }
  return s + ")";
}

// A dense layer's output is 1x1xN; layers that need rows and columns say so.
std::string spatial_hint(const Layer& previous) {
  return previous.kind == LayerKind::Dense
             ? " (a dense layer's output is 1x1xN: add reshape(height, width, channels) first)"
             : "";
}

// An unpool directly followed by a conv_transpose runs as one fused operation.
bool fused_at(const std::vector<Layer>& layers, std::size_t i) {
  return layers[i].kind == LayerKind::Unpool && i + 1 < layers.size() &&
         layers[i + 1].kind == LayerKind::ConvTranspose;
}

}  // namespace

Workspace::Workspace(const Network& net)
    : a(net.max_activation_size() * kLanes), b(net.max_activation_size() * kLanes) {
  std::size_t padded_size = 0, upsampled_size = 0;
  const std::vector<Layer>& layers = net.layers();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Shape& in = layers[i].input;
    if (fused_at(layers, i)) {
      const Layer& t = layers[i + 1];
      const int kh = t.kernel_height + 1, kw = t.kernel_width + 1;
      padded_size = std::max<std::size_t>(
          padded_size, conv_transpose_padded_size(in.channels, in.height, in.width, kh, kw, 2));
      upsampled_size = std::max<std::size_t>(upsampled_size, t.channel_factor * kh * kw * kLanes);
    } else if (layers[i].kind == LayerKind::ConvTranspose) {
      padded_size = std::max<std::size_t>(
          padded_size, conv_transpose_padded_size(in.channels, in.height, in.width,
                                                  layers[i].kernel_height,
                                                  layers[i].kernel_width, 1));
    }
  }
  padded.resize(padded_size);
  upsampled.resize(upsampled_size);
}

Network::Network(int height, int width) {
  require(height >= 1 && width >= 1, "Network(" + std::to_string(height) + ", " +
                                          std::to_string(width) +
                                          "): the input must be at least 1x1");
  Layer input;
  input.kind = LayerKind::Input;
  input.input = input.output = Shape{height, width, 1};
  push(input);
}

void Network::push(Layer layer) {
  layer.offset = num_params_;
  num_params_ += layer.num_params();
  max_activation_ = std::max({max_activation_, layer.input.size(), layer.output.size()});
  layers_.push_back(layer);
}

Network& Network::conv(int kh, int kw, int m) {
  const Shape in = output_shape();
  const std::string call = call_text("conv", {kh, kw, m});
  require(kh >= 1 && kw >= 1 && m >= 1, call + ": kernel sizes and multiplier must be >= 1");
  require(kh <= in.height && kw <= in.width,
          call + ": a " + std::to_string(kh) + "x" + std::to_string(kw) +
              " kernel does not fit the " + in.str() + " input" + spatial_hint(layers_.back()));
  Layer l;
  l.kind = LayerKind::Conv;
  l.input = in;
  l.output = Shape{in.height - kh + 1, in.width - kw + 1, in.channels * m};
  l.kernel_height = kh;
  l.kernel_width = kw;
  l.channel_factor = m;
  l.num_weights = static_cast<std::size_t>(kh) * kw * m;
  push(l);
  return *this;
}

Network& Network::maxpool() {
  const Shape in = output_shape();
  require(in.height >= 2 && in.width >= 2,
          "maxpool(): needs an input of at least 2x2, got " + in.str() +
              spatial_hint(layers_.back()));
  Layer l;
  l.kind = LayerKind::MaxPool;
  l.input = in;
  l.output = Shape{in.height / 2, in.width / 2, in.channels};
  push(l);
  return *this;
}

Network& Network::dense(int units) {
  require(units >= 1, call_text("dense", {units}) + ": units must be >= 1");
  Layer l;
  l.kind = LayerKind::Dense;
  l.input = output_shape();
  l.output = Shape{1, 1, units};
  l.channel_factor = units;
  l.num_weights = l.input.size() * units;
  l.num_biases = units;
  push(l);
  return *this;
}

Network& Network::reshape(int h, int w, int c) {
  const Shape in = output_shape();
  const std::string call = call_text("reshape", {h, w, c});
  require(h >= 1 && w >= 1 && c >= 1, call + ": every dimension must be >= 1");
  const Shape out{h, w, c};
  require(out.size() == in.size(),
          call + ": needs " + std::to_string(out.size()) + " values, the previous layer gives " +
              std::to_string(in.size()) + " (" + in.str() + ")");
  Layer l;
  l.kind = LayerKind::Reshape;
  l.input = in;
  l.output = out;
  push(l);
  return *this;
}

Network& Network::unpool() {
  const Shape in = output_shape();
  Layer l;
  l.kind = LayerKind::Unpool;
  l.input = in;
  l.output = Shape{2 * in.height, 2 * in.width, in.channels};
  push(l);
  return *this;
}

Network& Network::conv_transpose(int kh, int kw, int r) {
  const Shape in = output_shape();
  const std::string call = call_text("conv_transpose", {kh, kw, r});
  require(kh >= 1 && kw >= 1 && r >= 1, call + ": kernel sizes and reducer must be >= 1");
  require(in.channels % r == 0, call + ": the input's " + std::to_string(in.channels) +
                                    " channels are not divisible by the reducer " +
                                    std::to_string(r));
  Layer l;
  l.kind = LayerKind::ConvTranspose;
  l.input = in;
  l.output = Shape{in.height + kh - 1, in.width + kw - 1, in.channels / r};
  l.kernel_height = kh;
  l.kernel_width = kw;
  l.channel_factor = r;
  l.num_weights = static_cast<std::size_t>(kh) * kw * r;
  push(l);
  return *this;
}

std::size_t Network::multiply_adds() const {
  std::size_t total = 0;
  for (const Layer& l : layers_) total += l.multiply_adds();
  return total;
}

std::string Network::summary() const {
  std::string s;
  char line[160];
  std::snprintf(line, sizeof line, "%-3s %-26s %-12s %8s %8s\n", "#", "layer", "output", "params",
                "offset");
  s += line;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const Layer& l = layers_[i];
    std::snprintf(line, sizeof line, "%-3zu %-26s %-12s %8zu %8zu\n", i, l.call().c_str(),
                  l.output.str().c_str(), l.num_params(), l.offset);
    s += line;
  }
  std::snprintf(line, sizeof line, "total parameters: %zu\n", num_params_);
  return s + line;
}

const float* Network::forward(const float* genomes, const float* image, Workspace& ws) const {
  const float* images[kLanes];
  std::fill(images, images + kLanes, image);
  return forward(genomes, images, ws);
}

const float* Network::forward(const float* genomes, const float* const* images,
                              Workspace& ws) const {
  float* cur = ws.a.data();
  float* next = ws.b.data();
  const std::size_t pixels = input_shape().size();
  if (std::all_of(images, images + kLanes, [&](const float* i) { return i == images[0]; })) {
    for (std::size_t p = 0; p < pixels; ++p) store(cur + p * kLanes, splat(images[0][p]));
  } else {
    for (std::size_t p = 0; p < pixels; ++p)
      for (int lane = 0; lane < kLanes; ++lane) cur[p * kLanes + lane] = images[lane][p];
  }
  for (std::size_t i = 1; i < layers_.size(); ++i) {
    const Layer& l = layers_[i];
    const Shape& in = l.input;
    const float* p = genomes + l.offset * kLanes;
    switch (l.kind) {
      case LayerKind::Input:
      case LayerKind::Reshape:  // same buffer, read with other dimensions
        continue;
      case LayerKind::Conv:
        conv_forward(next, cur, p, in.channels, in.height, in.width, l.kernel_height,
                     l.kernel_width, l.channel_factor);
        break;
      case LayerKind::MaxPool:
        maxpool_forward(next, cur, in.channels, in.height, in.width);
        break;
      case LayerKind::Dense:
        dense_sigmoid_forward(next, cur, p, p + l.num_weights * kLanes,
                              static_cast<int>(in.size()), l.channel_factor);
        break;
      case LayerKind::Unpool:
        if (fused_at(layers_, i)) {
          const Layer& t = layers_[++i];
          unpool_conv_transpose_forward(next, cur, genomes + t.offset * kLanes, in.channels,
                                        in.height, in.width, t.kernel_height, t.kernel_width,
                                        t.channel_factor, ws.upsampled.data(), ws.padded.data());
        } else {
          unpool_forward(next, cur, in.channels, in.height, in.width);
        }
        break;
      case LayerKind::ConvTranspose:
        conv_transpose_forward(next, cur, p, in.channels, in.height, in.width, l.kernel_height,
                               l.kernel_width, l.channel_factor, 1, ws.padded.data());
        break;
    }
    std::swap(cur, next);
  }
  return cur;
}

Network varadi_network() {
  Network net(28, 28);
  net.conv(5, 5, 1).maxpool().conv(5, 5, 1).maxpool();
  net.dense(5).dense(2).dense(5).dense(160);
  net.reshape(4, 4, 10).unpool().conv_transpose(5, 5, 1).unpool().conv_transpose(5, 5, 10);
  return net;
}

}  // namespace evoae
