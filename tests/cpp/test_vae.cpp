// The variational layer and the VAE population (vae/): the layer's ops on a hand-worked case,
// against their plain twins lane by lane, the double twins against central differences; the
// population's gradient of the whole chain (encoder -> layer -> decoder, reconstruction + beta
// KL) against the ELBO twin member by member, the twin against central differences; the same
// bits at any thread count, a member alone or among others; copy_member; bad input.
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

#include "check.h"
#include "evoae/core/simd.h"
#include "evoae/vae/elbo_population.h"
#include "evoae/vae/reference_variational.h"
#include "evoae/vae/variational.h"

using evoae::Activation;
using evoae::Loss;
using evoae::Network;
using lanes::L;
namespace ref = evoae::reference;

namespace {

std::vector<double> doubles(std::mt19937& gen, std::size_t n, double lo = -1, double hi = 1) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = u(gen);
  return v;
}

// 3x3 images -> tanh 5 -> 2k = 4 (identity); 1 x 2 -> tanh 5 -> 9 (sigmoid) -> 3x3.
Network tiny_encoder() {
  Network net(3, 3);
  net.dense(5, Activation::Tanh).dense(4, Activation::Identity);
  return net;
}
Network tiny_decoder() {
  Network net(1, 2);
  net.dense(5, Activation::Tanh).dense(9).reshape(3, 3, 1);
  return net;
}

evoae::VaeSettings tiny_settings(std::size_t members, int threads, Loss loss) {
  evoae::VaeSettings s;
  s.members = members;
  s.reconstruction = loss;
  s.learning_rate = 0.01f;
  s.batch = 5;
  s.seed = 11;
  s.threads = threads;
  return s;
}

std::vector<float> tiny_genomes(std::size_t members, unsigned seed) {
  std::mt19937 gen(seed);
  const std::size_t G = tiny_encoder().num_params() + tiny_decoder().num_params();
  return random_buffer(gen, members * G, -0.8f, 0.8f);
}

}  // namespace

TEST(variational_layer_hand_worked) {
  // mu = 1, v = 0 (sigma 1); mu = -0.5, v = ln 4 (sigma 2): z = mu + sigma eps;
  // KL = (1 + 1 - 1 - 0)/2 + (0.25 + 4 - 1 - ln 4)/2.
  const std::vector<float> stats =
      lanes::broadcast({1.0f, -0.5f, 0.0f, static_cast<float>(std::log(4.0))});
  const float eps[2] = {0.5f, -1.0f};
  std::vector<float> z(2 * L);
  evoae::variational_forward(stats.data(), eps, 2, z.data());
  for (int l = 0; l < L; ++l) {
    CHECK_NEAR(z[l * 2], 1.5, 1e-6);
    CHECK_NEAR(z[l * 2 + 1], -2.5, 1e-6);
  }
  float kl[L];
  std::vector<float> dstats(4 * L, 0.0f);
  const std::vector<float> weight(L, 2.0f);
  evoae::gaussian_kl(stats.data(), 2, kl, weight.data(), dstats.data());
  const double want = 0.5 + (0.25 + 4 - 1 - std::log(4.0)) / 2;
  for (int l = 0; l < L; ++l) CHECK_NEAR(kl[l], want, 1e-6);
  // weight x (mu, (e^v - 1)/2): 2 x (1, -0.5, 0, 1.5)
  check_values(lanes::lane(dstats.data(), 4, 0), {2.0, -1.0, 0.0, 3.0}, 1e-5, "dKL");
  const std::vector<float> dz = lanes::broadcast({1.0f, 2.0f});
  evoae::variational_backward(stats.data(), eps, dz.data(), 2, dstats.data());
  // d mu = dz; d v = dz eps sigma / 2: 1 x 0.5 x 1 / 2, 2 x -1 x 2 / 2
  check_values(lanes::lane(dstats.data(), 4, L - 1), {1.0, 2.0, 0.25, -2.0}, 1e-6, "dstats");
}

TEST(variational_layer_fast_vs_twin) {
  constexpr int k = 7;
  std::mt19937 gen(5);
  const PerLane stats = lanes::random_per_lane(gen, 2 * k, -2, 2);
  const PerLane dz = lanes::random_per_lane(gen, k);
  std::vector<float> eps(k);
  evoae::variational_noise(3, 4, 5, k, eps.data());
  const std::vector<float> s = lanes::interleave(stats), d = lanes::interleave(dz);
  std::vector<float> z(k * L), dstats(2 * k * L), weights(L);
  for (int l = 0; l < L; ++l) weights[l] = 0.25f * l;
  float kl[L];
  evoae::variational_forward(s.data(), eps.data(), k, z.data());
  evoae::variational_backward(s.data(), eps.data(), d.data(), k, dstats.data());
  evoae::gaussian_kl(s.data(), k, kl, weights.data(), dstats.data());
  for (int l = 0; l < L; ++l) {
    std::vector<float> zt(k), dt(2 * k);
    ref::variational_forward<float>(stats[l].data(), eps.data(), k, zt.data());
    ref::variational_backward<float>(stats[l].data(), eps.data(), dz[l].data(), k, dt.data());
    const float klt = ref::gaussian_kl<float>(stats[l].data(), k, weights[l], dt.data());
    CHECK(max_abs_diff(std::vector<float>(z.begin() + l * k, z.begin() + (l + 1) * k), zt) <
          1e-5);
    CHECK(max_abs_diff(lanes::lane(dstats.data(), 2 * k, l), dt) < 1e-5);
    CHECK_NEAR(kl[l], klt, 1e-5 * std::fabs(klt));
  }
}

TEST(variational_twins_vs_central_differences) {
  // f(stats) = sum_j c_j z_j + w KL: its gradient is the layer's backward of c plus w dKL.
  constexpr int k = 5;
  constexpr double w = 0.7;
  std::mt19937 gen(6);
  std::vector<double> stats = doubles(gen, 2 * k, -1.5, 1.5);
  const std::vector<double> eps = doubles(gen, k, -2, 2), c = doubles(gen, k);
  std::vector<double> grad(2 * k);
  ref::variational_backward<double>(stats.data(), eps.data(), c.data(), k, grad.data());
  ref::gaussian_kl<double>(stats.data(), k, w, grad.data());
  const auto f = [&] {
    std::vector<double> z(k);
    ref::variational_forward<double>(stats.data(), eps.data(), k, z.data());
    double sum = w * ref::gaussian_kl<double>(stats.data(), k);
    for (int j = 0; j < k; ++j) sum += c[j] * z[j];
    return sum;
  };
  const double worst = max_relative(grad, central_differences(stats, f));
  std::printf("  layer twin vs central differences: %.3g\n", worst);
  CHECK(worst < 1e-7);
}

TEST(variational_noise_is_keyed) {
  std::vector<float> a(6), b(6), c(6);
  evoae::variational_noise(1, 2, 3, 6, a.data());
  evoae::variational_noise(1, 2, 3, 6, b.data());
  evoae::variational_noise(1, 2, 4, 6, c.data());
  CHECK(a == b);
  CHECK(a != c);
  double mean = 0, square = 0;  // N(0, 1): 10,000 draws
  std::vector<float> many(10000);
  evoae::variational_noise(9, 0, 0, 10000, many.data());
  for (float x : many) mean += x / 1e4, square += double(x) * x / 1e4;
  CHECK_NEAR(mean, 0.0, 0.04);
  CHECK_NEAR(square, 1.0, 0.05);
}

TEST(elbo_twin_vs_central_differences) {
  const Network enc = tiny_encoder(), dec = tiny_decoder();
  std::mt19937 gen(7);
  for (Loss loss : {Loss::BinaryCrossEntropy, Loss::MeanSquared}) {
    std::vector<double> genome = doubles(gen, enc.num_params() + dec.num_params(), -0.8, 0.8);
    const std::vector<double> image = doubles(gen, 9, 0.05, 0.95), eps = doubles(gen, 2);
    std::vector<double> grads(genome.size(), 0.0);
    ref::elbo<double>(enc, dec, loss, genome.data(), image.data(), eps.data(), 1.7,
                      grads.data());
    const auto f = [&] {
      const auto [recon, kl] =
          ref::elbo<double>(enc, dec, loss, genome.data(), image.data(), eps.data(), 1.7);
      return recon + 1.7 * kl;
    };
    const double worst = max_relative(grads, central_differences(genome, f));
    std::printf("  %s: ELBO twin vs central differences: %.3g\n", evoae::loss_name(loss),
                worst);
    CHECK(worst < 1e-6);
  }
}

TEST(population_gradient_vs_elbo_twin) {
  // Members with betas 0, 0.5, 1, ... each against the twin's mean over the step's batch, with
  // the noise of each image at step 0. 3 members in 1 group; 19 in 2 (the second partly
  // padding) at 8 or 16 lanes.
  const Network enc = tiny_encoder(), dec = tiny_decoder();
  const std::size_t G = enc.num_params() + dec.num_params(), S = 12;
  const std::vector<float> images = random_images_of(S, 9, 8);
  for (Loss loss : {Loss::BinaryCrossEntropy, Loss::MeanSquared})
    for (std::size_t P : {std::size_t(3), std::size_t(19)}) {
      const std::vector<float> genomes = tiny_genomes(P, 9);
      evoae::VaePopulation pop(enc, dec, images, 10, tiny_settings(P, 2, loss), genomes);
      std::vector<double> betas(P), recon(P), kl(P);
      for (std::size_t m = 0; m < P; ++m) betas[m] = 0.5 * m;
      std::vector<float> grads(P * G);
      pop.gradient(betas.data(), recon.data(), kl.data(), grads.data());
      const std::vector<std::size_t> rows = pop.batch_rows();
      CHECK(rows.size() == 5 && rows.back() < 10);
      double worst = 0;
      for (std::size_t m = 0; m < P; ++m) {
        std::vector<double> genome(genomes.begin() + m * G, genomes.begin() + (m + 1) * G);
        std::vector<double> want(G, 0.0);
        double r = 0, q = 0;
        for (std::size_t row : rows) {
          std::vector<float> eps(2);
          evoae::variational_noise(11, 0, row, 2, eps.data());
          const std::vector<double> image(images.begin() + row * 9,
                                          images.begin() + (row + 1) * 9);
          const std::vector<double> e(eps.begin(), eps.end());
          const auto [rr, qq] = ref::elbo<double>(enc, dec, loss, genome.data(), image.data(),
                                                  e.data(), betas[m], want.data());
          r += rr / 5, q += qq / 5;
        }
        for (double& g : want) g /= 5;
        worst = std::max(worst, max_relative(std::vector<double>(grads.begin() + m * G,
                                                                 grads.begin() + (m + 1) * G),
                                             want));
        CHECK_NEAR(recon[m], r, 1e-5 * r);
        CHECK_NEAR(kl[m], q, 1e-5 * q + 1e-6);
      }
      std::printf("  %s, %zu members: max relative |gradient - twin| = %.3g\n",
                  evoae::loss_name(loss), P, worst);
      CHECK(worst < 1e-5);
    }
}

TEST(population_same_bits_at_any_thread_count_and_alone) {
  const Network enc = tiny_encoder(), dec = tiny_decoder();
  const std::size_t G = enc.num_params() + dec.num_params(), P = 5;
  const std::vector<float> images = random_images_of(12, 9, 10), genomes = tiny_genomes(P, 11);
  auto run = [&](std::size_t members, int threads, const std::vector<float>& start) {
    evoae::VaePopulation pop(enc, dec, images, 10, tiny_settings(members, threads,
                                                                 Loss::BinaryCrossEntropy),
                             start);
    std::vector<double> betas(members), recon(members), kl(members);
    for (std::size_t m = 0; m < members; ++m) betas[m] = 0.3 + m;
    for (int s = 0; s < 4; ++s) pop.step(betas.data(), recon.data(), kl.data());
    return pop.genomes();
  };
  const std::vector<float> one = run(P, 1, genomes), three = run(P, 3, genomes);
  CHECK(std::memcmp(one.data(), three.data(), one.size() * sizeof(float)) == 0);
  const std::vector<float> first(genomes.begin(), genomes.begin() + G);
  const std::vector<float> alone = run(1, 2, first);  // member 0 (beta 0.3) on its own
  CHECK(std::memcmp(alone.data(), one.data(), G * sizeof(float)) == 0);
  CHECK(one != genomes);
}

TEST(population_copy_member_copies_weights_and_moments) {
  // After copy_member(0, 2), members 0 and 2 with the same beta stay equal bit for bit: the
  // weights and Adam's moments were copied (weights alone would differ at the next step).
  const Network enc = tiny_encoder(), dec = tiny_decoder();
  const std::size_t G = enc.num_params() + dec.num_params(), P = 3;
  const std::vector<float> images = random_images_of(12, 9, 12);
  evoae::VaePopulation pop(enc, dec, images, 10, tiny_settings(P, 2, Loss::MeanSquared),
                           tiny_genomes(P, 13));
  std::vector<double> betas{1.0, 2.0, 1.0}, recon(P), kl(P);
  for (int s = 0; s < 3; ++s) pop.step(betas.data(), recon.data(), kl.data());
  pop.copy_member(0, 2);
  for (int s = 0; s < 3; ++s) pop.step(betas.data(), recon.data(), kl.data());
  const std::vector<float> g = pop.genomes();
  CHECK(std::memcmp(g.data(), g.data() + 2 * G, G * sizeof(float)) == 0);
  CHECK(std::memcmp(g.data(), g.data() + G, G * sizeof(float)) != 0);
  CHECK(recon[0] == recon[2] && kl[0] == kl[2]);
  CHECK_THROWS_AS(pop.copy_member(0, 3), std::invalid_argument);
}

TEST(population_evaluate_matches_the_twin) {
  const Network enc = tiny_encoder(), dec = tiny_decoder();
  const std::size_t G = enc.num_params() + dec.num_params(), P = 2, S = 6;
  const std::vector<float> images = random_images_of(S, 9, 14), genomes = tiny_genomes(P, 15);
  evoae::VaePopulation pop(enc, dec, images, S, tiny_settings(P, 2, Loss::BinaryCrossEntropy),
                           genomes);
  std::vector<double> recon(P * S), kl(P * S);
  pop.evaluate(images.data(), S, 77, recon.data(), kl.data());
  for (std::size_t m = 0; m < P; ++m)
    for (std::size_t i = 0; i < S; ++i) {
      std::vector<float> eps(2);
      evoae::variational_noise(11, 77, i, 2, eps.data());
      const std::vector<double> genome(genomes.begin() + m * G, genomes.begin() + (m + 1) * G);
      const std::vector<double> image(images.begin() + i * 9, images.begin() + (i + 1) * 9);
      const std::vector<double> e(eps.begin(), eps.end());
      const auto [r, q] = ref::elbo<double>(enc, dec, Loss::BinaryCrossEntropy, genome.data(),
                                            image.data(), e.data(), 1.0);
      CHECK_NEAR(recon[m * S + i], r, 1e-5 * r);
      CHECK_NEAR(kl[m * S + i], q, 1e-5 * q + 1e-6);
    }
}

TEST(population_refuses_bad_input) {
  const Network enc = tiny_encoder(), dec = tiny_decoder();
  const std::vector<float> images = random_images_of(12, 9, 16), genomes = tiny_genomes(2, 17);
  const auto make = [&](const Network& e, const Network& d, std::size_t train,
                        evoae::VaeSettings s, const std::vector<float>& g) {
    evoae::VaePopulation pop(e, d, images, train, s, g);
  };
  const evoae::VaeSettings ok = tiny_settings(2, 1, Loss::BinaryCrossEntropy);
  Network odd(3, 3);
  odd.dense(3);
  Network wide(1, 3);
  wide.dense(9).reshape(3, 3, 1);
  CHECK_THROWS_AS(make(odd, dec, 10, ok, genomes), std::invalid_argument);
  CHECK_THROWS_AS(make(enc, wide, 10, ok, genomes), std::invalid_argument);
  CHECK_THROWS_AS(make(enc, dec, 13, ok, genomes), std::invalid_argument);
  CHECK_THROWS_AS(make(enc, dec, 4, ok, genomes), std::invalid_argument);  // batch 5 > 4
  evoae::VaeSettings mae = ok;
  mae.reconstruction = Loss::MeanAbsolute;
  CHECK_THROWS_AS(make(enc, dec, 10, mae, genomes), std::invalid_argument);
  CHECK_THROWS_AS(make(enc, dec, 10, ok, tiny_genomes(3, 17)), std::invalid_argument);
  std::vector<float> nan = genomes;
  nan[4] = NAN;
  CHECK_THROWS_AS(make(enc, dec, 10, ok, nan), std::invalid_argument);
  evoae::VaePopulation pop(enc, dec, images, 10, ok, genomes);
  std::vector<double> betas{1.0, -1.0}, recon(2), kl(2);
  CHECK_THROWS_AS(pop.step(betas.data(), recon.data(), kl.data()), std::invalid_argument);
  CHECK(pop.steps() == 0);
}
