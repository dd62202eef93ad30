// The settings of a run, declared once. The table setting_specs() names each setting with its
// type, range, default and help; the C++ checks, the Python keyword arguments and the CLI
// options are all made from it (the bindings export it as evoae._core.setting_specs()).
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "evoae/core/settings_table.h"
#include "evoae/evo/operators.h"
#include "evoae/evo/strategy.h"
#include "evoae/nn/loss.h"
#include "evoae/train/optimizer.h"

namespace evoae {

// What the population is measured on: reconstruction of the inputs (or of given targets), or
// the class of each input (labels) by softmax cross-entropy.
enum class ObjectiveKind { Reconstruction, Classification };
const char* name(ObjectiveKind k);

// Memetic evolution (evo/memetic.h): what becomes of the weights an agent learned before it
// was measured. Lamarckian: they replace its genome; Baldwinian: only its fitness is theirs.
enum class Memetic { Lamarckian, Baldwinian };
const char* name(Memetic m);
Memetic parse_memetic(const std::string& text);  // throws, naming the valid ones
// The table reads a choice by name(); training's optimisers are named by optimizer_name().
inline const char* name(OptimizerKind k) { return optimizer_name(k); }

// Every setting; the defaults are the original loop of Varadi (2021). A value equal to a
// setting's `unset` stands for "not given": it is resolved from the others (see
// setting_specs()).
struct EvolutionSettings {
  int population = -1;  // lambda (-1: default_population(strategy, parameters))
  int mutations = 10;  // k: positions mutated per child (shared ones for "original")
  std::uint64_t seed = 0;
  int threads = 0;  // 0: OpenMP's default
  Mutation mutation = Mutation::Original;
  double sigma = 0.0;  // step size; 0: default_sigma(mutation)
  StepControl step_control = StepControl::Fixed;
  double sigma_end = 0.0;          // Schedule: final sigma (0: sigma)
  int mutations_end = -1;          // Schedule: final k (-1: mutations)
  long schedule_generations = 0;   // Schedule: generations from the start to the end values
  double tau = 0.0;                // SelfAdaptive: learning rate (0: 1 / sqrt(2 params))
  Crossover crossover = Crossover::None;
  Selection selection = Selection::CopyBest;
  int truncation = 0;              // Truncation: T parents (0: max(2, population / 5))
  int tournament_size = 0;         // Tournament: agents per tournament (0: 3)
  int elites = 1;                  // agents passed on unchanged
  ObjectiveKind objective = ObjectiveKind::Reconstruction;
  Fitness fitness = Fitness::AbsoluteSum;
  int batch = 0;                   // samples per generation, a new random subset each (0: all)
  StrategyKind strategy = StrategyKind::Ga;
  double learning_rate = 0.0;      // openai-es: Adam's step size (0: 0.01)
  double weight_decay = -1.0;      // openai-es: L2 coefficient (-1: 0.005)
  int restarts = 0;                // cma-es, sep-cma-es: IPOP restarts (0: none)
  double restart_growth = 0.0;     // IPOP: population factor per restart (0: 2)
  int gradient_steps = 0;          // memetic: gradient steps per measured agent (0: none)
  Memetic memetic = Memetic::Lamarckian;
  double gradient_rate = 0.0;      // memetic: the optimiser's learning rate (0: its default)
  OptimizerKind gradient_optimizer = OptimizerKind::Adam;
  std::optional<Loss> gradient_loss;  // memetic: what the steps minimise (none: the fitness's)
};

// sigma when none is given: U(-1, 1) steps as in the original for the uniform kinds; for
// Gaussian noise on a few weights about the same spread (on the ten digits sigma 0.5 on one
// weight did as well as 1 and better than 0.1 or 0.3 on more); noise on all weights at once
// must be far smaller. Reset and Zero have no step size (1 is kept as a neutral value).
double default_sigma(Mutation m);

// population when none is given: the GA's 20 (the original loop's); 4 + floor(3 ln n) for
// n parameters under CMA-ES, sep-CMA-ES, SNES, xNES and LM-MA-ES (Hansen 2016, Table 1, as
// the NES and LM-MA-ES papers take it); OpenAI-ES 10,000 (Salimans et al. 2017's released
// Humanoid configuration: episodes_per_batch 10000); PGPE 200 (Toklu et al. 2020's pgpelib
// runs).
int default_population(StrategyKind strategy, std::size_t num_params);

// All settings, in the order of EvolutionSettings.
const std::vector<SettingSpec>& setting_specs();

// Settings from given values (unknown names, wrong types and values out of range are refused
// with std::invalid_argument naming the setting); the others keep their defaults.
EvolutionSettings settings_from(const std::map<std::string, SettingValue>& given);
// Every setting's value; unset ones (see EvolutionSettings) as monostate.
std::map<std::string, SettingValue> settings_values(const EvolutionSettings& s);
// Throws std::invalid_argument unless every value is unset or in its spec's range.
void check_setting_ranges(const EvolutionSettings& s);

}  // namespace evoae
