// The settings of a training run, declared once in the table train_setting_specs() (the
// shared SettingSpec of core/settings_table.h), as evo/settings.h declares the evolution's:
// the C++ checks, the Python keyword arguments and the CLI options come from it (the bindings
// export it as evoae._core.train_setting_specs()).
//
// The optimiser's per-network settings (learning_rate, momentum, beta1, beta2, weight_decay)
// take one value for every network or a list of one value per network: TrainSettings holds
// each as a vector of 1 or `networks` values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "evoae/core/settings_table.h"
#include "evoae/nn/loss.h"
#include "evoae/train/optimizer.h"

namespace evoae {

// How the networks' parameters start: uniform = U(-1, 1) as the evolution's genomes; glorot
// = Glorot & Bengio (2010)'s uniform range per layer, biases 0 (see the table's help).
enum class Init { Uniform, Glorot };
const char* init_name(Init init);
Init init_from_name(const std::string& name);  // std::invalid_argument naming the valid ones

// A training setting's value as it crosses to Python and back: a SettingValue, or for a
// per-network setting a list of one value per network.
using TrainSettingValue =
    std::variant<std::monostate, long long, double, std::string, std::vector<double>>;

struct TrainSettings {
  int networks = 1;  // 1: one network, images across the lanes; more: population mode
  std::uint64_t seed = 0;
  int threads = 0;  // 0: OpenMP's default
  Init init = Init::Uniform;
  // Unset: resolved by the Trainer from its network and data (see default_loss()).
  std::optional<Loss> loss;
  OptimizerKind optimizer = OptimizerKind::Adam;
  // Per network: 1 value for all, or `networks` values; empty: unset, resolved (see specs).
  std::vector<double> learning_rate{0.01};
  std::vector<double> momentum;      // sgd
  std::vector<double> beta1, beta2;  // adam, adamw
  double epsilon = 0.0;              // adam, adamw; 0: unset
  std::vector<double> weight_decay;
  int batch = 0;         // training images per step; 0: all
  double holdout = 0.0;  // fraction of the images held out for evaluation

  // Network n's value of a per-network setting.
  static double of(const std::vector<double>& values, std::size_t n) {
    return values.size() == 1 ? values[0] : values[n];
  }
};

// All settings, in the order of TrainSettings.
const std::vector<SettingSpec>& train_setting_specs();
// Whether a setting takes a list of one value per network.
bool is_per_network_setting(const std::string& name);

// Settings from given values: unknown names, wrong types, values out of range and lists for
// settings that take one value are refused with std::invalid_argument naming the setting;
// the others keep their defaults (resolve_train_settings() resolves the unset ones).
TrainSettings train_settings_from(const std::map<std::string, TrainSettingValue>& given);
// Every setting's value: unset ones as monostate, a per-network setting as one number when
// it holds one value.
std::map<std::string, TrainSettingValue> train_settings_values(const TrainSettings& s);
// Checks every value's range, the lists' lengths against `networks` and the settings' fit
// with the optimiser, then fills in the unset ones (momentum 0.9; beta1 0.9, beta2 0.999,
// epsilon 1e-8; weight_decay 0, or 0.01 for adamw). std::invalid_argument naming the setting.
TrainSettings resolve_train_settings(TrainSettings s);

}  // namespace evoae
