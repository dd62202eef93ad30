// The settings of coevolved encoders and decoders with pruning (Lipizzaner-AE: Hemberg, Toutouh
// and O'Reilly 2024; Jorgensen, Hemberg, Toutouh and O'Reilly 2025), declared once in the table
// coevo_setting_specs() (core/settings_table.h), as train/settings.h declares training's: the
// C++ checks, the Python keywords and the CLI options come from it.
//
// One struct serves both methods: coevolution (a ring or torus of cells) and canonical (one
// autoencoder trained by Adam with a step decay of its learning rate, the papers' baseline).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "evoae/core/settings_table.h"

namespace evoae {

enum class CoevoMethod { Coevolution, Canonical };
enum class Topology { Ring, Torus };
// sequential: cells visited one after another in a new random order each epoch, each seeing
// the centres its neighbours hold at that moment (the public code's); synchronous: every cell
// reads the centres of the epoch's start and the cells train in parallel (faster, not theirs).
enum class CellUpdate { Sequential, Synchronous };
enum class PruneOperator { None, Random, Variance, Conjunctive };
// The variance operator's choice: highest = the neurons whose activations vary most are the
// likeliest pruned (the public code's); lowest = those that vary least.
enum class VarianceDirection { Highest, Lowest };
enum class PruneSchedule { Fixed, Increase, Decrease, Population, FinalN, PruneAfter, Exponential };
// persistent: each cell keeps its Adam moments across batches and visits; per_batch: a new
// Adam for every batch (the public code's: no moment estimate carries over).
enum class AdamReset { Persistent, PerBatch };

const char* name_of(CoevoMethod v);
const char* name_of(Topology v);
const char* name_of(CellUpdate v);
const char* name_of(PruneOperator v);
const char* name_of(VarianceDirection v);
const char* name_of(PruneSchedule v);
const char* name_of(AdamReset v);
// Parsers: std::invalid_argument naming the valid names.
CoevoMethod coevo_method_from_name(const std::string& name);
Topology topology_from_name(const std::string& name);
CellUpdate cell_update_from_name(const std::string& name);
PruneOperator prune_operator_from_name(const std::string& name);
VarianceDirection variance_direction_from_name(const std::string& name);
PruneSchedule prune_schedule_from_name(const std::string& name);
AdamReset adam_reset_from_name(const std::string& name);

struct CoevoSettings {
  CoevoMethod method = CoevoMethod::Coevolution;
  int cells = 10;
  Topology topology = Topology::Ring;
  int radius = 1;
  int torus_rows = 0;  // 0: resolved, the largest divisor of cells <= sqrt(cells)
  CellUpdate update = CellUpdate::Sequential;
  int epochs = 400;  // T of the schedules (and of the canonical step decay)
  int batch = 5;
  double learning_rate = 1e-5;
  double beta1 = 0.5, beta2 = 0.999;
  AdamReset adam = AdamReset::Persistent;
  double lr_mutation = 1e-5;  // sd of the N(0, sd) added to a cell's learning rate per visit
  double lr_decay = 0.1;      // canonical: the factor every lr_decay_every epochs
  int lr_decay_every = 0;     // 0: resolved, max(1, epochs / 4)
  PruneOperator pruning = PruneOperator::None;
  PruneSchedule schedule = PruneSchedule::Exponential;
  double prune_probability = -1.0;  // < 0: resolved, 0.5 for random, 0.1 otherwise
  double prune_amount = 0.1;        // random: the fraction of each layer's entries zeroed
  VarianceDirection variance_direction = VarianceDirection::Highest;
  int conjunctive_cases = 100;
  double conjunctive_threshold = 0.1;
  std::uint64_t seed = 0;
  int threads = 0;  // 0: OpenMP's default
};

const std::vector<SettingSpec>& coevo_setting_specs();
// Settings from given values: unknown names, wrong types and values out of range are refused
// with std::invalid_argument naming the setting; the others keep their defaults.
CoevoSettings coevo_settings_from(const std::map<std::string, SettingValue>& given);
std::map<std::string, SettingValue> coevo_settings_values(const CoevoSettings& s);
// Checks what one value cannot (a torus's rows dividing the cells, a neighbourhood on a ring
// of one cell) and fills in the unset values. std::invalid_argument naming the setting.
CoevoSettings resolve_coevo_settings(CoevoSettings s);

}  // namespace evoae
