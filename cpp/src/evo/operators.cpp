// The evolution operators; see operators.h for what each does and where it comes from.
#include "evoae/evo/operators.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace evoae {
namespace {

template <class Enum, std::size_t N>
struct Names {
  const char* names[N];
  const char* get(Enum e) const { return names[static_cast<std::size_t>(e)]; }
  Enum parse(const std::string& text, const char* what) const {
    for (std::size_t i = 0; i < N; ++i)
      if (text == names[i]) return static_cast<Enum>(i);
    std::string valid;
    for (std::size_t i = 0; i < N; ++i) valid += (i ? ", " : "") + std::string(names[i]);
    throw std::invalid_argument("unknown " + std::string(what) + " '" + text + "': choose " +
                                valid);
  }
  std::vector<std::string> all() const { return std::vector<std::string>(names, names + N); }
};

// In the order of the enums.
const Names<Mutation, 6> kMutation{
    {"original", "per-agent", "gaussian", "gaussian-all", "reset", "zero"}};
const Names<StepControl, 4> kStep{{"fixed", "schedule", "one-fifth", "self-adaptive"}};
const Names<Crossover, 3> kCrossover{{"none", "uniform", "layer"}};
const Names<Selection, 3> kSelection{{"copy-best", "truncation", "tournament"}};
const Names<Fitness, 4> kFitness{{"sae", "mse", "rmse", "cross-entropy"}};

double clamp_sigma(double sigma) { return std::min(std::max(sigma, kMinSigma), kMaxSigma); }

}  // namespace

const char* name(Mutation m) { return kMutation.get(m); }
const char* name(StepControl s) { return kStep.get(s); }
const char* name(Crossover c) { return kCrossover.get(c); }
const char* name(Selection s) { return kSelection.get(s); }
const char* name(Fitness f) { return kFitness.get(f); }
Mutation parse_mutation(const std::string& t) { return kMutation.parse(t, "mutation"); }
StepControl parse_step_control(const std::string& t) { return kStep.parse(t, "step control"); }
Crossover parse_crossover(const std::string& t) { return kCrossover.parse(t, "crossover"); }
Selection parse_selection(const std::string& t) { return kSelection.parse(t, "selection"); }
Fitness parse_fitness(const std::string& t) { return kFitness.parse(t, "fitness"); }
std::vector<std::string> mutation_names() { return kMutation.all(); }
std::vector<std::string> step_control_names() { return kStep.all(); }
std::vector<std::string> crossover_names() { return kCrossover.all(); }
std::vector<std::string> selection_names() { return kSelection.all(); }
std::vector<std::string> fitness_names() { return kFitness.all(); }

bool has_step_size(Mutation kind) { return kind != Mutation::Reset && kind != Mutation::Zero; }

void mutate(Mutation kind, float* genome, std::size_t G, std::size_t k,
            const std::size_t* shared, float sigma, Rng& rng) {
  if (G == 0) return;
  switch (kind) {
    case Mutation::Original:
      for (std::size_t j = 0; j < k; ++j) genome[shared[j]] += sigma * rng.uniform_pm1();
      break;
    case Mutation::PerAgent:
      for (std::size_t j = 0; j < k; ++j) {
        const std::size_t i = rng.index(G);
        genome[i] += sigma * rng.uniform_pm1();
      }
      break;
    case Mutation::Gaussian:
      for (std::size_t j = 0; j < k; ++j) {
        const std::size_t i = rng.index(G);
        genome[i] += sigma * rng.normal();
      }
      break;
    case Mutation::GaussianAll: {
      std::size_t i = 0;
      for (; i + 1 < G; i += 2) {
        float z0, z1;
        rng.normal_pair(z0, z1);
        genome[i] += sigma * z0;
        genome[i + 1] += sigma * z1;
      }
      if (i < G) genome[i] += sigma * rng.normal();
      break;
    }
    case Mutation::Reset:
      for (std::size_t j = 0; j < k; ++j) {
        const std::size_t i = rng.index(G);
        genome[i] = rng.uniform_pm1();
      }
      break;
    case Mutation::Zero:
      for (std::size_t j = 0; j < k; ++j) genome[rng.index(G)] = 0.0f;
      break;
  }
}

double scheduled_sigma(double start, double end, long generations, long generation) {
  if (generations <= 0 || generation >= generations) return end;
  const double t = static_cast<double>(std::max(generation, 0L)) / generations;
  return start * std::pow(end / start, t);
}

std::size_t scheduled_count(std::size_t start, std::size_t end, long generations,
                            long generation) {
  if (generations <= 0 || generation >= generations) return end;
  const double t = static_cast<double>(std::max(generation, 0L)) / generations;
  const double v = static_cast<double>(start) + (static_cast<double>(end) - start) * t;
  return static_cast<std::size_t>(std::llround(v));
}

double one_fifth_rule(double sigma, std::size_t successes, std::size_t children) {
  if (children == 0) return sigma;
  // Compare successes / children with 1/5 in integers: no rounding at exactly 1/5.
  if (5 * successes > children) sigma /= kOneFifthFactor;
  else if (5 * successes < children) sigma *= kOneFifthFactor;
  return clamp_sigma(sigma);
}

double self_adapt(double sigma, double tau, Rng& rng) {
  return clamp_sigma(sigma * std::exp(tau * static_cast<double>(rng.normal())));
}

double default_tau(std::size_t n) { return 1.0 / std::sqrt(2.0 * std::max<std::size_t>(n, 1)); }

void crossover_uniform(const float* a, const float* b, float* child, std::size_t G, Rng& rng) {
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < G; ++i) {
    if (i % 64 == 0) bits = rng.next();
    child[i] = (bits >> (i % 64)) & 1 ? b[i] : a[i];
  }
}

void crossover_layers(const Network& net, const float* a, const float* b, float* child,
                      Rng& rng) {
  for (const Layer& layer : net.layers()) {
    if (layer.num_params() == 0) continue;
    const float* from = (rng.next() >> 63) ? b : a;
    std::copy(from + layer.offset, from + layer.offset + layer.num_params(),
              child + layer.offset);
  }
}

std::vector<std::size_t> rank_agents(const std::vector<double>& errors) {
  std::vector<std::size_t> ranking(errors.size());
  std::iota(ranking.begin(), ranking.end(), std::size_t{0});
  std::stable_sort(ranking.begin(), ranking.end(),
                   [&](std::size_t x, std::size_t y) { return errors[x] < errors[y]; });
  return ranking;
}

std::size_t select_parent(Selection kind, const std::vector<std::size_t>& ranking,
                          const std::vector<double>& errors, std::size_t truncation,
                          std::size_t tournament_size, Rng& rng) {
  switch (kind) {
    case Selection::CopyBest:
      break;
    case Selection::Truncation:
      return ranking[rng.index(std::min(truncation, ranking.size()))];
    case Selection::Tournament: {
      std::size_t winner = rng.index(errors.size());
      for (std::size_t t = 1; t < tournament_size; ++t) {
        const std::size_t c = rng.index(errors.size());
        if (errors[c] < errors[winner] || (errors[c] == errors[winner] && c < winner))
          winner = c;
      }
      return winner;
    }
  }
  return ranking[0];
}

std::vector<std::size_t> sample_batch(std::size_t S, std::size_t B, Rng& rng) {
  std::vector<std::size_t> all(S);
  std::iota(all.begin(), all.end(), std::size_t{0});
  B = std::min(B, S);
  for (std::size_t i = 0; i < B; ++i) std::swap(all[i], all[i + rng.index(S - i)]);
  all.resize(B);
  std::sort(all.begin(), all.end());
  return all;
}

double fitness_from_sum(Fitness f, double sum, std::size_t values) {
  switch (f) {
    case Fitness::AbsoluteSum:
      return sum;
    case Fitness::CrossEntropy:
    case Fitness::MeanSquared:
      return sum / static_cast<double>(values);
    case Fitness::RootMeanSquared:
      return std::sqrt(sum / static_cast<double>(values));
  }
  return sum;
}

}  // namespace evoae
