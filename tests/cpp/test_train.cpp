// Training by gradients (train/): the optimisers against hand-worked steps and a plain
// one-parameter twin, each lane with its own settings; the parallel gradients (the same bits
// at any thread count, lanes independent, one network's gradient the mean of its images');
// the Trainer (it fits, it lowers the loss, it restores bit for bit, it refuses what cannot
// run); the settings table.
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "evoae/train/gradients.h"
#include "evoae/train/optimizer.h"
#include "evoae/train/settings.h"
#include "evoae/train/trainer.h"

using namespace evoae;
using lanes::L;

namespace {

// -- optimisers -------------------------------------------------------------------------------

// The plain twin of one lane: one parameter, the formulas of optimizer.h written out again in
// float, one operation at a time.
struct PlainOptimizer {
  OptimizerKind kind;
  float lr, momentum, beta1, beta2, epsilon, decay;
  float m = 0, v = 0;
  long t = 0;

  float step(float p, float g) {
    ++t;
    if (kind == OptimizerKind::Sgd) {
      g = g + decay * p;
      m = momentum * m + g;
      return p - lr * m;
    }
    if (kind == OptimizerKind::Adam) g = g + decay * p;
    else p = p * (1.0f - lr * decay);
    m = beta1 * m + (1.0f - beta1) * g;
    v = beta2 * v + (1.0f - beta2) * (g * g);
    const float step_size = static_cast<float>(lr / (1.0 - std::pow(double(beta1), double(t))));
    const float root_c2 = static_cast<float>(std::sqrt(1.0 - std::pow(double(beta2), double(t))));
    return p - step_size * (m / (std::sqrt(v) / root_c2 + epsilon));
  }
};

// One parameter in every lane, lane 0 with the hand-worked settings (lr 0.1, p = 1,
// gradients 0.5 then -0.25); the other lanes' settings and gradients differ. Returns lane 0
// after each of the two steps and checks every lane against the plain twin, bit for bit.
std::vector<float> two_steps(OptimizerKind kind, float momentum, float decay) {
  LaneSettings s;
  std::vector<PlainOptimizer> plain;
  for (int l = 0; l < L; ++l) {
    s.learning_rate[l] = 0.1f / (1 + l);
    s.momentum[l] = momentum - 0.01f * l;
    s.beta1[l] = 0.9f - 0.02f * l;
    s.beta2[l] = 0.999f - 0.001f * l;
    s.epsilon[l] = 1e-8f * (1 + l);
    s.weight_decay[l] = decay * (1 + l);
    plain.push_back({kind, s.learning_rate[l], s.momentum[l], s.beta1[l], s.beta2[l],
                     s.epsilon[l], s.weight_decay[l]});
  }
  Optimizer opt(kind, 1, s);
  std::vector<float> p(L, 1.0f), want(L, 1.0f), lane0;
  for (float g0 : {0.5f, -0.25f}) {
    std::vector<float> g(L);
    for (int l = 0; l < L; ++l) g[l] = g0 * (1 + 0.1f * l);
    opt.step(p.data(), g.data());
    for (int l = 0; l < L; ++l) want[l] = plain[l].step(want[l], g[l]);
    for (int l = 0; l < L; ++l) CHECK(p[l] == want[l]);
    lane0.push_back(p[0]);
  }
  CHECK(opt.state().steps == 2);
  return lane0;
}

}  // namespace

TEST(sgd_momentum_steps) {
  // v = 0.5, p = 1 - 0.1 * 0.5; v = 0.9 * 0.5 - 0.25 = 0.2, p = 0.95 - 0.02.
  check_values(two_steps(OptimizerKind::Sgd, 0.9f, 0.0f), {0.95, 0.93}, 1e-7, "sgd");
  // Weight decay 0.1 as an L2 term: g = 0.5 + 0.1, p = 0.94; g = -0.25 + 0.094,
  // v = 0.54 - 0.156 = 0.384, p = 0.94 - 0.0384.
  check_values(two_steps(OptimizerKind::Sgd, 0.9f, 0.1f), {0.94, 0.9016}, 1e-7,
                      "sgd with decay");
}

TEST(adam_first_two_steps) {
  // Step 1: m = 0.05, v = 0.00025, unbiased 0.5 and 0.25: p = 1 - 0.1 * 0.5 / (0.5 + 1e-8).
  // Step 2: m = 0.045 - 0.025 = 0.02, v = 0.00024975 + 0.0000625 = 0.00031225;
  // p = 0.9 - (0.1 / 0.19) * 0.02 / (sqrt(0.00031225) / sqrt(0.001999) + 1e-8).
  check_values(two_steps(OptimizerKind::Adam, 0.9f, 0.0f), {0.900000002, 0.8733662987},
                      1e-7, "adam");
}

TEST(adamw_decays_the_weights_first) {
  // p *= 1 - 0.1 * 0.01 before each of Adam's steps: 0.999 - 0.1, then 0.899 * 0.999 -
  // 0.0266337 (Adam's second step as above).
  check_values(two_steps(OptimizerKind::AdamW, 0.9f, 0.01f), {0.899000002, 0.8714672987},
                      1e-7, "adamw");
}

TEST(optimizer_state_restores_bit_for_bit) {
  std::mt19937 gen(3);
  const std::size_t G = 5;
  for (OptimizerKind kind : {OptimizerKind::Sgd, OptimizerKind::Adam, OptimizerKind::AdamW}) {
    LaneSettings s;
    s.weight_decay = splat(0.01f);
    Optimizer a(kind, G, s);
    std::vector<float> p = random_buffer(gen, G * L), q;
    std::vector<std::vector<float>> grads;
    for (int k = 0; k < 4; ++k) grads.push_back(random_buffer(gen, G * L));
    a.step(p.data(), grads[0].data());
    a.step(p.data(), grads[1].data());
    Optimizer b(kind, G, s);
    b.restore(a.state());
    q = p;
    for (int k = 2; k < 4; ++k) {
      a.step(p.data(), grads[k].data());
      b.step(q.data(), grads[k].data());
    }
    CHECK(p == q);
    CHECK(b.state().steps == 4);
    OptimizerState bad = a.state();
    bad.first.pop_back();
    CHECK_THROWS_AS(b.restore(bad), std::invalid_argument);
  }
  CHECK(optimizer_from_name("adamw") == OptimizerKind::AdamW);
  CHECK_THROWS_AS(optimizer_from_name("rmsprop"), std::invalid_argument);
}

// -- gradients ----------------------------------------------------------------------------------

namespace {

// An autoencoder's data: S random 6x6 images for small_network(), targets the images.
ObjectiveData autoencoder_data(std::size_t S, unsigned seed = 21) {
  ObjectiveData d;
  d.inputs = random_images(S, seed);
  d.num_samples = S;
  return d;
}

// S 6x6 images with something to learn: each one of 3 random patterns, plus a little noise.
ObjectiveData pattern_data(std::size_t S) {
  const std::vector<float> patterns = random_images(3, 7);
  std::mt19937 gen(8);
  ObjectiveData d;
  d.num_samples = S;
  for (std::size_t s = 0; s < S; ++s)
    for (std::size_t p = 0; p < 36; ++p)
      d.inputs.push_back(patterns[(s % 3) * 36 + p] +
                         0.02f * std::uniform_real_distribution<float>(-1, 1)(gen));
  return d;
}

std::vector<float> random_genomes(std::size_t P, std::size_t G, unsigned seed) {
  std::mt19937 gen(seed);
  return random_buffer(gen, P * G, -0.5f, 0.5f);
}

struct PopulationResult {
  std::vector<double> losses, metrics;
  std::vector<float> grads;  // (P, G)
};

PopulationResult population_gradients(const Network& net, const std::vector<float>& genomes,
                                      std::size_t P, const ImageSet& images, int threads,
                                      Loss loss = Loss::MeanSquared) {
  PopulationResult r{std::vector<double>(P), std::vector<double>(P),
                     std::vector<float>(P * net.num_params())};
  GradientEvaluator(net, loss, Metric::MeanAbsoluteError, threads)
      .population(genomes.data(), P, images, r.losses.data(), r.metrics.data(), r.grads.data());
  return r;
}

struct OneResult {
  double loss, metric;
  std::vector<float> grad;
};

OneResult one_gradient(const Network& net, const float* genome, const ImageSet& images,
                       int threads, Loss loss = Loss::MeanSquared) {
  OneResult r{0, 0, std::vector<float>(net.num_params())};
  GradientEvaluator(net, loss, Metric::MeanAbsoluteError, threads)
      .one_network(genome, images, &r.loss, &r.metric, r.grad.data());
  return r;
}

}  // namespace

TEST(gradients_have_the_same_bits_at_1_2_3_threads) {
  const Network net = small_network();
  const std::size_t S = 45, G = net.num_params();
  const std::vector<float> images = random_images(S);
  const std::vector<std::size_t> rows = {3, 1, 4, 15, 9, 26, 5, 35, 8, 44, 2, 7, 18, 28, 40,
                                         0, 11, 22, 33, 6, 13, 21, 34, 42, 10};
  for (const std::size_t* r : {static_cast<const std::size_t*>(nullptr), rows.data()}) {
    const ImageSet set{images.data(), images.data(), r, r ? rows.size() : S};
    const std::vector<float> genomes = random_genomes(19, G, 5);  // two groups, padded
    const PopulationResult one = population_gradients(net, genomes, 19, set, 1);
    const OneResult single = one_gradient(net, genomes.data(), set, 1);
    for (int threads : {2, 3}) {
      const PopulationResult more = population_gradients(net, genomes, 19, set, threads);
      CHECK(more.grads == one.grads && more.losses == one.losses && more.metrics == one.metrics);
      const OneResult again = one_gradient(net, genomes.data(), set, threads);
      CHECK(again.grad == single.grad && again.loss == single.loss &&
            again.metric == single.metric);
    }
  }
}

TEST(population_lanes_are_independent) {
  // A network's loss and gradient are the same bits whichever lane and group it sits in.
  const Network net = small_network();
  const std::size_t S = 12, G = net.num_params();
  const std::vector<float> images = random_images(S);
  const ImageSet set{images.data(), images.data(), nullptr, S};
  const std::vector<float> genomes = random_genomes(18, G, 8);
  const PopulationResult all = population_gradients(net, genomes, 18, set, 2);
  std::vector<float> pair(genomes.begin() + 17 * G, genomes.end());  // network 17 in lane 0
  pair.insert(pair.end(), genomes.begin() + 4 * G, genomes.begin() + 5 * G);  // 4 in lane 1
  const PopulationResult alone = population_gradients(net, pair, 2, set, 1);
  CHECK(alone.losses[0] == all.losses[17] && alone.losses[1] == all.losses[4]);
  CHECK(std::equal(alone.grads.begin(), alone.grads.begin() + G, all.grads.begin() + 17 * G));
  CHECK(std::equal(alone.grads.begin() + G, alone.grads.end(), all.grads.begin() + 4 * G));
}

TEST(one_network_gradient_is_the_mean_of_its_images) {
  // 21 images: the second item has 5 empty lanes, which must add nothing. Each image alone
  // fills one lane; the means agree within float rounding. Population mode (the genome in
  // one lane, every image there in turn) gives the same, and the same MAE.
  const Network net = small_network();
  const std::size_t S = 21, G = net.num_params();
  const std::vector<float> images = random_images(S, 4);
  const std::vector<float> genome = random_genomes(1, G, 9);
  for (Loss loss : {Loss::MeanAbsolute, Loss::MeanSquared, Loss::BinaryCrossEntropy}) {
    const OneResult all = one_gradient(net, genome.data(), {images.data(), images.data(),
                                                            nullptr, S}, 2, loss);
    std::vector<double> mean(G, 0.0);
    double loss_mean = 0.0, mae = 0.0;
    for (std::size_t s = 0; s < S; ++s) {
      const OneResult one = one_gradient(net, genome.data(), {images.data(), images.data(), &s, 1},
                                         1, loss);
      for (std::size_t i = 0; i < G; ++i) mean[i] += one.grad[i] / double(S);
      loss_mean += one.loss / S;
      mae += one.metric / S;
    }
    double scale = 0.0;
    for (double g : mean) scale = std::max(scale, std::fabs(g));
    CHECK(scale > 1e-3);  // a gradient to compare
    std::vector<float> got = all.grad;
    check_values(got, mean, 1e-5 * scale, "one-network gradient");
    CHECK_NEAR(all.loss, loss_mean, 1e-6 * std::fabs(loss_mean));
    CHECK_NEAR(all.metric, mae, 1e-6);
    const PopulationResult pop = population_gradients(net, genome, 1, {images.data(),
                                                      images.data(), nullptr, S}, 2, loss);
    check_values(pop.grads, mean, 1e-5 * scale, "population gradient");
    CHECK_NEAR(pop.losses[0], all.loss, 1e-6 * std::fabs(loss_mean));
    CHECK_NEAR(pop.metrics[0], mae, 1e-6);
  }
}

// -- the Trainer --------------------------------------------------------------------------------

namespace {

TrainSettings train_settings(int networks, OptimizerKind optimizer = OptimizerKind::Adam,
                             int threads = 1) {
  TrainSettings s;
  s.networks = networks;
  s.optimizer = optimizer;
  s.threads = threads;
  s.seed = 3;
  s.loss = Loss::MeanSquared;
  return s;
}

}  // namespace

TEST(a_dense_layer_fits_a_linear_map) {
  // 4 inputs -> 3 identity outputs, targets A x + b exactly: the optimum is A and b, loss 0.
  Network net(1, 4);
  net.dense(3, Activation::Identity);
  const float A[3][4] = {{0.5f, -0.25f, 0.125f, 0.0f}, {-0.5f, 0.75f, 0.0f, 0.25f},
                         {0.0f, 0.25f, -0.75f, 0.5f}};
  const float b[3] = {0.1f, -0.2f, 0.3f};
  ObjectiveData d;
  d.num_samples = 32;
  d.inputs = random_images_of(32, 4, 6);
  for (std::size_t s = 0; s < 32; ++s)
    for (int i = 0; i < 3; ++i) {
      double t = b[i];
      for (int j = 0; j < 4; ++j) t += A[i][j] * d.inputs[s * 4 + j];
      d.targets.push_back(static_cast<float>(t));
    }
  TrainSettings s = train_settings(1);
  s.learning_rate = {0.05};
  Trainer t(net, d, s);
  const double start = t.best_error();
  StopConditions stop;
  stop.max_generations = 3000;
  stop.target_error = 1e-11;
  t.advance(stop);
  CHECK(start > 0.01);
  CHECK(t.best_error() <= 1e-10);
  const std::vector<float> g = t.genome(0);  // weights (3, 4), then the biases
  std::vector<double> want;
  for (const auto& row : A) want.insert(want.end(), row, row + 4);
  want.insert(want.end(), b, b + 3);
  check_values(g, want, 1e-4, "fitted weights");
}

TEST(training_lowers_the_loss_of_a_tiny_autoencoder) {
  // Adam and AdamW beat the mean image (what an autoencoder that learnt nothing of each
  // image gives) within 150 steps; SGD, slower on this network, lowers the loss.
  const Network net = small_network();
  const ObjectiveData d = pattern_data(20);
  std::vector<double> mean(36, 0.0);
  for (std::size_t i = 0; i < d.inputs.size(); ++i) mean[i % 36] += d.inputs[i] / 20.0;
  double mean_image = 0.0;
  for (std::size_t i = 0; i < d.inputs.size(); ++i)
    mean_image += std::pow(d.inputs[i] - mean[i % 36], 2) / double(d.inputs.size());
  for (int networks : {1, 3}) {
    for (OptimizerKind kind : {OptimizerKind::Adam, OptimizerKind::AdamW, OptimizerKind::Sgd}) {
      TrainSettings s = train_settings(networks, kind, 2);
      s.init = Init::Glorot;
      s.learning_rate = {kind == OptimizerKind::Sgd ? 3.0 : 0.1};
      Trainer t(net, d, s);
      const double start = t.best_error();
      StopConditions stop;
      stop.max_generations = 150;
      const Advanced done = t.advance(stop);
      CHECK(done.generations == 150 && done.reason == StopReason::Generations);
      CHECK(t.generation() == 150 && t.history().size() == 151);
      CHECK(t.evaluations() == 151u * 20 * networks);
      const double bound = kind == OptimizerKind::Sgd ? 0.85 * start : mean_image;
      if (!(t.best_error() < bound))
        std::printf("  %d networks, %s: loss %g -> %g, not below %g\n", networks,
                    optimizer_name(kind), start, t.best_error(), bound);
      CHECK(t.best_error() < bound);
      CHECK(t.best_metric() > 0 && t.best_metric() < 1);
    }
  }
}

namespace {

// A run of `steps` steps: its genomes, losses and history.
struct Run {
  std::vector<float> genomes;
  std::vector<double> losses, metrics, history;
  bool operator==(const Run& o) const {
    return genomes == o.genomes && losses == o.losses && metrics == o.metrics &&
           history == o.history;
  }
};

Run run_steps(Trainer& t, long steps) {
  StopConditions stop;
  stop.max_generations = steps;
  t.advance(stop);
  return {t.genomes(), t.losses(), t.metrics(), t.history()};
}

}  // namespace

TEST(training_has_the_same_bits_at_1_2_3_threads) {
  const Network net = small_network();
  for (int networks : {1, 17}) {
    TrainSettings s = train_settings(networks);
    s.batch = 9;
    s.holdout = 0.25;
    s.threads = 1;
    Trainer one(net, autoencoder_data(40), s);
    const Run want = run_steps(one, 4);
    for (int threads : {2, 3}) {
      s.threads = threads;
      Trainer more(net, autoencoder_data(40), s);
      CHECK(run_steps(more, 4) == want);
    }
  }
}

TEST(a_network_trained_in_a_group_equals_it_trained_alone) {
  // Network 17 (lane 1 of the second group) and network 2 of a 20-network run, with their
  // own learning rates, against the same two as a 2-network run: the same bits.
  const Network net = small_network();
  const std::size_t G = net.num_params();
  TrainSettings s = train_settings(20);
  s.batch = 6;
  s.learning_rate.clear();
  for (int n = 0; n < 20; ++n) s.learning_rate.push_back(0.001 * (n + 1));
  const std::vector<float> genomes = random_genomes(20, G, 12);
  Trainer group(net, autoencoder_data(15), s, genomes);
  run_steps(group, 5);
  TrainSettings pair_settings = s;
  pair_settings.networks = 2;
  pair_settings.learning_rate = {s.learning_rate[17], s.learning_rate[2]};
  std::vector<float> pair(genomes.begin() + 17 * G, genomes.begin() + 18 * G);
  pair.insert(pair.end(), genomes.begin() + 2 * G, genomes.begin() + 3 * G);
  Trainer alone(net, autoencoder_data(15), pair_settings, pair);
  run_steps(alone, 5);
  CHECK(alone.genome(0) == group.genome(17) && alone.genome(1) == group.genome(2));
  CHECK(alone.losses()[0] == group.losses()[17] && alone.losses()[1] == group.losses()[2]);
}

TEST(a_restored_trainer_continues_bit_for_bit) {
  const Network net = small_network();
  for (int networks : {1, 3}) {
    for (OptimizerKind kind : {OptimizerKind::Adam, OptimizerKind::Sgd}) {
      TrainSettings s = train_settings(networks, kind, 2);
      s.batch = 5;
      Trainer a(net, autoencoder_data(12), s);
      run_steps(a, 3);
      const TrainerState saved = a.state();
      CHECK(saved.step == 3 && saved.history.size() == 4);
      const Run want = run_steps(a, 4);
      Trainer b(net, autoencoder_data(12), s, saved);
      CHECK(b.generation() == 3 && b.evaluations() == saved.evaluations);
      CHECK(run_steps(b, 4) == want);
      CHECK(b.evaluations() == a.evaluations());
      TrainerState bad = saved;
      bad.history.pop_back();
      CHECK_THROWS_AS(Trainer(net, autoencoder_data(12), s, bad), std::invalid_argument);
      bad = saved;
      bad.first.pop_back();
      CHECK_THROWS_AS(Trainer(net, autoencoder_data(12), s, bad), std::invalid_argument);
    }
  }
}

TEST(init_uniform_is_the_evolution_s_start_and_glorot_its_ranges) {
  const Network net = small_network();
  TrainSettings s = train_settings(3);
  Trainer uniform(net, autoencoder_data(4), s);
  Evolution e(net, random_images(4), 4, settings(3, 1, s.seed));
  for (std::size_t a = 0; a < 3; ++a) CHECK(uniform.genome(a) == genome_of(e, a));
  s.init = Init::Glorot;
  Trainer glorot(net, autoencoder_data(4), s);
  const std::vector<float> g = glorot.genome(1), u = uniform.genome(1);
  // conv 3x3, multiplier 2: sqrt(6 / (9 + 18)); dense 8 -> 3 and 3 -> 8: sqrt(6 / 11);
  // conv_transpose 3x3, reducer 2: sqrt(6 / (18 + 9)). The same draws, scaled; biases 0.
  const double conv = std::sqrt(6.0 / 27), dense = std::sqrt(6.0 / 11);
  for (const Layer& l : net.layers()) {
    const double limit = l.is<Dense>() ? dense : conv;
    for (std::size_t i = l.offset; i < l.offset + l.num_weights; ++i)
      CHECK_NEAR(g[i], u[i] * limit, 1e-6);
    for (std::size_t i = l.offset + l.num_weights; i < l.offset + l.num_params(); ++i)
      CHECK(g[i] == 0.0f);
  }
}

TEST(holdout_and_evaluate) {
  // 10 images, holdout 0.3: 3 held out, disjoint from the 7 trained on; a genome's loss on
  // all images is the weighted mean of its losses on the two parts.
  const Network net = small_network();
  TrainSettings s = train_settings(2);
  s.holdout = 0.3;
  Trainer t(net, autoencoder_data(10), s);
  CHECK(t.num_train() == 7 && t.num_holdout() == 3);
  std::vector<bool> seen(10, false);
  for (std::size_t r : t.batch()) seen[r] = true;
  for (std::size_t r : t.holdout_rows()) CHECK(!seen[r]);
  const std::vector<float> g = t.genome(1);
  const Measure all = t.evaluate(g.data(), DataPart::All);
  const Measure train = t.evaluate(g.data(), DataPart::Train);
  const Measure held = t.evaluate(g.data(), DataPart::Holdout);
  CHECK_NEAR(all.fitness, (7 * train.fitness + 3 * held.fitness) / 10, 1e-6);
  CHECK_NEAR(all.metric, (7 * train.metric + 3 * held.metric) / 10, 1e-6);
  CHECK_NEAR(train.fitness, t.losses()[1], 1e-6);  // the step's images are the training part
  s.holdout = 0.0;
  Trainer none(net, autoencoder_data(10), s);
  CHECK_THROWS_AS(none.evaluate(g.data(), DataPart::Holdout), std::invalid_argument);
  CHECK_THROWS_AS(data_part_from_name("test"), std::invalid_argument);
}

TEST(advance_stops_as_the_evolution_does) {
  const Network net = small_network();
  Trainer t(net, autoencoder_data(6), train_settings(2));
  StopConditions stop;
  stop.target_metric = 10.0;  // already met: no step
  Advanced done = t.advance(stop);
  CHECK(done.generations == 0 && done.reason == StopReason::Target);
  stop = StopConditions();
  stop.max_generations = 3;
  done = t.advance(stop);
  CHECK(done.generations == 3 && done.reason == StopReason::Generations);
  stop.max_generations = 1000;
  stop.patience = 2;
  TrainSettings s = train_settings(2);
  s.learning_rate = {1e-9};  // no progress, so patience runs out... unless noise helps
  Trainer stuck(net, autoencoder_data(6), s);
  done = stuck.advance(stop);
  CHECK(done.reason == StopReason::Patience);
  CHECK(stuck.generation() - stuck.improved_at() == 2);
}

TEST(a_classifier_learns_its_labels) {
  // 2x2 images of one bright pixel, the class its position: softmax-ce, error rate to 0.
  Network net(2, 2);
  net.dense(4, Activation::Identity);
  ObjectiveData d;
  d.num_samples = 16;
  std::mt19937 gen(2);
  for (int s = 0; s < 16; ++s) {
    const int c = s % 4;
    for (int p = 0; p < 4; ++p)
      d.inputs.push_back((p == c ? 0.9f : 0.1f) + 0.05f * std::uniform_real_distribution<float>(-1, 1)(gen));
    d.labels.push_back(c);
  }
  TrainSettings s = train_settings(2);
  s.loss = Loss::SoftmaxCrossEntropy;
  s.learning_rate = {0.1};
  Trainer t(net, d, s);
  CHECK(std::string(t.metric_name()) == "error rate");
  StopConditions stop;
  stop.max_generations = 300;
  stop.target_metric = 0.0;
  const double start = t.best_error();
  t.advance(stop);
  CHECK(t.best_metric() == 0.0);
  CHECK(t.best_error() < start);
  s.loss = Loss::MeanAbsolute;
  CHECK_THROWS_AS(Trainer(net, d, s), std::invalid_argument);
}

// -- settings -----------------------------------------------------------------------------------

namespace {

// The message of the std::invalid_argument that f throws, or "" when it throws none.
template <class F>
std::string refusal(F f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

bool says(const std::string& message, const char* word) {
  if (message.find(word) != std::string::npos) return true;
  std::printf("  message \"%s\" does not name \"%s\"\n", message.c_str(), word);
  return false;
}

}  // namespace

TEST(train_settings_round_trip_and_resolve) {
  using V = TrainSettingValue;
  const std::map<std::string, V> given = {
      {"networks", 3LL}, {"optimizer", std::string("adamw")}, {"learning_rate", 0.5},
      {"beta1", std::vector<double>{0.8, 0.85, 0.9}}, {"batch", 4LL}, {"holdout", 0.1},
      {"init", std::string("glorot")}, {"loss", std::string("bce")}};
  const TrainSettings s = train_settings_from(given);
  std::map<std::string, V> values = train_settings_values(s);
  for (const auto& [name, value] : given) CHECK(values.at(name) == value);
  CHECK(std::holds_alternative<std::monostate>(values.at("weight_decay")));
  const TrainSettings r = resolve_train_settings(s);
  values = train_settings_values(r);
  CHECK(values.at("weight_decay") == V(0.01));  // adamw's default
  CHECK(values.at("beta2") == V(0.999) && values.at("epsilon") == V(1e-8));
  CHECK(std::holds_alternative<std::monostate>(values.at("momentum")));  // not sgd's
  CHECK(train_settings_values(resolve_train_settings(r)) == values);     // resolved stays
  CHECK(is_per_network_setting("learning_rate") && !is_per_network_setting("epsilon"));
  CHECK(train_setting_specs().size() == train_settings_values(TrainSettings()).size());
}

TEST(bad_settings_and_data_are_refused_naming_them) {
  using V = TrainSettingValue;
  using Given = std::map<std::string, V>;
  auto from = [](Given g) { return [g] { resolve_train_settings(train_settings_from(g)); }; };
  CHECK(says(refusal(from({{"networks", 0LL}})), "networks"));
  CHECK(says(refusal(from({{"learning_rate", -1.0}})), "learning_rate"));
  CHECK(says(refusal(from({{"learning_rate", std::vector<double>{0.1, -0.1}},
                           {"networks", 2LL}})), "learning_rate"));
  CHECK(says(refusal(from({{"learning_rate", std::vector<double>{0.1, 0.2}},
                           {"networks", 3LL}})), "one per network"));
  CHECK(says(refusal(from({{"momentum", std::vector<double>{}}})), "empty"));
  CHECK(says(refusal(from({{"seed", std::vector<double>{1, 2}}})), "seed takes one value"));
  CHECK(says(refusal(from({{"momentum", 0.5}})), "momentum applies to optimizer 'sgd'"));
  CHECK(says(refusal(from({{"beta1", 0.5}, {"optimizer", std::string("sgd")}})), "beta1"));
  CHECK(says(refusal(from({{"epsilon", 1e-6}, {"optimizer", std::string("sgd")}})), "epsilon"));
  CHECK(says(refusal(from({{"beta2", 1.0}})), "beta2 must be < 1"));
  CHECK(says(refusal(from({{"optimizer", std::string("rmsprop")}})), "adamw"));
  CHECK(says(refusal(from({{"loss", std::string("hinge")}})), "softmax-ce"));
  CHECK(says(refusal(from({{"init", std::string("he")}})), "glorot"));
  CHECK(says(refusal(from({{"learning_rte", 0.1}})), "unknown setting 'learning_rte'"));
  CHECK(says(refusal(from({{"batch", 0.5}})), "batch must be an integer"));

  const Network net = small_network();
  auto trainer = [&](ObjectiveData d, TrainSettings s) { return [=] { Trainer(net, d, s); }; };
  TrainSettings s = train_settings(2);
  s.holdout = 0.96;
  CHECK(says(refusal(trainer(autoencoder_data(10), s)), "holdout"));
  s.holdout = 0.5;
  s.batch = 6;
  CHECK(says(refusal(trainer(autoencoder_data(10), s)), "batch 6 exceeds the 5 training"));
  s = train_settings(2);
  ObjectiveData d = autoencoder_data(5);
  d.inputs[40] = std::nanf("");
  CHECK(says(refusal(trainer(d, s)), "images hold NaN"));
  d = autoencoder_data(5);
  d.targets.assign(5 * 35, 0.5f);
  CHECK(says(refusal(trainer(d, s)), "targets"));
  d = autoencoder_data(5);
  d.inputs.pop_back();
  CHECK(says(refusal(trainer(d, s)), "images hold"));
  d.num_samples = 0;
  CHECK(says(refusal(trainer(d, s)), "image"));
  s.networks = 0;
  CHECK(says(refusal(trainer(autoencoder_data(5), s)), "networks"));
  s = train_settings(2);
  CHECK(says(refusal([&] { Trainer(net, autoencoder_data(5), s, std::vector<float>(3)); }),
             "genomes"));
  s.networks = 10000000;  // 1e7 x 95 parameters in 4 copies: 14 GiB, more than 8
  CHECK(says(refusal(trainer(autoencoder_data(5), s)), "GiB"));
}
