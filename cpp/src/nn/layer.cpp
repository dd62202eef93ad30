// Names and builder calls of layers, for summaries, errors and saved network descriptions.
#include "evoae/nn/layer.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace evoae {

namespace {

// Whether kind K has an activation (and its default), a scale of its own.
template <class K, class = void>
struct has_activation : std::false_type {};
template <class K>
struct has_activation<K, std::void_t<decltype(K::default_activation)>> : std::true_type {};
template <class K, class = void>
struct has_scale : std::false_type {};
template <class K>
struct has_scale<K, std::void_t<decltype(std::declval<K>().scale)>> : std::true_type {};

}  // namespace

const char* layer_kind_name(const LayerKind& kind) {
  return std::visit([](const auto& k) { return k.name; }, kind);
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

const char* Layer::name() const { return layer_kind_name(kind); }

std::optional<Activation> Layer::activation() const {
  return std::visit(
      [](const auto& k) -> std::optional<Activation> {
        if constexpr (has_activation<std::decay_t<decltype(k)>>::value) return k.activation;
        return std::nullopt;
      },
      kind);
}

std::vector<int> Layer::arguments() const {
  return std::visit([&](const auto& k) { return k.arguments(output); }, kind);
}

std::size_t Layer::multiply_adds() const {
  return std::visit([&](const auto& k) { return k.multiply_adds(input, output); }, kind);
}

LayerOptions Layer::options() const {
  return std::visit(
      [](const auto& k) {
        using K = std::decay_t<decltype(k)>;
        LayerOptions o;
        if constexpr (has_scale<K>::value)
          if (k.scale != 1.0f) o.scale = k.scale;
        if constexpr (has_activation<K>::value)  // positional: written when a scale follows
          if (k.activation != K::default_activation || o.scale) o.activation = k.activation;
        return o;
      },
      kind);
}

std::string Layer::call() const {
  std::string s = std::string(name()) + "(";
  const std::vector<int> args = arguments();
  for (std::size_t i = 0; i < args.size(); ++i) s += (i ? ", " : "") + std::to_string(args[i]);
  const LayerOptions o = options();
  if (o.activation)
    s += std::string(", \"") + activation_name(*o.activation) + "\"";
  if (o.scale) {  // the fewest digits that read back as the same float
    char text[32];
    for (int digits = 6; digits <= 9; ++digits) {
      std::snprintf(text, sizeof text, "%.*g", digits, static_cast<double>(*o.scale));
      if (std::strtof(text, nullptr) == *o.scale) break;
    }
    s += std::string(", ") + text;
  }
  return s + ")";
}

}  // namespace evoae
