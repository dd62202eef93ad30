// The coevolution settings table: one entry per setting with its spec and how it is read from
// and written to CoevoSettings, and the names of every choice (one list per enum, the order of
// its values, so that a name and its value cannot drift apart).
#include "evoae/coevo/settings.h"

#include <algorithm>
#include <stdexcept>

namespace evoae {
namespace {

template <class E>
struct Names;
template <> struct Names<CoevoMethod> {
  static constexpr const char* setting = "method";
  static std::vector<std::string> all() { return {"coevolution", "canonical"}; }
};
template <> struct Names<Topology> {
  static constexpr const char* setting = "topology";
  static std::vector<std::string> all() { return {"ring", "torus"}; }
};
template <> struct Names<CellUpdate> {
  static constexpr const char* setting = "update";
  static std::vector<std::string> all() { return {"sequential", "synchronous"}; }
};
template <> struct Names<PruneOperator> {
  static constexpr const char* setting = "pruning";
  static std::vector<std::string> all() { return {"none", "random", "variance", "conjunctive"}; }
};
template <> struct Names<VarianceDirection> {
  static constexpr const char* setting = "variance_direction";
  static std::vector<std::string> all() { return {"highest", "lowest"}; }
};
template <> struct Names<PruneSchedule> {
  static constexpr const char* setting = "schedule";
  static std::vector<std::string> all() {
    return {"fixed", "increase", "decrease", "population", "final_n", "prune_after",
            "exponential"};
  }
};
template <> struct Names<AdamReset> {
  static constexpr const char* setting = "adam";
  static std::vector<std::string> all() { return {"persistent", "per_batch"}; }
};

template <class E>
const char* enum_name(E v) {
  static const std::vector<std::string> names = Names<E>::all();
  return names.at(static_cast<std::size_t>(v)).c_str();
}

template <class E>
E enum_from_name(const std::string& name) {
  const std::vector<std::string> names = Names<E>::all();
  std::string valid;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<E>(i);
    valid += (i ? ", " : "") + names[i];
  }
  throw std::invalid_argument(std::string("unknown ") + Names<E>::setting + " '" + name +
                              "': choose " + valid);
}

using Access = SettingAccess<CoevoSettings, SettingValue>;

struct Entry {
  SettingSpec spec;
  Access access;
};

template <class T>
Access number(T CoevoSettings::*member, bool has_unset = false, T unset = T()) {
  return number_access<SettingValue>(member, has_unset, unset);
}

template <class E>
Entry choice(E CoevoSettings::*member, const char* group, const char* help) {
  return {choice_setting(Names<E>::setting, group, Names<E>::all(), help),
          choice_access<SettingValue>(member, &enum_from_name<E>, &enum_name<E>)};
}

SettingSpec real(const char* name, const char* group, double min, double max, SettingValue def,
                 const char* help) {
  SettingSpec s = positive_real_setting(name, group, help);
  s.min_exclusive = false;
  s.min = min, s.max = max;
  s.default_value = def;
  return s;
}

SettingSpec positive(const char* name, const char* group, double def, const char* help) {
  SettingSpec s = positive_real_setting(name, group, help);
  s.default_value = def;
  return s;
}

const std::vector<Entry>& entries() {
  using S = CoevoSettings;
  static const std::vector<Entry> table = [] {
    std::vector<Entry> t;
    t.push_back(choice(&S::method, "method",
                       "coevolution = cells of encoders and decoders on a ring or torus, each "
                       "training the pair a tournament picks among its neighbourhood's "
                       "encoder x decoder pairs; canonical = one autoencoder, Adam with a step "
                       "decay of the learning rate (the papers' baseline; the cell settings do "
                       "not apply)"));
    t.push_back({integer_setting("cells", "population", 1, 4096, 10LL, "N",
                                 "cells of the ring or torus, each holding an encoder and a "
                                 "decoder"),
                 number(&S::cells)});
    t.push_back(choice(&S::topology, "population",
                       "ring = cells 0..N-1 in a circle, a cell's neighbours those at distance "
                       "<= radius; torus = a grid of torus_rows x N/torus_rows wrapping at the "
                       "edges, neighbours at Manhattan distance <= radius"));
    t.push_back({integer_setting("radius", "population", 0, 64, 1LL, "R",
                                 "a neighbourhood is the centre and the cells at distance <= R"),
                 number(&S::radius)});
    t.push_back({integer_setting("torus_rows", "population", 1, 4096, std::monostate{}, "",
                                 "rows of the torus, dividing cells (default: the largest "
                                 "divisor <= sqrt(cells))"),
                 number(&S::torus_rows, true, 0)});
    t.push_back(choice(&S::update, "population",
                       "sequential = cells visited one after another in a new random order "
                       "each epoch, each seeing its neighbours' latest centres (the public "
                       "code's); synchronous = every cell reads the centres of the epoch's "
                       "start and the cells train in parallel threads"));
    t.push_back({integer_setting("epochs", "schedule", 1, kSettingCountMax, 400LL, "T",
                                 "the run's length in epochs (a pass of every cell, or of the "
                                 "canonical network, over its data): T of the pruning "
                                 "schedules and of the canonical step decay"),
                 number(&S::epochs)});
    t.push_back({integer_setting("batch", "training", 1, 65536, 5LL, "B",
                                 "images per Adam step; the last part-batch of a pass is "
                                 "trained too"),
                 number(&S::batch)});
    t.push_back({positive("learning_rate", "training", 1e-5,
                          "Adam's step size at the start (each cell's then mutates)"),
                 number(&S::learning_rate)});
    t.push_back({real("beta1", "training", 0, 0.999999, 0.5, "Adam's first-moment decay"),
                 number(&S::beta1)});
    t.push_back({real("beta2", "training", 0, 0.999999, 0.999, "Adam's second-moment decay"),
                 number(&S::beta2)});
    t.push_back(choice(&S::adam, "training",
                       "persistent = each cell (or the canonical network) keeps its Adam "
                       "moments from batch to batch and visit to visit; per_batch = a new "
                       "Adam for every batch, as the public code does"));
    t.push_back({real("lr_mutation", "population", 0, 1, 1e-5,
                      "coevolution: a cell's learning rate gets N(0, lr_mutation) added after "
                      "each visit, kept in [1e-9, 10]"),
                 number(&S::lr_mutation)});
    t.push_back({real("lr_decay", "training", 0, 1, 0.1,
                      "canonical: the learning rate is multiplied by this every lr_decay_every "
                      "epochs"),
                 number(&S::lr_decay)});
    t.push_back({integer_setting("lr_decay_every", "training", 1, kSettingCountMax,
                                 std::monostate{}, "",
                                 "canonical: epochs between decays (default: max(1, epochs/4))"),
                 number(&S::lr_decay_every, true, 0)});
    t.push_back(choice(&S::pruning, "pruning",
                       "none; random = prune_amount of every dense layer's weights and of its "
                       "biases zeroed; variance = a neuron's weights and bias each zeroed with "
                       "its min-max normalised activation spread (see variance_direction); "
                       "conjunctive = lexicase-style: neurons below conjunctive_threshold of "
                       "their layer's min-max range on case after case, whole neurons zeroed"));
    t.push_back(choice(&S::schedule, "pruning",
                       "the probability of a prune after a visit (epoch t of T = epochs - 1, "
                       "p = prune_probability, n = neighbourhood size): fixed p; increase "
                       "p t/T; decrease 1 - p t/T; population p t/(T n); final_n p once t >= "
                       "0.75 T; prune_after p at t = T only; exponential p (1 - exp(-2t/T))"));
    t.push_back({real("prune_probability", "pruning", 0, 1, std::monostate{},
                      "p of the schedule (default: 0.5 for random, 0.1 for variance and "
                      "conjunctive)"),
                 number(&S::prune_probability, true, -1.0)});
    t.push_back({real("prune_amount", "pruning", 0, 1, 0.1,
                      "random: the fraction of each layer's weights (and of its biases) "
                      "zeroed"),
                 number(&S::prune_amount)});
    t.push_back(choice(&S::variance_direction, "pruning",
                       "highest = the neuron whose activations vary most is always pruned, "
                       "the least never (the public code's); lowest = the reverse"));
    t.push_back({integer_setting("conjunctive_cases", "pruning", 1, 100000, 100LL, "",
                                 "conjunctive: training samples drawn (with replacement) as "
                                 "the cases"),
                 number(&S::conjunctive_cases)});
    t.push_back({real("conjunctive_threshold", "pruning", 0, 1, 0.1,
                      "conjunctive: a neuron passes a case when its min-max normalised "
                      "activation there is below this"),
                 number(&S::conjunctive_threshold)});
    t.push_back({integer_setting("seed", "engine", 0, kSettingSeedMax, 0LL, "",
                                 "random seed of the initial weights, visit orders, batches, "
                                 "tournaments, learning-rate mutations and prunes; the same "
                                 "seed gives the same run on any thread count"),
                 number(&S::seed)});
    t.push_back({threads_setting(), number(&S::threads, true, 0)});
    return t;
  }();
  return table;
}

}  // namespace

const char* name_of(CoevoMethod v) { return enum_name(v); }
const char* name_of(Topology v) { return enum_name(v); }
const char* name_of(CellUpdate v) { return enum_name(v); }
const char* name_of(PruneOperator v) { return enum_name(v); }
const char* name_of(VarianceDirection v) { return enum_name(v); }
const char* name_of(PruneSchedule v) { return enum_name(v); }
const char* name_of(AdamReset v) { return enum_name(v); }
CoevoMethod coevo_method_from_name(const std::string& n) { return enum_from_name<CoevoMethod>(n); }
Topology topology_from_name(const std::string& n) { return enum_from_name<Topology>(n); }
CellUpdate cell_update_from_name(const std::string& n) { return enum_from_name<CellUpdate>(n); }
PruneOperator prune_operator_from_name(const std::string& n) {
  return enum_from_name<PruneOperator>(n);
}
VarianceDirection variance_direction_from_name(const std::string& n) {
  return enum_from_name<VarianceDirection>(n);
}
PruneSchedule prune_schedule_from_name(const std::string& n) {
  return enum_from_name<PruneSchedule>(n);
}
AdamReset adam_reset_from_name(const std::string& n) { return enum_from_name<AdamReset>(n); }

const std::vector<SettingSpec>& coevo_setting_specs() {
  static const std::vector<SettingSpec> specs = [] {
    std::vector<SettingSpec> v;
    for (const Entry& e : entries()) v.push_back(e.spec);
    return v;
  }();
  return specs;
}

CoevoSettings coevo_settings_from(const std::map<std::string, SettingValue>& given) {
  CoevoSettings s;
  for (const auto& [key, value] : given) {
    const SettingSpec& spec = find_setting(coevo_setting_specs(), key);  // refuses unknown names
    if (std::holds_alternative<std::monostate>(value)) continue;        // None: not given
    check_setting_value(spec, value);
    entries()[&spec - coevo_setting_specs().data()].access.set(s, value);
  }
  return s;
}

std::map<std::string, SettingValue> coevo_settings_values(const CoevoSettings& s) {
  return setting_values_of<SettingValue>(entries(), s);
}

CoevoSettings resolve_coevo_settings(CoevoSettings s) {
  if (s.method == CoevoMethod::Canonical) {  // one network: no neighbours, no mutation
    s.cells = 1, s.radius = 0, s.topology = Topology::Ring, s.torus_rows = 0;
    s.update = CellUpdate::Sequential;
    s.lr_mutation = 0.0;
  }
  if (s.topology == Topology::Torus) {
    if (s.torus_rows == 0) {
      s.torus_rows = 1;
      for (int r = 1; r * r <= s.cells; ++r)
        if (s.cells % r == 0) s.torus_rows = r;
    }
    if (s.cells % s.torus_rows != 0)
      throw std::invalid_argument("torus_rows must divide cells (" + std::to_string(s.cells) +
                                  "), got " + std::to_string(s.torus_rows));
  } else if (s.torus_rows != 0) {
    throw std::invalid_argument("torus_rows applies to topology 'torus', not 'ring'");
  }
  if (s.lr_decay_every == 0) s.lr_decay_every = std::max(1, s.epochs / 4);
  if (s.prune_probability < 0.0)
    s.prune_probability = s.pruning == PruneOperator::Random ? 0.5 : 0.1;
  return s;
}

}  // namespace evoae
