// Test functions of optimisation on a genome of n parameters, for checking strategies against
// their published behaviour (Hansen's and the NES papers' benchmarks): no network is run.
//   sphere       sum x_i^2
//   ellipsoid    sum 10^(6 i / (n - 1)) x_i^2 (condition number 10^6)
//   rosenbrock   sum_{i < n-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 (minimum 0 at x = 1)
//   rastrigin    10 n + sum x_i^2 - 10 cos(2 pi x_i) (many local minima, global 0 at x = 0)
// The engine needs a network for the genome's layout: test_function_network(n) has exactly
// n parameters (one dense unit on n - 1 inputs), which the objective never runs.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "evoae/eval/objective.h"

namespace evoae {

enum class TestFunction { Sphere, Ellipsoid, Rosenbrock, Rastrigin };
const char* name(TestFunction f);
TestFunction parse_test_function(const std::string& text);  // throws, naming the valid ones

double test_function(TestFunction f, const float* x, std::size_t n);

// A network of exactly n >= 2 parameters (std::invalid_argument otherwise).
Network test_function_network(std::size_t n);

class TestFunctionObjective : public Objective {
 public:
  TestFunctionObjective(const Network& net, TestFunction f);

  const char* metric_name() const override { return "f"; }
  void fitness(PopulationEvaluator& evaluator, const float* genomes, std::size_t count,
               double* out) override;
  double metric(PopulationEvaluator&, const float*, double fitness) override { return fitness; }
  Measure measure_all(PopulationEvaluator& evaluator, const float* genome) override;

 private:
  TestFunction f_;
};

}  // namespace evoae
