// The original evolution loop; see evolution.h for the exact rules.
#include "evoae/evolution.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>

#include "evoae/rng.h"

namespace evoae {

Evolution::Evolution(const Network& net, std::vector<float> images, std::size_t num_images,
                     EvolutionSettings settings)
    : net_(net),
      settings_(settings),
      images_(std::move(images)),
      num_images_(num_images),
      evaluator_(net_, settings.threads) {
  if (settings.population < 1)
    throw std::invalid_argument("population must be >= 1, got " +
                                std::to_string(settings.population));
  if (settings.mutations < 0)
    throw std::invalid_argument("mutations must be >= 0, got " +
                                std::to_string(settings.mutations));
  if (settings.mutations > 0 && net_.num_params() == 0)
    throw std::invalid_argument("the network has no parameters to mutate");
  if (num_images < 1) throw std::invalid_argument("at least one image is needed");
  if (!(net_.input_shape() == net_.output_shape()))
    throw std::invalid_argument("an autoencoder must map its input to the same shape: input " +
                                net_.input_shape().str() + ", output " +
                                net_.output_shape().str());
  if (images_.size() != num_images * net_.input_shape().size())
    throw std::invalid_argument("images hold " + std::to_string(images_.size()) +
                                " values, expected " + std::to_string(num_images) + " x " +
                                std::to_string(net_.input_shape().size()));

  const std::size_t P = settings.population, G = net_.num_params();
  genomes_.resize(P * G);
  for (std::size_t a = 0; a < P; ++a) {
    Rng rng(settings.seed, RngPurpose::Init, 0, a);
    for (std::size_t i = 0; i < G; ++i) mutable_genome(a)[i] = rng.uniform_pm1();
  }
  errors_.resize(P);
  evaluator_.errors(genomes_.data(), P, images_.data(), images_.data(), num_images_,
                    errors_.data());
  evaluations_ += P * num_images_;
  select_best();
  history_.push_back(best_error());
}

void Evolution::select_best() {
  // std::min_element returns the first of equal minima: ties go to the lowest index.
  best_ = std::min_element(errors_.begin(), errors_.end()) - errors_.begin();
}

void Evolution::step() {
  const std::size_t P = settings_.population, G = net_.num_params();
  ++generation_;
  const double elite_error = best_error();
  if (best_ != 0) std::copy(genome(best_), genome(best_) + G, mutable_genome(0));
  for (std::size_t a = 1; a < P; ++a) std::copy(genome(0), genome(0) + G, mutable_genome(a));

  Rng index_rng(settings_.seed, RngPurpose::MutationIndices, generation_, 0);
  mutation_indices_.resize(settings_.mutations);
  for (std::size_t& i : mutation_indices_) i = index_rng.index(G);
  for (std::size_t a = 1; a < P; ++a) {
    Rng value_rng(settings_.seed, RngPurpose::MutationValues, generation_, a);
    float* g = mutable_genome(a);
    for (std::size_t i : mutation_indices_) g[i] += value_rng.uniform_pm1();
  }

  errors_[0] = elite_error;  // agent 0 is the unchanged best
  if (P > 1) {
    evaluator_.errors(genome(1), P - 1, images_.data(), images_.data(), num_images_,
                      errors_.data() + 1);
    evaluations_ += (P - 1) * num_images_;
  }
  select_best();
  history_.push_back(best_error());
}

long Evolution::advance(long max_generations, double max_seconds, double target_error) {
  const auto start = std::chrono::steady_clock::now();
  long done = 0;
  while (done < max_generations && best_error() > target_error) {
    step();
    ++done;
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    if (elapsed.count() >= max_seconds) break;
  }
  return done;
}

}  // namespace evoae
