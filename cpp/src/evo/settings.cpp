// The settings table: one entry per setting with its spec (what Python and the CLI see) and
// how it is read from and written to EvolutionSettings.
#include "evoae/evo/settings.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace evoae {
namespace {

using Access = SettingAccess<EvolutionSettings, SettingValue>;

struct Entry {
  SettingSpec spec;
  Access access;
};

template <class T>
Access number(T EvolutionSettings::*member, bool has_unset = false, T unset = T()) {
  return number_access<SettingValue>(member, has_unset, unset);
}

template <class E>
Access choice(E EvolutionSettings::*member, E (*parse)(const std::string&)) {
  return choice_access<SettingValue>(member, parse, [](E e) { return name(e); });
}

ObjectiveKind parse_objective(const std::string& text) {
  if (text == "reconstruction") return ObjectiveKind::Reconstruction;
  if (text == "classification") return ObjectiveKind::Classification;
  throw std::invalid_argument("unknown objective '" + text +
                              "': choose reconstruction, classification");
}

// loss_from_name's, with the table's wording of a refusal.
Loss parse_loss(const std::string& text) {
  std::string valid;
  for (const std::string& n : loss_names()) {
    if (n == text) return loss_from_name(n);
    valid += (valid.empty() ? "" : ", ") + n;
  }
  throw std::invalid_argument("unknown gradient_loss '" + text + "': choose " + valid);
}

// Short names for the table's rows.
constexpr long long kIntMax = kSettingIntMax;
constexpr long long kCountMax = kSettingCountMax;
constexpr long long kSeedMax = kSettingSeedMax;
constexpr auto integer = &integer_setting;
constexpr auto positive_real = &positive_real_setting;
constexpr auto names = &choice_setting;

const std::vector<Entry>& entries() {
  using S = EvolutionSettings;
  static const std::vector<Entry> table = [] {
    std::vector<Entry> t;
    t.push_back({integer("population", "strategy", 1, kCountMax, std::monostate{}, "",
                         "number of agents (genomes) per generation, lambda of an evolution "
                         "strategy (default: ga 20, as the original loop; cma-es, "
                         "sep-cma-es, snes, xnes, lm-ma-es 4+floor(3 ln n) for n parameters, "
                         "25 for the paper's network; openai-es 10000, Salimans et al. "
                         "2017; pgpe 200, Toklu et al. 2020); with restarts, the first run's"),
                 number(&S::population, true, -1)});
    t.push_back({integer("mutations", "strategy", 0, kCountMax, 10LL, "",
                         "k: parameter positions mutated per child (with mutation original, "
                         "drawn once per generation and shared by all children)"),
                 number(&S::mutations)});
    t.push_back({integer("seed", "strategy", 0, kSeedMax, 0LL, "",
                         "random seed; the same seed gives the same run on any thread count"),
                 number(&S::seed)});
    t.push_back({threads_setting(), number(&S::threads, true, 0)});
    t.push_back({names("mutation", "strategy", mutation_names(),
                       "how a child is changed: original = MUTATIONS indices drawn once per "
                       "generation, shared by all children, each adds sigma*U(-1,1) (Varadi "
                       "2021; sigma 1); per-agent = the same with each child's own indices; "
                       "gaussian = sigma*N(0,1) added at MUTATIONS own indices (Such et al. "
                       "2017, Deep Neuroevolution); gaussian-all = sigma*N(0,1) on every weight "
                       "(Such et al. 2017 as published); reset = MUTATIONS weights get a new "
                       "U(-1,1) value (random resetting); zero = MUTATIONS weights set to 0 "
                       "(David & Greental 2014)"),
                 choice(&S::mutation, parse_mutation)});
    t.push_back({positive_real("sigma", "strategy",
                               "step size: scales U(-1,1) or N(0,1); the start value under "
                               "step_control (default: original 1, per-agent 1, gaussian 0.5, "
                               "gaussian-all 0.01; reset and zero have none)"),
                 number(&S::sigma, true, 0.0)});
    t.push_back({names("step_control", "strategy", step_control_names(),
                       "step-size control: fixed; schedule = sigma goes geometrically to "
                       "sigma_end and MUTATIONS linearly to mutations_end over "
                       "schedule_generations; one-fifth = Rechenberg's 1/5 success rule "
                       "(sigma /= 0.85 when over 1/5 of the children beat their parent, "
                       "*= 0.85 when under); self-adaptive = each agent carries its own "
                       "sigma, a child multiplies its parent's by exp(tau*N(0,1)) "
                       "(Schwefel's log-normal self-adaptation)"),
                 choice(&S::step_control, parse_step_control)});
    t.push_back({positive_real("sigma_end", "strategy",
                               "schedule: the final sigma (default: sigma)"),
                 number(&S::sigma_end, true, 0.0)});
    t.push_back({integer("mutations_end", "strategy", 0, kCountMax, std::monostate{}, "",
                         "schedule: the final number of mutated positions (default: "
                         "mutations)"),
                 number(&S::mutations_end, true, -1)});
    t.push_back({integer("schedule_generations", "strategy", 1, kIntMax, std::monostate{}, "G",
                         "schedule: generations from the start to the end values"),
                 number(&S::schedule_generations, true, 0L)});
    t.push_back({positive_real("tau", "strategy",
                               "self-adaptive: learning rate of log sigma (default: "
                               "1/sqrt(2*parameters), 0.019 for the paper's network)"),
                 number(&S::tau, true, 0.0)});
    t.push_back({names("crossover", "strategy", crossover_names(),
                       "none; uniform = each weight from either of two parents (Syswerda "
                       "1989); layer = each layer's weights and biases from either parent "
                       "(Montana & Davis 1989's node crossover at the grain of layers). Needs "
                       "selection truncation or tournament"),
                 choice(&S::crossover, parse_crossover)});
    t.push_back({names("selection", "strategy", selection_names(),
                       "who the children come from: copy-best = all from the best agent "
                       "(Varadi 2021); truncation = each from one of the truncation best, "
                       "uniformly (Such et al. 2017); tournament = the best of "
                       "tournament_size agents drawn at random (Goldberg & Deb 1991)"),
                 choice(&S::selection, parse_selection)});
    t.push_back({integer("truncation", "strategy", 1, kCountMax, std::monostate{}, "T",
                         "truncation: the number of best agents that are parents (default: "
                         "max(2, population/5))"),
                 number(&S::truncation, true, 0)});
    t.push_back({integer("tournament_size", "strategy", 1, kCountMax, std::monostate{}, "K",
                         "tournament: agents per tournament (default: 3)"),
                 number(&S::tournament_size, true, 0)});
    t.push_back({integer("elites", "strategy", 0, kCountMax, 1LL, "E",
                         "the E best agents pass on unchanged and are not evaluated again "
                         "(unless batch changes the data); 1 as the original"),
                 number(&S::elites)});
    SettingSpec objective = names("objective", "objective", {"reconstruction", "classification"},
                                  "what is measured: reconstruction of the inputs (or of "
                                  "given targets), or classification of labelled inputs by "
                                  "softmax cross-entropy");
    objective.command_line = false;  // `evoae run` reconstructs
    t.push_back({objective, choice(&S::objective, parse_objective)});
    t.push_back({names("fitness", "objective", fitness_names(),
                       "what is minimised: sae = sum over samples and pixels of |output - "
                       "target| (Varadi 2021); mse = mean squared error; rmse = its root; "
                       "cross-entropy = mean softmax cross-entropy (classification). "
                       "Progress and target use the mean |error| per pixel (the error rate "
                       "for classification)"),
                 choice(&S::fitness, parse_fitness)});
    t.push_back({integer("batch", "objective", 1, kIntMax, std::monostate{}, "B",
                         "mini-batch fitness: each generation measures on a new seeded random "
                         "subset of B of the samples; the best is measured on all at the end "
                         "(default: all samples)"),
                 number(&S::batch, true, 0)});
    t.push_back({names("strategy", "strategy", strategy_names(),
                       "the optimiser: ga = the genetic algorithm, whose operators are the "
                       "settings above (the original loop by default); cma-es = CMA-ES with "
                       "full covariance (Hansen 2016's tutorial: rank-one and rank-mu "
                       "updates, cumulative step-size adaptation); sep-cma-es = its "
                       "diagonal-covariance variant for many parameters (Ros & Hansen 2008); "
                       "snes = separable natural evolution strategy (Schaul et al. 2011); "
                       "openai-es = antithetic Gaussian noise, centred ranks, Adam and weight "
                       "decay (Salimans et al. 2017); lm-ma-es = limited-memory matrix "
                       "adaptation, O(n log n) per sample (Loshchilov, Glasmachers & Beyer "
                       "2019); xnes = exponential natural evolution strategy, full "
                       "covariance, O(n^3) per generation (Glasmachers et al. 2010); pgpe = "
                       "parameter-exploring policy gradients with symmetric pairs (Sehnke et "
                       "al. 2010) and the ClipUp optimiser (Toklu et al. 2020). The "
                       "evolution strategies sample every "
                       "agent anew each generation around a mean that starts U(-1,1); sigma "
                       "is their initial step size (default: cma-es, sep-cma-es, snes, "
                       "lm-ma-es, xnes, pgpe 0.1; "
                       "openai-es 0.02, fixed); population is lambda, by default the "
                       "published one of each"),
                 choice(&S::strategy, parse_strategy)});
    t.push_back({positive_real("learning_rate", "strategy",
                               "openai-es: Adam's step size on the mean (default: 0.01, "
                               "Salimans et al. 2017); pgpe: ClipUp's step size alpha, the "
                               "L2 norm of a step of the whole genome, max speed 2 alpha "
                               "(default: 0.15)"),
                 number(&S::learning_rate, true, 0.0)});
    SettingSpec decay = positive_real("weight_decay", "strategy",
                                      "openai-es: L2 coefficient added to the gradient "
                                      "estimate (default: 0.005, Salimans et al. 2017)");
    decay.min_exclusive = false;  // 0: none
    t.push_back({decay, number(&S::weight_decay, true, -1.0)});
    t.push_back({integer("restarts", "strategy", 0, 30, 0LL, "R",
                         "cma-es, sep-cma-es: IPOP (Auger & Hansen 2005): up to R restarts, "
                         "each when the run stalls by Hansen's termination criteria (TolFun "
                         "1e-12, TolX 1e-12 sigma, NoEffectAxis, NoEffectCoord, ConditionCov "
                         "1e14, Stagnation), from a new U(-1,1) mean with the initial sigma "
                         "and restart_growth times the population; 0: none"),
                 number(&S::restarts)});
    SettingSpec growth = positive_real("restart_growth", "strategy",
                                       "restarts: the factor by which each restart multiplies "
                                       "the population, rounded (default: 2, Auger & Hansen "
                                       "2005; 1: restarts with the same population)");
    growth.min = 1.0;
    growth.min_exclusive = false;
    t.push_back({growth, number(&S::restart_growth, true, 0.0)});
    t.push_back({integer("gradient_steps", "engine", 0, kCountMax, 0LL, "K",
                         "memetic evolution: every agent that is measured first takes K "
                         "gradient steps on the generation's samples (all, or the batch), "
                         "from a fresh optimiser state (Moscato 1989's memetic "
                         "algorithms; Hinton & Nowlan 1987); 0: none, plain evolution. "
                         "Needs a network objective"),
                 number(&S::gradient_steps)});
    t.push_back({names("memetic", "engine", {"lamarckian", "baldwinian"},
                       "what learning changes: lamarckian = the trained weights replace the "
                       "genome, and the strategy breeds from them (needs strategy ga); "
                       "baldwinian = the genome stays as the strategy made it, only its "
                       "fitness is the trained weights' (Whitley, Gordon & Mathias 1994, "
                       "Lamarckian evolution, the Baldwin effect and function optimization)"),
                 choice(&S::memetic, parse_memetic)});
    t.push_back({positive_real("gradient_rate", "engine",
                               "memetic: the learning rate of the gradient steps (default: "
                               "adam and adamw 0.01, training's; sgd 1, the best of 0.1-3 "
                               "for the mean losses on the ten digits)"),
                 number(&S::gradient_rate, true, 0.0)});
    t.push_back({names("gradient_optimizer", "engine", optimizer_names(),
                       "memetic: the optimiser of the gradient steps, as training's "
                       "(train/optimizer.h): adam (Kingma & Ba 2015), adamw (Loshchilov & "
                       "Hutter 2019, weight decay 0.01), sgd (momentum 0.9)"),
                 choice(&S::gradient_optimizer, optimizer_from_name)});
    SettingSpec loss = names("gradient_loss", "engine", loss_names(),
                             "memetic: what the gradient steps minimise, mean over the "
                             "samples (nn/loss.h): mae, sae, mse, bce, softmax-ce (default: "
                             "the fitness's: sae mae, mse and rmse mse, cross-entropy "
                             "softmax-ce)");
    loss.default_value = std::monostate{};
    t.push_back({loss, optional_choice_access<SettingValue>(&S::gradient_loss, parse_loss,
                                                            loss_name)});
    return t;
  }();
  return table;
}

}  // namespace

const char* name(ObjectiveKind k) {
  return k == ObjectiveKind::Reconstruction ? "reconstruction" : "classification";
}

const char* name(Memetic m) { return m == Memetic::Lamarckian ? "lamarckian" : "baldwinian"; }

Memetic parse_memetic(const std::string& text) {
  if (text == "lamarckian") return Memetic::Lamarckian;
  if (text == "baldwinian") return Memetic::Baldwinian;
  throw std::invalid_argument("unknown memetic '" + text + "': choose lamarckian, baldwinian");
}

int default_population(StrategyKind strategy, std::size_t num_params) {
  switch (strategy) {
    case StrategyKind::Ga: return 20;
    case StrategyKind::OpenAiEs: return 10000;
    case StrategyKind::Pgpe: return 200;
    default:  // at least 4, for a network without parameters too
      return 4 + static_cast<int>(std::floor(
                     3.0 * std::log(static_cast<double>(std::max<std::size_t>(1, num_params)))));
  }
}

double default_sigma(Mutation m) {
  switch (m) {
    case Mutation::Gaussian: return 0.5;
    case Mutation::GaussianAll: return 0.01;
    default: return 1.0;
  }
}

const std::vector<SettingSpec>& setting_specs() {
  static const std::vector<SettingSpec> specs = [] {
    std::vector<SettingSpec> v;
    for (const Entry& e : entries()) v.push_back(e.spec);
    return v;
  }();
  return specs;
}

EvolutionSettings settings_from(const std::map<std::string, SettingValue>& given) {
  EvolutionSettings s;
  for (const auto& [key, value] : given) {
    const SettingSpec& spec = find_setting(setting_specs(), key);  // refuses unknown names
    const Entry& entry = entries()[&spec - setting_specs().data()];  // in the same order
    if (std::holds_alternative<std::monostate>(value)) continue;  // None: not given
    check_setting_value(entry.spec, value);
    entry.access.set(s, value);
  }
  return s;
}

std::map<std::string, SettingValue> settings_values(const EvolutionSettings& s) {
  return setting_values_of<SettingValue>(entries(), s);
}

void check_setting_ranges(const EvolutionSettings& s) {
  for (const Entry& e : entries()) {
    const SettingValue v = e.access.get(s);
    if (!std::holds_alternative<std::monostate>(v)) check_setting_value(e.spec, v);
  }
}

}  // namespace evoae
