// The training settings table: one entry per setting with its spec and how it is read from
// and written to TrainSettings; the per-network settings take a list too.
#include "evoae/train/settings.h"

#include <limits>
#include <stdexcept>

namespace evoae {
namespace {

using Access = SettingAccess<TrainSettings, TrainSettingValue>;

struct Entry {
  SettingSpec spec;
  Access access;
  bool per_network = false;
};

template <class T>
Access number(T TrainSettings::*member, bool has_unset = false, T unset = T()) {
  return number_access<TrainSettingValue>(member, has_unset, unset);
}

// A per-network setting: one value reads as a number, several as a list, none as unset.
Access per_network(std::vector<double> TrainSettings::*member) {
  return {[=](const TrainSettings& s) -> TrainSettingValue {
            const std::vector<double>& v = s.*member;
            if (v.empty()) return std::monostate{};
            if (v.size() == 1) return v[0];
            return v;
          },
          [=](TrainSettings& s, const TrainSettingValue& v) {
            if (const auto* list = std::get_if<std::vector<double>>(&v)) s.*member = *list;
            else if (const auto* i = std::get_if<long long>(&v)) s.*member = {double(*i)};
            else s.*member = {std::get<double>(v)};
          }};
}

constexpr double kNoMax = std::numeric_limits<double>::infinity();

SettingSpec real(const char* name, const char* group, double min, double max, SettingValue def,
                 const char* help) {
  SettingSpec s = positive_real_setting(name, group, help);
  s.min_exclusive = false;
  s.min = min, s.max = max;
  s.default_value = def;
  return s;
}

const std::vector<Entry>& entries() {
  using S = TrainSettings;
  static const std::vector<Entry> table = [] {
    std::vector<Entry> t;
    t.push_back({integer_setting("networks", "training", 1, kSettingCountMax, 1LL, "N",
                                 "networks trained at once: 1 = one network, a different "
                                 "image in each SIMD lane; more = population mode, a network "
                                 "in each lane (each with its own initial weights and its own "
                                 "per-network settings), every lane on the same images"),
                 number(&S::networks)});
    t.push_back({integer_setting("seed", "training", 0, kSettingSeedMax, 0LL, "",
                                 "random seed of the initial weights, the held-out images and "
                                 "the mini-batches; the same seed gives the same run on any "
                                 "thread count"),
                 number(&S::seed)});
    t.push_back({threads_setting(), number(&S::threads, true, 0)});
    t.push_back({choice_setting("init", "training", {"uniform", "glorot"},
                                "initial weights: uniform = every parameter U(-1,1), network n "
                                "as agent n of an evolution with the same seed (a dense "
                                "layer's scale sets the size of its weights); glorot = "
                                "U(+-sqrt(6/(fan_in+fan_out))) per layer (Glorot & Bengio "
                                "2010) for conv and conv_transpose kernels and dense weights "
                                "(divided by a dense layer's scale, so that scale x weight has "
                                "that range), biases 0; fan_in / fan_out: conv kh*kw / "
                                "multiplier*kh*kw (an output reads one input channel, an input "
                                "channel feeds `multiplier` outputs); conv_transpose "
                                "reducer*kh*kw / kh*kw; dense inputs / units"),
                 choice_access<TrainSettingValue>(&S::init, init_from_name, init_name)});
    SettingSpec loss = choice_setting(
        "loss", "objective", loss_names(),
        "what is minimised, the mean over the images of: mae = mean |output - target| per "
        "value; sae = its sum (the paper's fitness); mse = mean squared error; bce = binary "
        "cross-entropy of outputs in (0,1); softmax-ce = cross-entropy of the softmax of the "
        "outputs (logits), for labels (default: softmax-ce with labels; bce when the last "
        "layer is a sigmoid, mse otherwise: on the ten digits, 16 networks, bce reached a "
        "median MAE of 0.043 in 16,000 steps, mae 0.047; at 4,000 steps bce 0.054, mae "
        "0.068, mse 0.065)");
    loss.default_value = std::monostate{};
    t.push_back({loss, optional_choice_access<TrainSettingValue>(&S::loss, loss_from_name,
                                                                 loss_name)});
    t.push_back({choice_setting("optimizer", "training", optimizer_names(),
                                "adam = Adam (Kingma & Ba 2015), weight decay as an L2 term; "
                                "adamw = Adam with decoupled weight decay (Loshchilov & Hutter "
                                "2019); sgd = SGD with momentum, weight decay as an L2 term"),
                 choice_access<TrainSettingValue>(&S::optimizer, optimizer_from_name,
                                                  optimizer_name)});
    SettingSpec lr = positive_real_setting(
        "learning_rate", "training",
        "step size (default: 0.01); one value, or a list of one per network");
    lr.default_value = 0.01;
    t.push_back({lr, per_network(&S::learning_rate), true});
    t.push_back({real("momentum", "training", 0, 1, std::monostate{},
                      "sgd: momentum mu of v = mu v + g (default: 0.9); one value, or a list "
                      "of one per network"),
                 per_network(&S::momentum), true});
    t.push_back({real("beta1", "training", 0, 1, std::monostate{},
                      "adam, adamw: decay of the first moment, < 1 (default: 0.9); one value, "
                      "or a list of one per network"),
                 per_network(&S::beta1), true});
    t.push_back({real("beta2", "training", 0, 1, std::monostate{},
                      "adam, adamw: decay of the second moment, < 1 (default: 0.999); one "
                      "value, or a list of one per network"),
                 per_network(&S::beta2), true});
    t.push_back({positive_real_setting("epsilon", "training",
                                       "adam, adamw: added to the root of the second moment "
                                       "(default: 1e-8)"),
                 number(&S::epsilon, true, 0.0)});
    t.push_back({real("weight_decay", "training", 0, kNoMax, std::monostate{},
                      "weight decay: an L2 term wd*p added to the gradient (adam, sgd; "
                      "default 0), or p *= 1 - lr*wd before each step (adamw; default 0.01); "
                      "one value, or a list of one per network"),
                 per_network(&S::weight_decay), true});
    t.push_back({integer_setting("batch", "objective", 1, kSettingIntMax, std::monostate{}, "B",
                                 "mini-batch: each step's gradient is the mean over a new "
                                 "seeded random subset of B training images (default: all of "
                                 "them)"),
                 number(&S::batch, true, 0)});
    t.push_back({real("holdout", "objective", 0, 1, 0.0,
                      "fraction of the images held out of training, for evaluation: the last "
                      "round(holdout x S) of a seeded permutation of the S images"),
                 number(&S::holdout)});
    return t;
  }();
  return table;
}

const Entry& entry_of(const std::string& key) {
  const SettingSpec& spec = find_setting(train_setting_specs(), key);  // refuses unknown names
  return entries()[&spec - train_setting_specs().data()];              // in the same order
}

// Throws unless `v` is in the entry's range: a list element by element, for a per-network
// setting only.
void check_value(const Entry& e, const TrainSettingValue& v) {
  if (const auto* list = std::get_if<std::vector<double>>(&v)) {
    if (!e.per_network)
      throw std::invalid_argument(e.spec.name + " takes one value, not a list");
    if (list->empty())
      throw std::invalid_argument(e.spec.name + ": an empty list; give one value, or one per "
                                  "network");
    for (double x : *list) check_setting_value(e.spec, x);
    return;
  }
  std::visit([&](const auto& x) {
    if constexpr (!std::is_same_v<std::decay_t<decltype(x)>, std::vector<double>>)
      check_setting_value(e.spec, x);
  }, v);
}

std::invalid_argument needs(const char* setting, const char* optimizers, OptimizerKind kind) {
  return std::invalid_argument(std::string(setting) + " applies to optimizer " + optimizers +
                               ", not '" + optimizer_name(kind) + "'");
}

}  // namespace

const char* init_name(Init init) { return init == Init::Uniform ? "uniform" : "glorot"; }

Init init_from_name(const std::string& name) {
  if (name == "uniform") return Init::Uniform;
  if (name == "glorot") return Init::Glorot;
  throw std::invalid_argument("unknown init '" + name + "': choose uniform, glorot");
}

const std::vector<SettingSpec>& train_setting_specs() {
  static const std::vector<SettingSpec> specs = [] {
    std::vector<SettingSpec> v;
    for (const Entry& e : entries()) v.push_back(e.spec);
    return v;
  }();
  return specs;
}

bool is_per_network_setting(const std::string& name) {
  for (const Entry& e : entries())
    if (e.spec.name == name) return e.per_network;
  return false;
}

TrainSettings train_settings_from(const std::map<std::string, TrainSettingValue>& given) {
  TrainSettings s;
  for (const auto& [key, value] : given) {
    const Entry& entry = entry_of(key);
    if (std::holds_alternative<std::monostate>(value)) continue;  // None: not given
    check_value(entry, value);
    entry.access.set(s, value);
  }
  return s;
}

std::map<std::string, TrainSettingValue> train_settings_values(const TrainSettings& s) {
  return setting_values_of<TrainSettingValue>(entries(), s);
}

TrainSettings resolve_train_settings(TrainSettings s) {
  for (const Entry& e : entries()) {
    const TrainSettingValue v = e.access.get(s);
    if (!std::holds_alternative<std::monostate>(v)) check_value(e, v);
  }
  if (s.learning_rate.empty())
    throw std::invalid_argument("learning_rate: none given; give one value, or one per network");
  const std::size_t N = s.networks;
  for (const auto& [name, values] :
       {std::pair{"learning_rate", &s.learning_rate}, std::pair{"momentum", &s.momentum},
        std::pair{"beta1", &s.beta1}, std::pair{"beta2", &s.beta2},
        std::pair{"weight_decay", &s.weight_decay}}) {
    if (values->size() > 1 && values->size() != N)
      throw std::invalid_argument(std::string(name) + ": a list of " +
                                  std::to_string(values->size()) + " values for networks = " +
                                  std::to_string(N) + "; give one value, or one per network");
  }
  for (const auto& [name, values] : {std::pair{"beta1", &s.beta1}, std::pair{"beta2", &s.beta2}})
    for (double b : *values)
      if (b >= 1.0)
        throw std::invalid_argument(std::string(name) + " must be < 1 (1 - " + name +
                                    "^t divides Adam's step), got " + setting_value_text(b));
  if (s.optimizer == OptimizerKind::Sgd) {
    if (!s.beta1.empty()) throw needs("beta1", "'adam' or 'adamw'", s.optimizer);
    if (!s.beta2.empty()) throw needs("beta2", "'adam' or 'adamw'", s.optimizer);
    if (s.epsilon != 0.0) throw needs("epsilon", "'adam' or 'adamw'", s.optimizer);
    if (s.momentum.empty()) s.momentum = {0.9};
  } else {
    if (!s.momentum.empty()) throw needs("momentum", "'sgd'", s.optimizer);
    if (s.beta1.empty()) s.beta1 = {0.9};
    if (s.beta2.empty()) s.beta2 = {0.999};
    if (s.epsilon == 0.0) s.epsilon = 1e-8;
  }
  if (s.weight_decay.empty()) s.weight_decay = {s.optimizer == OptimizerKind::AdamW ? 0.01 : 0.0};
  return s;
}

}  // namespace evoae
