// The optimiser contract (evosax's and pycma's): a strategy holds an explicit population and
// never evaluates it. ask() makes the next generation's genomes, tell() takes their fitness
// (lower is better). The engine (evolution.h) measures the genomes with an objective in
// between, so any strategy runs with any objective, and randomness stays keyed by (seed,
// purpose, generation, agent) inside each strategy.
//
//   ga           the genetic algorithm (genetic_algorithm.h): the original loop by default
//   cma-es       Hansen's CMA-ES, full covariance (cma_es.h)
//   sep-cma-es   Ros & Hansen 2008: CMA-ES with a diagonal covariance (cma_es.h)
//   snes         Schaul et al. 2011: separable natural evolution strategy (snes.h)
//   openai-es    Salimans et al. 2017: antithetic sampling, centred ranks, Adam (openai_es.h)
//   lm-ma-es     Loshchilov et al. 2019: limited-memory matrix adaptation (lm_ma_es.h)
//   xnes         Glasmachers et al. 2010: exponential natural evolution strategy (xnes.h)
//   pgpe         Sehnke et al. 2010 with Toklu et al. 2020's ClipUp (pgpe.h)
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace evoae {

struct EvolutionSettings;
class Network;

enum class StrategyKind { Ga, CmaEs, SepCmaEs, Snes, OpenAiEs, LmMaEs, Xnes, Pgpe };
const char* name(StrategyKind k);
StrategyKind parse_strategy(const std::string& text);  // throws, naming the valid ones
std::vector<std::string> strategy_names();              // the default ("ga") first

// What a strategy continues from after a generation was told: with the same settings it
// goes on bit for bit.
struct StrategyState {
  long generation = 0;
  std::vector<float> genomes;   // (population, num_params)
  std::vector<double> fitness;  // (population)
  std::vector<double> sigmas;   // (population): the step size each agent was made with
  double sigma = 1.0;           // the shared step size (the GA's 1/5 rule; an ES's sigma)
  std::vector<double> own;      // the strategy's own state (mean, paths, covariance, ...)
};

class Strategy {
 public:
  virtual ~Strategy() = default;

  // The agents of the current generation: settings.population, except that IPOP restarts
  // (search_distribution.h) grow it at each new run.
  virtual std::size_t population() const = 0;
  virtual std::size_t num_params() const = 0;
  virtual long generation() const = 0;

  // Makes generation() + 1's genomes. Returns the first agent whose fitness is unknown: the
  // agents before it passed on unchanged (elites) and keep theirs, unless the objective's
  // data changed (then the engine measures and tells all of them).
  virtual std::size_t ask() = 0;
  // Fitness of agents [first, population()) on this generation's data, fitness[0] for first.
  // The first tell, before any ask, gives the initial population's (first = 0).
  virtual void tell(const double* fitness, std::size_t first) = 0;
  // Lamarckian learning (evo/memetic.h): between ask() and tell(), agents [first,
  // population()) become `genomes` ((population() - first, num_params)), and the next ask()
  // breeds from them. Only the GA takes changed genomes; a distribution strategy updates
  // from the samples it drew, and throws std::logic_error (the settings refuse the pair).
  virtual void replace_genomes(const float* genomes, std::size_t first);

  virtual const float* genomes() const = 0;  // (population, num_params)
  virtual const std::vector<double>& fitness() const = 0;  // (population)
  virtual std::size_t best() const = 0;  // lowest fitness, ties to the lowest index
  virtual const std::vector<double>& sigmas() const = 0;  // (population)
  virtual double sigma() const = 0;
  virtual StrategyState state() const = 0;
  // An evolution strategy's distribution mean (num_params); empty for the GA.
  virtual const std::vector<double>& mean() const = 0;

  const float* genome(std::size_t agent) const { return genomes() + agent * num_params(); }
};

// The strategy settings.strategy names (settings checked and resolved), starting afresh or,
// given a state, continuing from it (std::invalid_argument when it does not fit). net: the
// genome's layout (the GA's layer crossover); threads: for the strategy's own parallel work.
std::unique_ptr<Strategy> make_strategy(const Network& net, const EvolutionSettings& settings,
                                        int threads, StrategyState* state = nullptr);

}  // namespace evoae
