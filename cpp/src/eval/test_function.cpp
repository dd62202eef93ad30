// The test functions; see test_function.h.
#include "evoae/eval/test_function.h"

#include <cmath>
#include <stdexcept>

namespace evoae {
namespace {

const char* const kNames[] = {"sphere", "ellipsoid", "rosenbrock", "rastrigin"};

ObjectiveData one_empty_sample(const Network& net) {
  ObjectiveData d;
  d.inputs.assign(net.input_shape().size(), 0.0f);
  d.num_samples = 1;
  return d;
}

}  // namespace

const char* name(TestFunction f) { return kNames[static_cast<int>(f)]; }

TestFunction parse_test_function(const std::string& text) {
  for (int k = 0; k < 4; ++k)
    if (text == kNames[k]) return static_cast<TestFunction>(k);
  throw std::invalid_argument("unknown test function '" + text +
                              "': choose sphere, ellipsoid, rosenbrock, rastrigin");
}

double test_function(TestFunction f, const float* x, std::size_t n) {
  double sum = 0.0;
  switch (f) {
    case TestFunction::Sphere:
      for (std::size_t i = 0; i < n; ++i) sum += double(x[i]) * x[i];
      break;
    case TestFunction::Ellipsoid:
      for (std::size_t i = 0; i < n; ++i)
        sum += std::pow(1e6, n > 1 ? double(i) / double(n - 1) : 0.0) * double(x[i]) * x[i];
      break;
    case TestFunction::Rosenbrock:
      for (std::size_t i = 0; i + 1 < n; ++i) {
        const double a = double(x[i + 1]) - double(x[i]) * x[i], b = 1.0 - x[i];
        sum += 100.0 * a * a + b * b;
      }
      break;
    case TestFunction::Rastrigin:
      for (std::size_t i = 0; i < n; ++i)
        sum += 10.0 + double(x[i]) * x[i] - 10.0 * std::cos(6.283185307179586 * x[i]);
      break;
  }
  return sum;
}

Network test_function_network(std::size_t n) {
  if (n < 2)
    throw std::invalid_argument("a test function needs at least 2 parameters, got " +
                                std::to_string(n));
  Network net(1, static_cast<int>(n - 1));
  net.dense(1);
  return net;
}

TestFunctionObjective::TestFunctionObjective(const Network& net, TestFunction f)
    : Objective(net, one_empty_sample(net), 0, 0), f_(f) {}

void TestFunctionObjective::fitness(PopulationEvaluator& evaluator, const float* genomes,
                                    std::size_t count, double* out) {
  const std::size_t n = net_.num_params();
  const long P = static_cast<long>(count);
#pragma omp parallel for num_threads(evaluator.threads()) schedule(static) if (P * n >= 4096)
  for (long a = 0; a < P; ++a) out[a] = test_function(f_, genomes + a * n, n);
}

Measure TestFunctionObjective::measure_all(PopulationEvaluator&, const float* genome) {
  const double f = test_function(f_, genome, net_.num_params());
  return {f, f};
}

}  // namespace evoae
