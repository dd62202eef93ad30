// Memetic evolution (evo/memetic.h): every measured agent first takes gradient steps. A
// standalone genetic algorithm driven in lockstep with the engine shows what the strategy
// made; training's Trainer (train/trainer.h), an independent user of the same gradients and
// optimisers, trains the same genomes by hand. Lamarckian learning must write its weights
// into the genomes, Baldwinian only into the fitness; both the same on any thread count and
// after a restore; impossible settings refused with messages that name them.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.h"
#include "evoae/eval/objective.h"
#include "evoae/evo/evolution.h"
#include "evoae/evo/genetic_algorithm.h"
#include "evoae/evo/memetic.h"
#include "evoae/train/trainer.h"

using evoae::Evolution;
using evoae::EvolutionSettings;
using evoae::Memetic;
using evoae::Network;
using evoae::ObjectiveData;

namespace {

constexpr std::size_t S = 3;  // images

ObjectiveData images_data(std::size_t count = S) {
  ObjectiveData d;
  d.inputs = random_images(count);
  d.num_samples = count;
  return d;
}

// The original loop with `steps` gradient steps of Adam (rate 0.01) per measured agent.
EvolutionSettings memetic(Memetic kind, int steps = 2, int population = 6, int threads = 1) {
  EvolutionSettings s = settings(population, 3, 5, threads);
  s.gradient_steps = steps;
  s.memetic = kind;
  return s;
}

std::vector<float> genomes_of(const Evolution& e) {
  const std::size_t n = e.settings().population * e.network().num_params();
  return std::vector<float>(e.genome(0), e.genome(0) + n);
}

std::vector<float> best_of(const Evolution& e) {
  return std::vector<float>(e.best_genome(), e.best_genome() + e.network().num_params());
}

// `count` genomes (count, G) trained by hand with training's Trainer in population mode (a
// lone genome gets a twin: one network would spread the images over the lanes), with the
// engine's resolved memetic settings, on all of `data`.
std::vector<float> trained_by_hand(const Network& net, const ObjectiveData& data,
                                   const float* genomes, std::size_t count,
                                   const EvolutionSettings& s) {
  const std::size_t G = net.num_params();
  std::vector<float> start(genomes, genomes + count * G);
  if (count == 1) start.insert(start.end(), genomes, genomes + G);
  evoae::TrainSettings t;
  t.networks = static_cast<int>(std::max<std::size_t>(count, 2));
  t.threads = 2;
  t.loss = *s.gradient_loss;
  t.optimizer = s.gradient_optimizer;
  t.learning_rate = {s.gradient_rate};
  evoae::Trainer trainer(net, data, t, start);
  for (int k = 0; k < s.gradient_steps; ++k) trainer.step();
  std::vector<float> trained = trainer.genomes();
  trained.resize(count * G);
  return trained;
}

// The objective's fitness of `count` genomes on all of `data` (no batch).
std::vector<double> fitness_of(const Network& net, const ObjectiveData& data,
                               const std::vector<float>& genomes, const EvolutionSettings& s) {
  EvolutionSettings all = s;
  all.batch = 0;
  const std::unique_ptr<evoae::Objective> objective = evoae::make_objective(net, data, all);
  evoae::PopulationEvaluator evaluator(net, 1);
  const std::size_t count = genomes.size() / net.num_params();
  std::vector<double> fitness(count);
  objective->select(0);
  objective->fitness(evaluator, genomes.data(), count, fitness.data());
  return fitness;
}

// Whether `make` throws std::invalid_argument with `part` in its message (printed if not).
template <class Make>
bool refused(Make make, const std::string& part) {
  try {
    make();
  } catch (const std::invalid_argument& e) {
    if (std::string(e.what()).find(part) != std::string::npos) return true;
    std::printf("  message: %s\n  expected to contain: %s\n", e.what(), part.c_str());
    return false;
  }
  std::printf("  nothing refused; expected: %s\n", part.c_str());
  return false;
}

}  // namespace

// Without gradient steps the engine is the strategy and the evaluator alone: a genetic
// algorithm told the evaluator's errors by hand makes the same genomes, generation by
// generation.
TEST(without_gradient_steps_the_engine_is_the_strategy_and_the_evaluator) {
  const ObjectiveData data = images_data();
  const Network net = small_network();
  EvolutionSettings s = settings(7, 2, 3, 2);
  s.mutation = evoae::Mutation::Gaussian;
  s.step_control = evoae::StepControl::OneFifth;
  Evolution evo(net, data, s);
  const EvolutionSettings& resolved = evo.settings();
  evoae::GeneticAlgorithm ga(net, resolved, 1);
  evoae::PopulationEvaluator evaluator(net, 1);
  const std::size_t P = 7, G = net.num_params();
  std::vector<double> errors(P);
  evaluator.errors(ga.genomes(), P, data.inputs.data(), data.inputs.data(), S, errors.data());
  ga.tell(errors.data(), 0);
  for (int gen = 0; gen < 12; ++gen) {
    const std::size_t first = ga.ask();
    evaluator.errors(ga.genomes() + first * G, P - first, data.inputs.data(),
                     data.inputs.data(), S, errors.data());
    ga.tell(errors.data(), first);
    evo.step();
    CHECK(genomes_of(evo) == std::vector<float>(ga.genomes(), ga.genomes() + P * G));
    CHECK(evo.errors() == ga.fitness());
  }
  CHECK(evo.gradient_evaluations() == 0u);
}

// Baldwinian: the strategy's genomes are exactly what a lockstep GA told the same fitness
// makes; each fitness is that of the genome trained by hand, and better than the untrained
// genome's; best_genome() is the best agent's learned weights.
TEST(baldwinian_learning_scores_the_learned_weights_and_keeps_the_genomes) {
  const ObjectiveData data = images_data();
  const Network net = small_network();
  Evolution evo(net, data, memetic(Memetic::Baldwinian, 3));
  const EvolutionSettings& s = evo.settings();
  const std::size_t P = 6, G = net.num_params();
  evoae::GeneticAlgorithm ga(net, s, 1);
  int improved = 0, measured = 0;
  for (int gen = 0; gen < 6; ++gen) {
    std::size_t first = 0;
    if (gen > 0) {
      ga.tell(evo.errors().data(), 0);  // the fitness the engine's GA was told
      first = ga.ask();
      evo.step();
    }
    const std::vector<float> genomes(ga.genomes(), ga.genomes() + P * G);
    CHECK(genomes_of(evo) == genomes);
    const std::vector<float> learned = trained_by_hand(net, data, ga.genomes(), P, s);
    const std::vector<double> learned_fitness = fitness_of(net, data, learned, s);
    const std::vector<double> innate_fitness = fitness_of(net, data, genomes, s);
    for (std::size_t a = first; a < P; ++a) {
      CHECK(evo.errors()[a] == learned_fitness[a]);
      improved += learned_fitness[a] < innate_fitness[a];
      ++measured;
    }
    const std::size_t b = evo.best_index();
    CHECK(best_of(evo) == std::vector<float>(&learned[b * G], &learned[(b + 1) * G]));
    CHECK(best_of(evo) != std::vector<float>(&genomes[b * G], &genomes[(b + 1) * G]));
  }
  std::printf("  %d of %d learned agents beat their genome\n", improved, measured);
  CHECK(improved == measured);
}

// Lamarckian: every measured agent's genome is the weights a lockstep GA's child learns
// when trained by hand; the GA then breeds from them.
TEST(lamarckian_learning_writes_the_learned_weights_back) {
  const ObjectiveData data = images_data();
  const Network net = small_network();
  EvolutionSettings given = memetic(Memetic::Lamarckian, 2);
  given.gradient_optimizer = evoae::OptimizerKind::Sgd;
  Evolution evo(net, data, given);
  const EvolutionSettings& s = evo.settings();
  CHECK(s.gradient_rate == 1.0);
  const std::size_t P = 6, G = net.num_params();
  evoae::GeneticAlgorithm ga(net, s, 1);
  for (int gen = 0; gen < 6; ++gen) {
    const std::size_t first = gen == 0 ? 0 : ga.ask();
    if (gen > 0) evo.step();
    const std::vector<float> learned =
        trained_by_hand(net, data, ga.genomes() + first * G, P - first, s);
    ga.replace_genomes(learned.data(), first);
    ga.tell(evo.errors().data() + first, first);
    CHECK(genomes_of(evo) == std::vector<float>(ga.genomes(), ga.genomes() + P * G));
    CHECK(best_of(evo) == std::vector<float>(ga.genome(ga.best()), ga.genome(ga.best()) + G));
    const std::vector<double> fitness = fitness_of(net, data, learned, s);
    for (std::size_t a = first; a < P; ++a) CHECK(evo.errors()[a] == fitness[a - first]);
  }
  // Copy-best children differ from their parent in 3 mutated positions, learned ones in all.
  const std::vector<float> elite = genome_of(evo, 0), child = genome_of(evo, 1);
  std::size_t differing = 0;
  for (std::size_t i = 0; i < G; ++i) differing += elite[i] != child[i];
  CHECK(differing > G / 2);
}

TEST(same_run_on_any_thread_count) {
  const ObjectiveData data = images_data(20);
  for (Memetic kind : {Memetic::Lamarckian, Memetic::Baldwinian}) {
    std::vector<std::unique_ptr<Evolution>> runs;
    for (int threads = 1; threads <= 3; ++threads) {
      EvolutionSettings s = memetic(kind, 2, 19, threads);  // two lane groups at 16 lanes
      s.batch = 7;
      s.selection = evoae::Selection::Truncation;
      s.elites = 2;
      runs.push_back(std::make_unique<Evolution>(small_network(), data, s));
      for (int gen = 0; gen < 5; ++gen) runs.back()->step();
    }
    for (int r = 1; r < 3; ++r) {
      CHECK(runs[r]->history() == runs[0]->history());
      CHECK(genomes_of(*runs[r]) == genomes_of(*runs[0]));
      CHECK(best_of(*runs[r]) == best_of(*runs[0]));
    }
    CHECK(runs[0]->history().back() < runs[0]->history().front());
  }
}

// A restored run goes on bit for bit, with all samples (elites keep their learned fitness)
// and with mini-batches (every agent learns again on each new batch).
TEST(state_restores_bit_for_bit) {
  const ObjectiveData data = images_data(8);
  for (Memetic kind : {Memetic::Lamarckian, Memetic::Baldwinian})
    for (int batch : {0, 3}) {
      EvolutionSettings s = memetic(kind, 2, 7, 2);
      s.batch = batch;
      s.selection = evoae::Selection::Tournament;
      s.elites = 2;
      Evolution run(small_network(), data, s);
      for (int gen = 0; gen < 4; ++gen) run.step();
      Evolution restored(small_network(), data, run.settings(), run.state());
      CHECK(best_of(restored) == best_of(run));
      for (int gen = 0; gen < 4; ++gen) {
        run.step();
        restored.step();
      }
      CHECK(restored.history() == run.history());
      CHECK(genomes_of(restored) == genomes_of(run));
      CHECK(restored.errors() == run.errors());
      CHECK(best_of(restored) == best_of(run));
      CHECK(restored.gradient_evaluations() == run.gradient_evaluations());
    }
}

// Each measured (agent, sample) pair had gradient_steps forward and backward passes.
TEST(gradient_evaluations_count_the_learning) {
  const ObjectiveData data = images_data();
  Evolution evo(small_network(), data, memetic(Memetic::Lamarckian, 4));
  for (int gen = 0; gen < 3; ++gen) evo.step();
  CHECK(evo.evaluations() == (6u + 3u * 5u) * S);  // elite 0 is not measured again
  CHECK(evo.gradient_evaluations() == 4u * evo.evaluations());
}

// A distribution strategy learns Baldwinian: its samples stay its own.
TEST(a_distribution_strategy_learns_baldwinian) {
  const ObjectiveData data = images_data();
  const Network net = small_network();
  EvolutionSettings s = memetic(Memetic::Baldwinian, 2);
  s.strategy = evoae::StrategyKind::Snes;
  s.mutations = EvolutionSettings().mutations;
  Evolution evo(net, data, s);
  for (int gen = 0; gen < 3; ++gen) evo.step();
  const std::size_t b = evo.best_index();
  const std::vector<float> learned =
      trained_by_hand(net, data, evo.genome(b), 1, evo.settings());
  CHECK(best_of(evo) == learned);
  CHECK(fitness_of(net, data, learned, evo.settings())[0] == evo.best_error());
}

// A classifier learns by softmax cross-entropy against one-hot labels.
TEST(a_classifier_learns_by_softmax_cross_entropy) {
  const Network net = Network(6, 6).dense(3, evoae::Activation::Identity);
  ObjectiveData data = images_data(5);
  data.labels = {0, 2, 1, 2, 0};
  EvolutionSettings s = memetic(Memetic::Lamarckian, 2);
  s.objective = evoae::ObjectiveKind::Classification;
  s.fitness = evoae::Fitness::CrossEntropy;
  Evolution evo(net, data, s);
  CHECK(evo.settings().gradient_loss == evoae::Loss::SoftmaxCrossEntropy);
  evoae::GeneticAlgorithm ga(net, evo.settings(), 1);
  const std::vector<float> learned =
      trained_by_hand(net, data, ga.genomes(), 6, evo.settings());
  CHECK(genomes_of(evo) == learned);
  CHECK(evo.errors() == fitness_of(net, data, learned, evo.settings()));
}

TEST(memetic_settings_resolved_and_checked) {
  const ObjectiveData data = images_data();
  const Network net = small_network();
  auto run = [&](EvolutionSettings s) { return Evolution(net, data, s).settings(); };
  // The loss follows the fitness; the rate the optimiser.
  EvolutionSettings s = memetic(Memetic::Lamarckian);
  CHECK(run(s).gradient_loss == evoae::Loss::MeanAbsolute);
  CHECK(run(s).gradient_rate == 0.01);
  s.fitness = evoae::Fitness::RootMeanSquared;
  CHECK(run(s).gradient_loss == evoae::Loss::MeanSquared);
  CHECK(!run(settings(6, 3)).gradient_loss.has_value());  // none without steps

  EvolutionSettings plain = settings(6, 3);
  plain.memetic = Memetic::Baldwinian;
  CHECK(refused([&] { run(plain); }, "memetic is a setting of memetic evolution: it needs "
                                     "gradient_steps >= 1, got 0"));
  plain = settings(6, 3);
  plain.gradient_rate = 0.5;
  CHECK(refused([&] { run(plain); }, "gradient_rate is a setting of memetic evolution"));
  plain = settings(6, 3);
  plain.gradient_loss = evoae::Loss::MeanSquared;
  CHECK(refused([&] { run(plain); }, "gradient_loss is a setting of memetic evolution"));

  s = memetic(Memetic::Lamarckian);
  s.strategy = evoae::StrategyKind::CmaEs;
  s.mutations = EvolutionSettings().mutations;
  CHECK(refused([&] { run(s); }, "memetic 'lamarckian' writes the learned weights into the "
                                 "genomes, but strategy 'cma-es' samples"));
  s = memetic(Memetic::Lamarckian);
  s.gradient_loss = evoae::Loss::SoftmaxCrossEntropy;
  CHECK(refused([&] { run(s); }, "gradient_loss 'softmax-ce' needs the classification"));
  CHECK(refused([&] { Evolution(evoae::TestFunction::Sphere, 10, memetic(Memetic::Baldwinian)); },
                "gradient_steps needs a network to learn: test function 'sphere'"));
  s = memetic(Memetic::Lamarckian);
  s.population = 10000000;
  CHECK(refused([&] { run(s); }, "memetic learning"));
  CHECK(refused([&] { evoae::settings_from({{"gradient_loss", std::string("l1")}}); },
                "unknown gradient_loss 'l1': choose mae, sae, mse, bce, softmax-ce"));
  CHECK(refused([&] { evoae::settings_from({{"memetic", std::string("darwinian")}}); },
                "unknown memetic 'darwinian': choose lamarckian, baldwinian"));
  CHECK(refused([&] { evoae::settings_from({{"gradient_steps", -1LL}}); },
                "gradient_steps must be >= 0"));
}
