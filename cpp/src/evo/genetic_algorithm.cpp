// The genetic algorithm's ask and tell; see genetic_algorithm.h for the rules and
// operators.cpp for the operators.
#include "evoae/evo/genetic_algorithm.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "evoae/core/rng.h"

namespace evoae {

GeneticAlgorithm::GeneticAlgorithm(const Network& net, const EvolutionSettings& settings,
                                   int threads)
    : net_(net), settings_(settings), threads_(threads) {
  const std::size_t P = population(), G = num_params();
  genomes_.resize(P * G);
  for (std::size_t a = 0; a < P; ++a) {
    Rng rng(settings_.seed, RngPurpose::Init, 0, a);
    float* genome = genomes_.data() + a * G;
    for (std::size_t i = 0; i < G; ++i) genome[i] = rng.uniform_pm1();
  }
  sigma_ = settings_.sigma > 0.0 ? settings_.sigma : 1.0;  // Reset and Zero have none
  sigmas_.assign(P, sigma_);
  fitness_.assign(P, 0.0);
}

GeneticAlgorithm::GeneticAlgorithm(const Network& net, const EvolutionSettings& settings,
                                   int threads, StrategyState state)
    : net_(net), settings_(settings), threads_(threads), generation_(state.generation),
      genomes_(std::move(state.genomes)), fitness_(std::move(state.fitness)),
      sigmas_(std::move(state.sigmas)), sigma_(state.sigma) {
  if (!state.own.empty())
    throw std::invalid_argument("the genetic algorithm's state has no strategy values, got " +
                                std::to_string(state.own.size()));
  best_ = std::min_element(fitness_.begin(), fitness_.end()) - fitness_.begin();
}

StrategyState GeneticAlgorithm::state() const {
  return {generation_, genomes_, fitness_, sigmas_, sigma_, {}};
}

std::size_t GeneticAlgorithm::mutation_count() const {
  if (settings_.step_control == StepControl::Schedule)
    return scheduled_count(settings_.mutations, settings_.mutations_end,
                           settings_.schedule_generations, generation_);
  return settings_.mutations;
}

double GeneticAlgorithm::shared_sigma() const {
  switch (settings_.step_control) {
    case StepControl::Schedule:
      return scheduled_sigma(settings_.sigma, settings_.sigma_end,
                             settings_.schedule_generations, generation_);
    case StepControl::OneFifth:
      return sigma_;
    default:
      return settings_.sigma;
  }
}

std::size_t GeneticAlgorithm::ask() {
  const EvolutionSettings& s = settings_;
  const std::size_t P = population(), G = num_params();
  const std::size_t E = std::min<std::size_t>(s.elites, P);
  ++generation_;
  const std::vector<std::size_t> ranking = rank_agents(fitness_);
  const std::size_t k = mutation_count();
  const double sigma = shared_sigma();
  if (s.mutation == Mutation::Original) {  // drawn once, shared by all children
    Rng index_rng(s.seed, RngPurpose::MutationIndices, generation_, 0);
    mutation_indices_.resize(k);
    for (std::size_t& i : mutation_indices_) i = index_rng.index(G);
  }

  next_genomes_.resize(P * G);
  next_sigmas_.resize(P);
  parent_fitness_.resize(P);
  std::vector<double> elite_fitness(E);
  for (std::size_t e = 0; e < E; ++e) {  // elites, in rank order
    const std::size_t from = ranking[e];
    std::copy(genome(from), genome(from) + G, &next_genomes_[e * G]);
    elite_fitness[e] = fitness_[from];
    next_sigmas_[e] = sigmas_[from];
  }
  // Children. Each draws only from its own streams, so the loop may run in any order; it is
  // parallel only where a child costs more than a copy and a few draws.
  const bool heavy = s.mutation == Mutation::GaussianAll || s.crossover != Crossover::None;
  const long first = static_cast<long>(E), end = static_cast<long>(P);
#pragma omp parallel for num_threads(threads_) schedule(static) if (heavy && end - first > 1)
  for (long a = first; a < end; ++a) {
    float* child = &next_genomes_[a * G];
    Rng select_rng(s.seed, RngPurpose::Selection, generation_, a);
    const std::size_t p1 = select_parent(s.selection, ranking, fitness_, s.truncation,
                                         s.tournament_size, select_rng);
    if (s.crossover == Crossover::None) {
      std::copy(genome(p1), genome(p1) + G, child);
    } else {
      const std::size_t p2 = select_parent(s.selection, ranking, fitness_, s.truncation,
                                           s.tournament_size, select_rng);
      Rng cross_rng(s.seed, RngPurpose::Crossover, generation_, a);
      if (s.crossover == Crossover::Uniform)
        crossover_uniform(genome(p1), genome(p2), child, G, cross_rng);
      else
        crossover_layers(net_, genome(p1), genome(p2), child, cross_rng);
    }
    parent_fitness_[a] = fitness_[p1];
    double child_sigma = sigma;
    if (s.step_control == StepControl::SelfAdaptive) {
      Rng step_rng(s.seed, RngPurpose::StepSize, generation_, a);
      child_sigma = self_adapt(sigmas_[p1], s.tau, step_rng);
    }
    next_sigmas_[a] = child_sigma;
    Rng value_rng(s.seed, RngPurpose::MutationValues, generation_, a);
    mutate(s.mutation, child, G, k, mutation_indices_.data(), static_cast<float>(child_sigma),
           value_rng);
  }
  genomes_.swap(next_genomes_);
  sigmas_.swap(next_sigmas_);
  std::copy(elite_fitness.begin(), elite_fitness.end(), fitness_.begin());
  elites_kept_ = E;
  return E;
}

// The 1/5 rule still compares each child's fitness with its parent's: a child that learned
// counts as a success when its trained genome beats the parent.
void GeneticAlgorithm::replace_genomes(const float* genomes, std::size_t first) {
  const std::size_t G = num_params();
  std::copy(genomes, genomes + (population() - first) * G, genomes_.begin() + first * G);
}

void GeneticAlgorithm::tell(const double* fitness, std::size_t first) {
  const std::size_t P = population();
  std::copy(fitness, fitness + (P - first), fitness_.begin() + first);
  if (generation_ > 0 && settings_.step_control == StepControl::OneFifth) {
    std::size_t successes = 0;
    for (std::size_t a = elites_kept_; a < P; ++a) successes += fitness_[a] < parent_fitness_[a];
    sigma_ = one_fifth_rule(sigma_, successes, P - elites_kept_);
  }
  // std::min_element returns the first of equal minima: ties go to the lowest index.
  best_ = std::min_element(fitness_.begin(), fitness_.end()) - fitness_.begin();
}

}  // namespace evoae
