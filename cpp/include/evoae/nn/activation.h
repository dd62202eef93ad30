// The nonlinearity a layer ends with, shared by the layer descriptions and the ops.
#pragma once

#include <string>

namespace evoae {

// Each kind has its default: ReLU for conv, sigmoid (the reference system's addSigmLayer)
// for conv_transpose, dense and dense_tied.
enum class Activation { Sigmoid, ReLU, Tanh, Identity };

const char* activation_name(Activation activation);  // "sigmoid", "relu", "tanh", "identity"
// The activation of a name activation_name() gives; std::invalid_argument for another.
Activation activation_from_name(const std::string& name);

}  // namespace evoae
