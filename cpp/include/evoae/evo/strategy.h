// The optimiser contract (evosax's and pycma's): a strategy holds an explicit population and
// never evaluates it. ask() makes the next generation's genomes, tell() takes their fitness
// (lower is better). The engine (evolution.h) measures the genomes with an objective in
// between, so any strategy runs with any objective, and randomness stays keyed by (seed,
// purpose, generation, agent) inside each strategy.
#pragma once

#include <cstddef>
#include <vector>

namespace evoae {

class Strategy {
 public:
  virtual ~Strategy() = default;

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

  virtual const float* genomes() const = 0;  // (population, num_params)
  virtual const std::vector<double>& fitness() const = 0;  // (population)
  virtual std::size_t best() const = 0;  // lowest fitness, ties to the lowest index
};

}  // namespace evoae
