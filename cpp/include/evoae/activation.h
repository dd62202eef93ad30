// The nonlinearity of a dense layer, shared by the layer descriptions and the ops.
#pragma once

#include <string>

namespace evoae {

// Sigmoid is the reference system's (addSigmLayer) and every dense layer's default.
enum class Activation { Sigmoid, ReLU, Tanh, Identity };

const char* activation_name(Activation activation);  // "sigmoid", "relu", "tanh", "identity"
// The activation of a name activation_name() gives; std::invalid_argument for another.
Activation activation_from_name(const std::string& name);

}  // namespace evoae
