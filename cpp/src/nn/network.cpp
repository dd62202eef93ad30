// The network builder (shape inference and checks) and the forward pass.
#include "evoae/nn/network.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <variant>

#include "evoae/nn/ops.h"
#include "evoae/core/simd.h"

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
  return previous.is<Dense>() || previous.is<DenseTied>()
             ? " (a dense layer's output is 1x1xN: add reshape(height, width, channels) first)"
             : "";
}

// An unpool directly followed by a conv_transpose runs as one fused operation.
bool fused_at(const std::vector<Layer>& layers, std::size_t i) {
  return layers[i].is<Unpool>() && i + 1 < layers.size() && layers[i + 1].is<ConvTranspose>();
}

// The ops index a layer's values and a kernel's weights with int, lanes included (see ops.cpp):
// 2^24 values per layer output and per kernel keep every index, padded buffers too, far from
// overflowing; the genome is at most 2^31 - 1 values.
constexpr long long kMaxValues = 1LL << 24;
constexpr long long kMaxParams = (1LL << 31) - 1;

// The product of factors >= 0, saturated at 2^62 (beyond every limit) instead of overflowing.
long long product(std::initializer_list<long long> factors) {
  constexpr long long saturated = 1LL << 62;
  long long p = 1;
  for (long long f : factors) p = f != 0 && p > saturated / f ? saturated : p * f;
  return p;
}

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

}  // namespace

Workspace::Workspace(const Network& net, int batch, bool keep_activations)
    : batch(std::max(1, batch)) {
  const std::vector<Layer>& layers = net.layers();
  const std::size_t lanes = static_cast<std::size_t>(kLanes) * this->batch;
  if (keep_activations) {
    std::size_t size = 0;
    for (const Layer& l : layers) {
      const bool own = !l.is<Reshape>();  // a reshape reads its input's buffer
      tape_offsets.push_back(own ? size : tape_offsets.back());
      if (own) size += l.output.size() * lanes;
    }
    tape.resize(size);
    grad_a.resize(net.max_activation_size() * lanes);
    grad_b.resize(net.max_activation_size() * lanes);
    tied_offsets.assign(layers.size(), 0);
    std::size_t tied = 0;
    for (std::size_t i = 0; i < layers.size(); ++i)
      if (layers[i].is<DenseTied>()) {
        tied_offsets[i] = tied;
        tied += layers[i].output.size() * lanes;
      }
    tied_grads.resize(tied);
  } else {
    a.resize(net.max_activation_size() * lanes);
    b.resize(net.max_activation_size() * lanes);
  }
  std::size_t padded_size = 0, upsampled_size = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Shape& in = layers[i].input;
    if (fused_at(layers, i)) {
      const ConvTranspose& t = layers[i + 1].as<ConvTranspose>();
      const int kh = t.kernel_height + 1, kw = t.kernel_width + 1;
      padded_size = std::max<std::size_t>(
          padded_size, conv_transpose_padded_size(in.channels, in.height, in.width, kh, kw, 2));
      upsampled_size = std::max<std::size_t>(upsampled_size, t.reducer * kh * kw * kLanes);
    } else if (layers[i].is<ConvTranspose>()) {
      const ConvTranspose& t = layers[i].as<ConvTranspose>();
      padded_size = std::max<std::size_t>(
          padded_size, conv_transpose_padded_size(in.channels, in.height, in.width,
                                                  t.kernel_height, t.kernel_width, 1));
    } else if (layers[i].is<Conv>() && keep_activations) {  // conv_backward's input gradient
      const Conv& c = layers[i].as<Conv>();
      const Shape& out = layers[i].output;
      padded_size = std::max<std::size_t>(
          padded_size, conv_transpose_padded_size(out.channels, out.height, out.width,
                                                  c.kernel_height, c.kernel_width, 1));
    }
  }
  padded.resize(padded_size);
  upsampled.resize(upsampled_size);
  if (keep_activations) dupsampled.resize(upsampled_size);
}

Network::Network(int height, int width) {
  require(height >= 1 && width >= 1, "Network(" + std::to_string(height) + ", " +
                                          std::to_string(width) +
                                          "): the input must be at least 1x1");
  require(product({height, width}) <= kMaxValues,
          "Network(" + std::to_string(height) + ", " + std::to_string(width) + "): more than " +
              std::to_string(kMaxValues) + " input values");
  const Shape shape{height, width, 1};
  layers_.push_back(Layer{Input{}, shape, shape});
  max_activation_ = shape.size();
}

void Network::push(const std::string& call, LayerKind kind, long long height, long long width,
                   long long channels, long long num_weights, long long num_biases) {
  const std::string dims =
      std::to_string(height) + "x" + std::to_string(width) + "x" + std::to_string(channels);
  require(height >= 1 && width >= 1 && channels >= 1,
          call + ": the output would be " + dims + ", with no values");
  require(product({height, width, channels}) <= kMaxValues,
          call + ": the output would be " + dims + ", more than " + std::to_string(kMaxValues) +
              " values (the limit per layer)");
  const long long params = static_cast<long long>(num_params_) + num_weights + num_biases;
  require(params <= kMaxParams, call + ": the genome would have " + std::to_string(params) +
                                    " parameters, more than " + std::to_string(kMaxParams));
  const Shape in = output_shape();
  const Shape output{static_cast<int>(height), static_cast<int>(width),
                     static_cast<int>(channels)};
  layers_.push_back(Layer{kind, in, output, num_params_, static_cast<std::size_t>(num_weights),
                          static_cast<std::size_t>(num_biases)});
  num_params_ = static_cast<std::size_t>(params);
  max_activation_ = std::max({max_activation_, in.size(), output.size()});
}

Network& Network::conv(int kh, int kw, int m, Activation activation) {
  const Shape in = output_shape();
  const std::string call = call_text("conv", {kh, kw, m});
  require(kh >= 1 && kw >= 1 && m >= 1, call + ": kernel sizes and multiplier must be >= 1");
  require(kh <= in.height && kw <= in.width,
          call + ": a " + std::to_string(kh) + "x" + std::to_string(kw) +
              " kernel does not fit the " + in.str() + " input" + spatial_hint(layers_.back()));
  require(product({kh, kw, m}) <= kMaxValues,
          call + ": more than " + std::to_string(kMaxValues) + " kernel weights");
  push(call, Conv{kh, kw, m, activation}, in.height - kh + 1, in.width - kw + 1,
       static_cast<long long>(in.channels) * m, product({kh, kw, m}));
  return *this;
}

Network& Network::maxpool() {
  const Shape in = output_shape();
  require(in.height >= 2 && in.width >= 2,
          "maxpool(): needs an input of at least 2x2, got " + in.str() +
              spatial_hint(layers_.back()));
  push("maxpool()", MaxPool{}, in.height / 2, in.width / 2, in.channels);
  return *this;
}

Network& Network::dense(int units, Activation activation, float scale) {
  const std::string call = call_text("dense", {units});
  require(units >= 1, call + ": units must be >= 1");
  require(scale > 0.0f && std::isfinite(scale),
          call + ": scale must be a finite number > 0, got " + std::to_string(scale));
  push(call, Dense{units, activation, scale}, 1, 1, units,
       product({static_cast<long long>(output_shape().size()), units}), units);
  return *this;
}

Network& Network::dense_tied(int source, Activation activation) {
  const Shape in = output_shape();
  const std::string call = call_text("dense_tied", {source});
  const int count = static_cast<int>(layers_.size());
  require(source >= 1 && source < count,
          call + ": the source must be the index of an earlier layer, 1.." +
              std::to_string(count - 1) + " (layer 0 is the input)");
  const Layer& s = layers_[source];
  require(s.is<Dense>(),
          call + ": layer " + std::to_string(source) + " is " + s.call() +
              ", not a dense layer: only a dense layer's weights can be tied");
  require(s.output.size() == in.size(),
          call + ": layer " + std::to_string(source) + " (" + s.call() + ") has " +
              std::to_string(s.output.size()) + " outputs, so the tied layer needs " +
              std::to_string(s.output.size()) + " inputs; the previous layer gives " +
              std::to_string(in.size()) + " (" + in.str() + ")");
  // As many outputs as the source has inputs: the tied layer maps n -> k, as 1x1xk.
  const int k = static_cast<int>(s.input.size());
  push(call, DenseTied{source, activation}, 1, 1, k, 0, k);
  return *this;
}

Network& Network::reshape(int h, int w, int c) {
  const Shape in = output_shape();
  const std::string call = call_text("reshape", {h, w, c});
  require(h >= 1 && w >= 1 && c >= 1, call + ": every dimension must be >= 1");
  const long long values = product({h, w, c});
  require(values == static_cast<long long>(in.size()),
          call + ": needs " + std::to_string(values) + " values, the previous layer gives " +
              std::to_string(in.size()) + " (" + in.str() + ")");
  push(call, Reshape{}, h, w, c);
  return *this;
}

Network& Network::unpool() {
  const Shape in = output_shape();
  push("unpool()", Unpool{}, 2LL * in.height, 2LL * in.width, in.channels);
  return *this;
}

Network& Network::conv_transpose(int kh, int kw, int r, Activation activation) {
  const Shape in = output_shape();
  const std::string call = call_text("conv_transpose", {kh, kw, r});
  require(kh >= 1 && kw >= 1 && r >= 1, call + ": kernel sizes and reducer must be >= 1");
  require(in.channels % r == 0, call + ": the input's " + std::to_string(in.channels) +
                                    " channels are not divisible by the reducer " +
                                    std::to_string(r));
  require(product({kh, kw, r}) <= kMaxValues,
          call + ": more than " + std::to_string(kMaxValues) + " kernel weights");
  push(call, ConvTranspose{kh, kw, r, activation}, in.height + kh - 1LL, in.width + kw - 1LL,
       in.channels / r, product({kh, kw, r}));
  return *this;
}

std::size_t Network::multiply_adds() const {
  std::size_t total = 0;
  for (const Layer& l : layers_) total += l.multiply_adds();
  return total;
}

std::string Network::summary() const {
  int width = 26;  // the layer column, wider for long calls such as dense(500, "relu", 0.0678)
  for (const Layer& l : layers_) width = std::max(width, static_cast<int>(l.call().size()) + 1);
  std::string s;
  char line[256];
  std::snprintf(line, sizeof line, "%-3s %-*s %-12s %8s %8s\n", "#", width, "layer", "output",
                "params", "offset");
  s += line;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const Layer& l = layers_[i];
    std::snprintf(line, sizeof line, "%-3zu %-*s %-12s %8zu %8zu\n", i, width, l.call().c_str(),
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
  return forward_batch(genomes, images, 1, ws);
}

void Network::forward_images(const float* genome, const float* images, std::size_t S,
                             float* out, int threads) const {
  const std::size_t G = num_params_, in = input_shape().size(), out_size = output_shape().size();
  std::vector<float> lanes(G * kLanes);
  for (std::size_t i = 0; i < G; ++i) store(&lanes[i * kLanes], splat(genome[i]));
  const int B = preferred_batch();
  const std::size_t per_call = static_cast<std::size_t>(B) * kLanes;
  const long calls = static_cast<long>((S + per_call - 1) / per_call);
  if (threads <= 0) threads = omp_get_max_threads();
#pragma omp parallel num_threads(threads) if (calls > 1)
  {
    Workspace ws(*this, B);
    std::vector<const float*> pointers(per_call);
#pragma omp for schedule(dynamic)
    for (long c = 0; c < calls; ++c) {
      const std::size_t first = c * per_call, n = std::min(per_call, S - first);
      const int b_count = static_cast<int>((n + kLanes - 1) / kLanes);
      // Image first + b*kLanes + lane in slot (b, lane); past the end, the last image again.
      for (std::size_t k = 0; k < per_call; ++k)
        pointers[k] = images + (first + std::min(k, n - 1)) * in;
      const float* y = forward_batch(lanes.data(), pointers.data(), b_count, ws);
      for (std::size_t k = 0; k < n; ++k) {
        const float* yb = y + (k / kLanes) * out_size * kLanes;
        float* o = out + (first + k) * out_size;
        for (std::size_t p = 0; p < out_size; ++p) o[p] = yb[p * kLanes + k % kLanes];
      }
    }
  }
}

int Network::preferred_batch() const {
  std::size_t dense = 0;
  for (const Layer& l : layers_)
    if (l.is<Dense>() || l.is<DenseTied>()) dense += l.multiply_adds();
  return 2 * dense > multiply_adds() ? 4 : 1;
}

const float* Network::forward_batch(const float* genomes, const float* const* images, int B,
                                    Workspace& ws) const {
  if (B < 1 || B > ws.batch)
    throw std::invalid_argument("forward_batch: " + std::to_string(B) +
                                " images per lane, the workspace holds " +
                                std::to_string(ws.batch));
  // The ping-pong buffers: each layer reads cur and writes spare, then they swap. With a
  // tape, each layer writes its own buffer there instead.
  const bool tape = ws.keeps_activations();
  float* cur = tape ? ws.activation(0) : ws.a.data();
  float* spare = ws.b.data();
  const std::size_t pixels = input_shape().size();
  for (int b = 0; b < B; ++b) {
    const float* const* lane_images = images + b * kLanes;
    float* x = cur + b * pixels * kLanes;
    if (std::all_of(lane_images, lane_images + kLanes,
                    [&](const float* i) { return i == lane_images[0]; })) {
      for (std::size_t p = 0; p < pixels; ++p) store(x + p * kLanes, splat(lane_images[0][p]));
    } else {
      for (std::size_t p = 0; p < pixels; ++p)
        for (int lane = 0; lane < kLanes; ++lane) x[p * kLanes + lane] = lane_images[lane][p];
    }
  }
  for (std::size_t i = 1; i < layers_.size(); ++i) {
    const Layer& l = layers_[i];
    const Shape& in = l.input;
    const float* p = genomes + l.offset * kLanes;
    float* out = tape ? ws.activation(i) : spare;
    // Image b's buffers: (in.size(), kLanes) at b * in_step, (out.size(), kLanes) at b * out_step.
    const std::size_t in_step = in.size() * kLanes, out_step = l.output.size() * kLanes;
    auto each_image = [&](auto&& op) {
      for (int b = 0; b < B; ++b) op(out + b * out_step, cur + b * in_step);
    };
    std::visit(
        overloaded{
            // Input (only layer 0) and Reshape: the same buffer, read with other dimensions.
            [&](const Input&) { out = cur; },
            [&](const Reshape&) { out = cur; },
            [&](const Conv& c) {
              each_image([&](float* o, const float* x) {
                conv_forward(o, x, p, in.channels, in.height, in.width, c.kernel_height,
                             c.kernel_width, c.multiplier, c.activation);
              });
            },
            [&](const MaxPool&) {
              each_image([&](float* o, const float* x) {
                maxpool_forward(o, x, in.channels, in.height, in.width);
              });
            },
            [&](const Dense& d) {
              dense_forward(out, cur, p, p + l.num_weights * kLanes,
                            static_cast<int>(in.size()), d.units, d.activation, B, d.scale);
            },
            [&](const DenseTied& t) {
              const Layer& s = layers_[t.source];
              dense_transposed_forward(out, cur, genomes + s.offset * kLanes, p,
                                       static_cast<int>(in.size()),
                                       static_cast<int>(l.output.size()), t.activation, B,
                                       s.as<Dense>().scale);
            },
            [&](const Unpool&) {
              if (tape || !fused_at(layers_, i))  // a tape keeps the unpooled image too
                each_image([&](float* o, const float* x) {
                  unpool_forward(o, x, in.channels, in.height, in.width);
                });
              if (!fused_at(layers_, i)) return;
              const Layer& next = layers_[++i];
              const ConvTranspose& t = next.as<ConvTranspose>();
              out = tape ? ws.activation(i) : spare;
              const std::size_t fused_step = next.output.size() * kLanes;
              for (int b = 0; b < B; ++b)
                unpool_conv_transpose_forward(out + b * fused_step, cur + b * in_step,
                                              genomes + next.offset * kLanes, in.channels,
                                              in.height, in.width, t.kernel_height,
                                              t.kernel_width, t.reducer, ws.upsampled.data(),
                                              ws.padded.data(), t.activation);
            },
            [&](const ConvTranspose& t) {
              each_image([&](float* o, const float* x) {
                conv_transpose_forward(o, x, p, in.channels, in.height, in.width,
                                       t.kernel_height, t.kernel_width, t.reducer, 1,
                                       ws.padded.data(), t.activation);
              });
            },
        },
        l.kind);
    if (out != cur) {
      if (!tape) spare = cur;
      cur = out;
    }
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
