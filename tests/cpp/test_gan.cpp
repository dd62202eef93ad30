// The GAN's losses and passes (gan/): each loss against its formula and central differences;
// every pass of Adversarial (generator gradients through the discriminator, scores and the
// discriminator's fake-loss gradient, distillation, the discriminator's own gradient) against
// the plain double twins of reference_backward.h, summed sample by sample; the diversity term
// -log ||grad of D's loss|| against central differences of D's loss; the generations of
// EvolutionaryGan: the same bits at any thread count, selection, bad settings.
#include <cmath>
#include <functional>

#include "check.h"
#include "evoae/gan/evolutionary_gan.h"
#include "evoae/nn/reference_backward.h"

using namespace evoae;

namespace {

// Smooth tiny networks (tanh: central differences need no kinks): 3 -> 5 -> 4 and
// 2x2 -> 6 -> 1 (a logit).
Network tiny_generator() {
  Network g(1, 3);
  g.dense(5, Activation::Tanh).dense(4, Activation::Identity);
  return g;
}
Network tiny_discriminator() {
  Network d(2, 2);
  d.dense(6, Activation::Tanh).dense(1, Activation::Identity);
  return d;
}

std::vector<double> to_double(const float* v, std::size_t n) { return {v, v + n}; }

double twin_softplus(double x) { return std::log1p(std::exp(x)); }
// The generator losses and the discriminator's written from the formulas of gan_loss.h.
double twin_generator_loss(GeneratorLoss loss, double d) {
  const double s = logistic(d);
  switch (loss) {
    case GeneratorLoss::Minimax: return std::log(1.0 - s);
    case GeneratorLoss::NonSaturating: return -std::log(s);
    case GeneratorLoss::LeastSquares: return (s - 1.0) * (s - 1.0);
  }
  return 0.0;
}
double twin_discriminator_loss(bool real, double d) {
  return real ? twin_softplus(-d) : twin_softplus(d);
}
double central(const std::function<double(double)>& f, double x, double h = 1e-5) {
  return (f(x + h) - f(x - h)) / (2 * h);
}

// Relative closeness of two gradients: max |a - b| / max(max |b|, 1e-3).
double relative_error(const std::vector<float>& a, const std::vector<double>& b) {
  double top = 1e-3, diff = 0.0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    top = std::max(top, std::fabs(b[i]));
    diff = std::max(diff, std::fabs(a[i] - b[i]));
  }
  return diff / top;
}

struct Setup {
  Network g = tiny_generator(), d = tiny_discriminator();
  std::mt19937 rng{5};
  std::vector<std::vector<float>> gens;
  std::vector<float> dparams, noise;
  std::size_t n;
  Setup(std::size_t P, std::size_t n) : n(n) {
    for (std::size_t p = 0; p < P; ++p) gens.push_back(random_buffer(rng, g.num_params()));
    dparams = random_buffer(rng, d.num_params());
    noise = random_buffer(rng, n * 3, -2, 2);
  }
  std::vector<const float*> pointers() const {
    std::vector<const float*> p;
    for (const auto& v : gens) p.push_back(v.data());
    return p;
  }
  // The twins of G_p(z_i) and of D on it.
  std::vector<double> sample(std::size_t p, std::size_t i) const {
    const std::vector<double> gp = to_double(gens[p].data(), gens[p].size()),
                              z = to_double(noise.data() + i * 3, 3);
    return reference::network_forward<double>(g, gp.data(), z.data());
  }
  double logit(const std::vector<double>& x, const std::vector<double>& dp) const {
    return reference::network_forward<double>(d, dp.data(), x.data())[0];
  }
};

std::vector<float*> rows(std::vector<std::vector<float>>& v) {
  std::vector<float*> p;
  for (auto& r : v) p.push_back(r.data());
  return p;
}

}  // namespace

TEST(losses_match_their_formulas_and_central_differences) {
  for (double d = -8.0; d <= 8.0; d += 0.37) {
    for (GeneratorLoss loss : {GeneratorLoss::Minimax, GeneratorLoss::NonSaturating,
                               GeneratorLoss::LeastSquares}) {
      float slope;
      const float value = generator_loss(loss, static_cast<float>(d), &slope);
      const auto f = [&](double x) { return twin_generator_loss(loss, x); };
      CHECK_NEAR(value, f(d), 1e-5 * (1 + std::fabs(f(d))));
      CHECK_NEAR(slope, central(f, d), 1e-5);
    }
    for (bool real : {true, false}) {
      float slope;
      const float value = discriminator_loss(real, static_cast<float>(d), &slope);
      const auto f = [&](double x) { return twin_discriminator_loss(real, x); };
      CHECK_NEAR(value, f(d), 1e-5 * (1 + std::fabs(f(d))));
      CHECK_NEAR(slope, central(f, d), 1e-5);
    }
  }
  // Saturated logits: finite losses, the slopes' limits (the nonsaturating loss keeps pushing).
  float slope;
  CHECK_NEAR(generator_loss(GeneratorLoss::NonSaturating, -80.0f, &slope), 80.0, 1e-4);
  CHECK_NEAR(slope, -1.0, 1e-6);
  CHECK_NEAR(generator_loss(GeneratorLoss::Minimax, -80.0f, &slope), 0.0, 1e-6);
  CHECK_NEAR(slope, 0.0, 1e-6);
  CHECK_NEAR(discriminator_loss(false, 80.0f, &slope), 80.0, 1e-4);
  CHECK_NEAR(slope, 1.0, 1e-6);
  CHECK(generator_loss_from_name("least-squares") == GeneratorLoss::LeastSquares);
  CHECK_THROWS_AS(generator_loss_from_name("wgan"), std::invalid_argument);
}

TEST(generator_gradients_match_the_twin_through_the_discriminator) {
  Setup s(3, 9);  // 9 noise vectors: blocks of unequal length, part-filled passes
  const std::vector<GeneratorLoss> losses = {GeneratorLoss::Minimax, GeneratorLoss::NonSaturating,
                                             GeneratorLoss::LeastSquares};
  Adversarial pair(s.g, s.d, 2);
  pair.set_discriminator(s.dparams.data());
  std::vector<std::vector<float>> grads(3, std::vector<float>(s.g.num_params()));
  double mean[3];
  pair.generator_gradients(s.pointers(), losses, s.noise.data(), s.n, mean, rows(grads));
  const std::vector<double> dp = to_double(s.dparams.data(), s.dparams.size());
  for (std::size_t p = 0; p < 3; ++p) {
    const std::vector<double> gp = to_double(s.gens[p].data(), s.gens[p].size());
    // The twin's mean loss as a function of G's parameters, for central differences.
    auto loss_of = [&](const std::vector<double>& params) {
      double sum = 0.0;
      for (std::size_t i = 0; i < s.n; ++i) {
        const std::vector<double> z = to_double(s.noise.data() + i * 3, 3);
        const std::vector<double> x = reference::network_forward<double>(s.g, params.data(), z.data());
        sum += twin_generator_loss(losses[p], s.logit(x, dp));
      }
      return sum / s.n;
    };
    std::vector<double> want(s.g.num_params(), 0.0), dsink(s.d.num_params()), dx(4);
    for (std::size_t i = 0; i < s.n; ++i) {
      const std::vector<double> x = s.sample(p, i), z = to_double(s.noise.data() + i * 3, 3);
      const double d = s.logit(x, dp);
      const double dy = central([&](double t) { return twin_generator_loss(losses[p], t); }, d) / s.n;
      reference::network_backward<double>(s.d, dp.data(), x.data(), &dy, dsink.data(), dx.data());
      reference::network_backward<double>(s.g, gp.data(), z.data(), dx.data(), want.data());
    }
    CHECK_NEAR(mean[p], loss_of(gp), 1e-5);
    CHECK(relative_error(grads[p], want) < 1e-4);
    for (std::size_t j = 0; j < want.size(); j += 7) {  // the twin itself: central differences
      std::vector<double> plus = gp, minus = gp;
      plus[j] += 1e-5;
      minus[j] -= 1e-5;
      CHECK_NEAR(want[j], (loss_of(plus) - loss_of(minus)) / 2e-5, 1e-6);
    }
  }
}

TEST(evaluation_and_diversity_term_match_central_differences) {
  Setup s(2, 7);
  const std::size_t m = 5, Gd = s.d.num_params();
  std::mt19937 rng(9);
  const std::vector<float> real = random_buffer(rng, m * 4, 0, 1);
  Adversarial pair(s.g, s.d, 3);
  pair.set_discriminator(s.dparams.data());
  std::vector<float> logits(2 * s.n), samples(2 * s.n * 4);
  std::vector<std::vector<float>> fake_grads(2, std::vector<float>(Gd));
  pair.evaluate(s.pointers(), s.noise.data(), s.n, logits.data(), samples.data(), rows(fake_grads));
  std::vector<float> real_grad(Gd);
  pair.discriminator_gradient(real.data(), m, nullptr, 0, real_grad.data());
  const std::vector<double> dp = to_double(s.dparams.data(), Gd);
  for (std::size_t p = 0; p < 2; ++p) {
    std::vector<std::vector<double>> xs;
    for (std::size_t i = 0; i < s.n; ++i) {
      xs.push_back(s.sample(p, i));
      CHECK_NEAR(logits[p * s.n + i], s.logit(xs[i], dp), 1e-5);
      for (int j = 0; j < 4; ++j) CHECK_NEAR(samples[(p * s.n + i) * 4 + j], xs[i][j], 1e-5);
    }
    // D's loss on the real batch and this generator's fakes, as a function of D's parameters.
    auto d_loss = [&](const std::vector<double>& params) {
      double r = 0.0, f = 0.0;
      for (std::size_t i = 0; i < m; ++i)
        r += twin_discriminator_loss(true, s.logit(to_double(real.data() + i * 4, 4), params));
      for (const auto& x : xs) f += twin_discriminator_loss(false, s.logit(x, params));
      return r / m + f / s.n;
    };
    double squares = 0.0;
    std::vector<double> central_grad(Gd);
    for (std::size_t j = 0; j < Gd; ++j) {
      std::vector<double> plus = dp, minus = dp;
      plus[j] += 1e-5;
      minus[j] -= 1e-5;
      central_grad[j] = (d_loss(plus) - d_loss(minus)) / 2e-5;
      squares += central_grad[j] * central_grad[j];
    }
    std::vector<float> total(Gd);
    double total_squares = 0.0;
    for (std::size_t j = 0; j < Gd; ++j) {
      total[j] = real_grad[j] + fake_grads[p][j];
      total_squares += static_cast<double>(total[j]) * total[j];
    }
    CHECK(relative_error(total, central_grad) < 1e-4);
    CHECK_NEAR(-0.5 * std::log(total_squares), -0.5 * std::log(squares), 1e-4);
  }
}

TEST(discriminator_gradient_matches_the_twin) {
  Setup s(1, 1);
  const std::size_t m = 6, k = 11, Gd = s.d.num_params();
  std::mt19937 rng(3);
  const std::vector<float> real = random_buffer(rng, m * 4, 0, 1),
                           fake = random_buffer(rng, k * 4, -1, 1);
  Adversarial pair(s.g, s.d, 2);
  pair.set_discriminator(s.dparams.data());
  std::vector<float> grad(Gd);
  double score;
  const double loss = pair.discriminator_gradient(real.data(), m, fake.data(), k, grad.data(), &score);
  const std::vector<double> dp = to_double(s.dparams.data(), Gd);
  std::vector<double> want(Gd, 0.0);
  double want_loss = 0.0, want_score = 0.0;
  for (std::size_t i = 0; i < m + k; ++i) {
    const bool is_real = i < m;
    const std::vector<double> x = to_double(is_real ? &real[i * 4] : &fake[(i - m) * 4], 4);
    const double d = s.logit(x, dp), count = is_real ? m : k;
    want_loss += twin_discriminator_loss(is_real, d) / count;
    if (!is_real) want_score += logistic(d) / k;
    const double dy =
        central([&](double t) { return twin_discriminator_loss(is_real, t); }, d) / count;
    reference::network_backward<double>(s.d, dp.data(), x.data(), &dy, want.data());
  }
  CHECK_NEAR(loss, want_loss, 1e-5);
  CHECK_NEAR(score, want_score, 1e-6);
  CHECK(relative_error(grad, want) < 1e-4);
}

TEST(distillation_gradients_match_the_twin) {
  Setup s(2, 10);
  std::mt19937 rng(4);
  const std::vector<float> teachers = random_buffer(rng, 2 * s.n * 4);
  Adversarial pair(s.g, s.d, 2);
  std::vector<std::vector<float>> grads(2, std::vector<float>(s.g.num_params()));
  double mean[2];
  pair.distillation_gradients(s.pointers(), s.noise.data(), s.n, teachers.data(), mean, rows(grads));
  for (std::size_t p = 0; p < 2; ++p) {
    const std::vector<double> gp = to_double(s.gens[p].data(), s.gens[p].size());
    std::vector<double> want(gp.size(), 0.0);
    double want_loss = 0.0;
    for (std::size_t i = 0; i < s.n; ++i) {
      const std::vector<double> x = s.sample(p, i), z = to_double(s.noise.data() + i * 3, 3);
      double dy[4];
      for (int j = 0; j < 4; ++j) {
        const double e = x[j] - teachers[(p * s.n + i) * 4 + j];
        want_loss += e * e / 4 / s.n;
        dy[j] = 2 * e / 4 / s.n;
      }
      reference::network_backward<double>(s.g, gp.data(), z.data(), dy, want.data());
    }
    CHECK_NEAR(mean[p], want_loss, 1e-5);
    CHECK(relative_error(grads[p], want) < 1e-4);
  }
}

namespace {

struct Run {
  std::vector<std::vector<float>> genomes;
  std::vector<float> d;
  std::vector<double> fitness;
  std::vector<long> selected;
};

Run run_gan(GanSettings settings, int threads, int generations = 3) {
  const Network g = tiny_generator(), d = tiny_discriminator();
  std::mt19937 rng(12);
  const std::vector<float> real = random_buffer(rng, 40 * 4, 0, 1),
                           g0 = random_buffer(rng, g.num_params()),
                           d0 = random_buffer(rng, d.num_params());
  settings.threads = threads;
  settings.batch = 13;
  settings.eval_batch = 11;
  EvolutionaryGan e(g, d, settings, real.data(), 40, g0.data(), d0.data());
  for (int i = 0; i < generations; ++i) e.step();
  Run r;
  for (std::size_t i = 0; i < e.parents(); ++i)
    r.genomes.emplace_back(e.generator_genome(i), e.generator_genome(i) + g.num_params());
  r.d.assign(e.discriminator_genome(), e.discriminator_genome() + d.num_params());
  r.fitness = e.record().fitness;
  r.selected = e.selected();
  CHECK(e.generation() == generations);
  return r;
}

}  // namespace

TEST(same_seed_same_run_at_any_thread_count) {
  for (GanMethod method : {GanMethod::Gan, GanMethod::EGan, GanMethod::CeGan}) {
    GanSettings s;
    s.method = method;
    s.parents = method == GanMethod::Gan ? 1 : 2;
    s.seed = 7;
    const Run one = run_gan(s, 1), three = run_gan(s, 3);
    CHECK(one.genomes == three.genomes);
    CHECK(one.d == three.d);
    CHECK(one.fitness == three.fitness);
    s.seed = 8;
    CHECK(run_gan(s, 1).genomes != one.genomes);  // the seed matters
  }
}

TEST(selection_keeps_the_fittest_of_the_pool) {
  GanSettings s;
  s.parents = 2;
  for (GanMethod method : {GanMethod::EGan, GanMethod::CeGan}) {
    s.method = method;
    const Run r = run_gan(s, 2, 4);
    CHECK(r.genomes.size() == 2);
    CHECK(r.fitness.size() == 2 && r.fitness[0] >= r.fitness[1]);
    long total = 0;
    for (long c : r.selected) total += c;
    CHECK(total == 2 * 4);
  }
  s.method = GanMethod::CeGan;
  s.comprehensive = false;
  s.crossovers = 2;
  const Run children = run_gan(s, 2, 2);
  CHECK(children.selected.back() == 2 * 2);  // every survivor a crossover child
  GanSettings gan;
  gan.method = GanMethod::Gan;
  CHECK(run_gan(gan, 1, 2).selected[0] == 2);
}

TEST(bad_settings_name_the_setting) {
  auto fails_with = [](GanSettings s, const char* word) {
    try {
      check_gan_settings(s);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what()).find(word) != std::string::npos;
    }
    return false;
  };
  GanSettings s;
  s.parents = 0;
  CHECK(fails_with(s, "parents"));
  s = GanSettings{};
  s.method = GanMethod::Gan;
  s.parents = 2;
  CHECK(fails_with(s, "parents"));
  s = GanSettings{};
  s.method = GanMethod::CeGan;
  s.crossovers = 4;  // 3 mutants make 3 pairs
  CHECK(fails_with(s, "crossovers"));
  s = GanSettings{};
  s.d_learning_rate = 0.0f;
  CHECK(fails_with(s, "learning rates"));
  s = GanSettings{};
  s.diversity_weight = -1.0f;
  CHECK(fails_with(s, "diversity_weight"));
  CHECK_THROWS_AS(gan_method_from_name("wgan"), std::invalid_argument);
  const Network g = tiny_generator();
  Network wide(1, 5);
  wide.dense(1, Activation::Identity);
  CHECK_THROWS_AS(Adversarial(g, wide, 1), std::invalid_argument);
}
