// The evolution loop of the original system on a small network and a few random images:
// elitism, shared mutation positions, tie-breaking, the cached elite error, determinism
// across thread counts, initial values and invalid settings. Also PopulationEvaluator, which
// runs genomes in blocks of 8 SIMD lanes: against reference::network_forward for populations
// that are not a multiple of 8, and exactly equal for any thread count.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <utility>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.h"
#include "evoae/evo/evolution.h"
#include "evoae/eval/population.h"
#include "evoae/nn/reference_ops.h"

using evoae::Evolution;
using evoae::EvolutionSettings;
using evoae::Network;
using evoae::PopulationEvaluator;

namespace {

constexpr std::size_t kParams = 95;  // small_network()'s

std::vector<float> all_genomes(const Evolution& evo) {
  std::vector<float> v;
  for (int a = 0; a < evo.settings().population; ++a) {
    const std::vector<float> g = genome_of(evo, a);
    v.insert(v.end(), g.begin(), g.end());
  }
  return v;
}

}  // namespace

TEST(small_network_is_an_autoencoder) {
  const Network net = small_network();
  CHECK(net.num_params() == kParams);
  CHECK(net.input_shape() == net.output_shape());
}

TEST(best_error_never_rises) {
  const std::vector<float> images = random_images(3);
  Evolution evo(small_network(), images, 3, settings(8, 3, 7, 2));
  CHECK(evo.history().size() == 1u);
  for (int gen = 0; gen < 50; ++gen) evo.step();
  const std::vector<double>& h = evo.history();
  CHECK(evo.generation() == 50);
  CHECK(h.size() == 51u);
  for (std::size_t i = 1; i < h.size(); ++i) CHECK(h[i] <= h[i - 1]);
  CHECK(h.back() == evo.best_error());
  CHECK(h.back() < h.front());  // 50 generations of 7 mutants do find something better
  std::printf("  best error: %.6f -> %.6f after 50 generations\n", h.front(), h.back());
  // 8 agents x 3 images at the start, then 7 mutants x 3 images per generation.
  CHECK(evo.evaluations() == 8u * 3u + 50u * 7u * 3u);
}

TEST(agent_0_is_the_previous_best) {
  const std::vector<float> images = random_images(2);
  Evolution evo(small_network(), images, 2, settings(6, 5, 3, 2));
  int moved = 0;  // generations where the best was not agent 0 before the step
  for (int gen = 0; gen < 30; ++gen) {
    const std::vector<float> best = genome_of(evo, evo.best_index());
    const double best_error = evo.best_error();
    moved += evo.best_index() != 0;
    evo.step();
    const float* g0 = evo.genome(0);  // the public const accessor, on a non-const Evolution
    CHECK(std::vector<float>(g0, g0 + kParams) == best);
    CHECK(genome_of(evo, 0) == best);
    CHECK(evo.errors()[0] == best_error);
  }
  CHECK(moved > 0);  // the copy from a non-zero index was exercised
}

TEST(mutations_share_positions) {
  const std::vector<float> images = random_images(2);
  const int P = 10, M = 4;
  Evolution evo(small_network(), images, 2, settings(P, M, 5, 2));
  for (int gen = 0; gen < 10; ++gen) {
    evo.step();
    const std::vector<float> elite = genome_of(evo, 0), first = genome_of(evo, 1);
    std::set<std::size_t> shared;
    bool independent_values = false;  // another agent got another value than agent 1
    for (int a = 1; a < P; ++a) {
      const std::vector<float> g = genome_of(evo, a);
      std::size_t differing = 0;
      for (std::size_t i = 0; i < kParams; ++i) {
        if (g[i] == elite[i]) continue;
        ++differing;
        shared.insert(i);
        CHECK(std::fabs(g[i] - elite[i]) <= M);  // at most M draws of U(-1, 1) at one index
        if (first[i] != elite[i] && g[i] != first[i]) independent_values = true;
      }
      CHECK(differing >= 1);
      CHECK(differing <= static_cast<std::size_t>(M));
    }
    // Every agent's positions come from one set of at most M, drawn once per generation.
    if (shared.size() > static_cast<std::size_t>(M))
      std::printf("  generation %d: %zu distinct mutated positions over all agents, at most %d "
                  "expected\n", gen + 1, shared.size(), M);
    CHECK(shared.size() <= static_cast<std::size_t>(M));
    CHECK(independent_values);
  }
}

TEST(one_mutation_one_position) {
  const std::vector<float> images = random_images(2);
  Evolution evo(small_network(), images, 2, settings(7, 1, 9, 1));
  for (int gen = 0; gen < 5; ++gen) {
    evo.step();
    const std::vector<float> elite = genome_of(evo, 0);
    std::set<std::size_t> positions;
    for (int a = 1; a < 7; ++a) {
      const std::vector<float> g = genome_of(evo, a);
      for (std::size_t i = 0; i < kParams; ++i)
        if (g[i] != elite[i]) positions.insert(i);
    }
    CHECK(positions.size() == 1u);
  }
}

TEST(ties_go_to_the_lowest_index_no_mutation) {
  // With 0 mutations every agent is a copy of the best: all errors tie, agent 0 wins.
  const std::vector<float> images = random_images(2);
  Evolution evo(small_network(), images, 2, settings(5, 0, 4, 2));
  for (int gen = 0; gen < 3; ++gen) {
    evo.step();
    CHECK(evo.best_index() == 0u);
    for (double e : evo.errors()) CHECK(e == evo.errors()[0]);
  }
}

TEST(ties_go_to_the_lowest_index_not_zero) {
  // Network 1x1 -> conv(1, 1, 1): y = ReLU(k * x). On the image x = -1 every agent with
  // k >= 0 outputs 0 and has error exactly 1; an agent with k < 0 has error 1 - k > 1.
  // Find a seed where agent 0 has k < 0 and at least two agents tie at 1.
  bool found = false;
  for (std::uint64_t seed = 0; seed < 200 && !found; ++seed) {
    Evolution evo(Network(1, 1).conv(1, 1, 1), {-1.0f}, 1, settings(6, 1, seed, 1));
    std::vector<std::size_t> ties;
    for (std::size_t a = 0; a < 6; ++a)
      if (genome_of(evo, a)[0] >= 0.0f) ties.push_back(a);
    if (genome_of(evo, 0)[0] >= 0.0f || ties.size() < 2) continue;
    found = true;
    std::printf("  seed %llu: agents", static_cast<unsigned long long>(seed));
    for (std::size_t a : ties) std::printf(" %zu", a);
    std::printf(" tie at error 1\n");
    for (std::size_t a : ties) CHECK(evo.errors()[a] == 1.0);
    CHECK(evo.errors()[0] > 1.0);
    CHECK(evo.best_index() == ties.front());
    CHECK(evo.best_error() == 1.0);
  }
  CHECK(found);
}

TEST(cached_elite_error_equals_fresh_evaluation) {
  const std::vector<float> images = random_images(3);
  const int P = 6;
  Evolution evo(small_network(), images, 3, settings(P, 4, 11, 2));
  PopulationEvaluator fresh(evo.network(), 1);
  for (int gen = 0; gen < 15; ++gen) {
    evo.step();
    double e = -1;
    fresh.errors(evo.best_genome(), 1, images.data(), images.data(), 3, &e);
    CHECK(e == evo.best_error());
    fresh.errors(genome_of(evo, 0).data(), 1, images.data(), images.data(), 3, &e);
    CHECK(e == evo.errors()[0]);  // the cached error of agent 0
    const std::vector<float> genomes = all_genomes(evo);
    std::vector<double> all(P);
    fresh.errors(genomes.data(), P, images.data(), images.data(), 3, all.data());
    CHECK(all == evo.errors());
  }
}

TEST(same_seed_same_run_for_any_thread_count) {
  const std::vector<float> images = random_images(3);
  Evolution one(small_network(), images, 3, settings(9, 6, 42, 1));
  Evolution two(small_network(), images, 3, settings(9, 6, 42, 2));
  Evolution three(small_network(), images, 3, settings(9, 6, 42, 3));
  for (int gen = 0; gen < 40; ++gen) {
    one.step();
    two.step();
    three.step();
  }
  CHECK(one.history() == two.history());
  CHECK(one.history() == three.history());
  CHECK(one.errors() == two.errors());
  CHECK(all_genomes(one) == all_genomes(two));
  CHECK(all_genomes(one) == all_genomes(three));
  CHECK(one.best_index() == two.best_index());
  CHECK(one.history().back() < one.history().front());  // it did move
}

TEST(different_seeds_differ) {
  const std::vector<float> images = random_images(2);
  Evolution a(small_network(), images, 2, settings(6, 3, 1, 1));
  Evolution b(small_network(), images, 2, settings(6, 3, 2, 1));
  CHECK(genome_of(a, 0) != genome_of(b, 0));
  for (int gen = 0; gen < 10; ++gen) a.step(), b.step();
  CHECK(a.history() != b.history());
  CHECK(all_genomes(a) != all_genomes(b));
}

TEST(initial_genomes_uniform_in_pm1) {
  const std::vector<float> images = random_images(1);
  const int P = 12;
  Evolution evo(small_network(), images, 1, settings(P, 3, 8, 1));
  double lo = 2, hi = -2, sum = 0;
  for (float v : all_genomes(evo)) {
    CHECK(v >= -1.0f && v <= 1.0f);
    lo = std::min<double>(lo, v);
    hi = std::max<double>(hi, v);
    sum += v;
  }
  const double mean = sum / (P * kParams);
  std::printf("  %d initial values: min %.4f max %.4f mean %.4f\n", static_cast<int>(P * kParams),
              lo, hi, mean);
  CHECK(lo < -0.95);  // the whole range [-1, 1] is used, not [0, 1]
  CHECK(hi > 0.95);
  CHECK(std::fabs(mean) < 0.1);
  for (int a = 1; a < P; ++a) CHECK(genome_of(evo, a) != genome_of(evo, 0));
  // The Varadi network too.
  Evolution varadi(evoae::varadi_network(), std::vector<float>(784, 0.5f), 1,
                   settings(3, 10, 8, 1));
  for (float v : all_genomes(varadi)) CHECK(v >= -1.0f && v <= 1.0f);
}

TEST(invalid_settings_throw) {
  using std::invalid_argument;
  const std::vector<float> one = random_images(1), two = random_images(2);
  const Network net = small_network();
  CHECK_THROWS_AS(Evolution(net, one, 1, settings(0, 3, 1, 1)), invalid_argument);
  CHECK_THROWS_AS(Evolution(net, one, 1, settings(-2, 3, 1, 1)), invalid_argument);
  CHECK_THROWS_AS(Evolution(net, one, 1, settings(4, -1, 1, 1)), invalid_argument);
  CHECK_THROWS_AS(Evolution(net, {}, 0, settings(4, 3, 1, 1)), invalid_argument);
  CHECK_THROWS_AS(Evolution(net, two, 1, settings(4, 3, 1, 1)), invalid_argument);  // size
  CHECK_THROWS_AS(Evolution(net, one, 2, settings(4, 3, 1, 1)), invalid_argument);
  // output shape differs from the input shape: 6x6x1 -> 4x4x1, and 6x6x1 -> 6x6x2
  CHECK_THROWS_AS(Evolution(Network(6, 6).conv(3, 3, 1), one, 1, settings(4, 3, 1, 1)),
                  invalid_argument);
  CHECK_THROWS_AS(Evolution(Network(6, 6).conv(1, 1, 2), one, 1, settings(4, 3, 1, 1)),
                  invalid_argument);
  // same number of values, other shape: 4x4x1 -> 2x2x4
  CHECK_THROWS_AS(Evolution(Network(4, 4).dense(16).reshape(2, 2, 4),
                            std::vector<float>(16, 0.5f), 1, settings(4, 3, 1, 1)),
                  invalid_argument);
  // and the valid neighbours do not throw
  Evolution ok1(net, one, 1, settings(1, 0, 1, 1));
  ok1.step();
  CHECK(ok1.generation() == 1);
  Evolution ok2(Network(6, 6).conv(1, 1, 1), one, 1, settings(2, 1, 1, 1));
  CHECK(ok2.best_index() < 2u);
}

// Settings beyond the table's bounds, mutations beyond 10 per parameter, and populations whose
// genomes would not fit the memory limit are refused before anything is allocated.
TEST(settings_beyond_the_limits_throw_before_allocating) {
  using std::invalid_argument;
  const std::vector<float> one = random_images(1);
  const Network net = small_network();  // 95 parameters
  CHECK_THROWS_AS(Evolution(net, one, 1, settings(4, 951)), invalid_argument);
  CHECK(Evolution(net, one, 1, settings(4, 950)).generation() == 0);
  CHECK_THROWS_AS(Evolution(net, one, 1, settings(10000001, 3)), invalid_argument);
  CHECK_THROWS_AS(Evolution(net, one, 1, settings(4, 3, 1, 1025)), invalid_argument);
  // 10^7 agents x 95 parameters x 4 bytes x 3 copies is 10.6 GiB
  try {
    Evolution(net, one, 1, settings(10000000, 3));
    CHECK(false);
  } catch (const invalid_argument& e) {
    const std::string what = e.what();
    CHECK(what.find("population 10000000 x 95 parameters") != std::string::npos);
    CHECK(what.find("more than the limit of 8.0 GiB") != std::string::npos);
  }
  evoae::EvolutionSettings s = settings(4, 3);
  s.seed = std::uint64_t{1} << 63;  // beyond the table's 2^63 - 1
  CHECK_THROWS_AS(Evolution(net, one, 1, s), invalid_argument);
}

TEST(parameterless_network) {
  // maxpool + unpool is an autoencoder with no parameters: nothing to mutate, so asking for
  // mutations is an error (it used to draw indices below 0); with 0 mutations it just runs.
  using std::invalid_argument;
  const std::vector<float> image(16, 0.5f);
  CHECK(Network(4, 4).maxpool().unpool().num_params() == 0u);
  CHECK_THROWS_AS(Evolution(Network(4, 4).maxpool().unpool(), image, 1, settings(4, 2, 1, 1)),
                  invalid_argument);
  CHECK_THROWS_AS(Evolution(Network(4, 4).maxpool().unpool(), image, 1, settings(1, 1, 1, 1)),
                  invalid_argument);
  Evolution evo(Network(4, 4).maxpool().unpool(), image, 1, settings(3, 0, 1, 2));
  CHECK(evo.best_error() == 0.0);  // a constant image survives pool + unpool exactly
  evo.step();
  CHECK(evo.generation() == 1);
  CHECK(evo.errors() == std::vector<double>(3, 0.0));
}

TEST(advance_stops) {
  const std::vector<float> images = random_images(1);
  Evolution evo(small_network(), images, 1, settings(4, 2, 6, 1));
  CHECK(evo.advance(5, 1e9, -1.0) == 5);
  CHECK(evo.generation() == 5);
  CHECK(evo.advance(100, 1e9, 1e30) == 0);  // target already reached
  CHECK(evo.advance(100, 0.0, -1.0) == 1);  // time is checked after each generation
  CHECK(evo.generation() == 6);
  CHECK(evo.history().size() == 7u);
}

namespace {

// Evaluator outputs and errors for one (net, P, S, threads) call, written into buffers with a
// guard of sentinels after them, as long as a whole item: empty lanes must not be written.
struct Evaluated {
  std::vector<float> out;
  std::vector<double> errors;
};
constexpr float kSentinel = -31337.0f;

Evaluated evaluate(PopulationEvaluator& ev, const std::vector<float>& genomes, std::size_t P,
                   const std::vector<float>& inputs, const std::vector<float>& targets,
                   std::size_t S, std::size_t N) {
  Evaluated r;
  r.out.assign((P * S + lanes::L) * N, kSentinel);
  ev.forward(genomes.data(), P, inputs.data(), S, r.out.data());
  bool guard_intact = true;
  for (std::size_t i = P * S * N; i < r.out.size(); ++i) guard_intact &= r.out[i] == kSentinel;
  CHECK(guard_intact);
  r.out.resize(P * S * N);
  r.errors.assign(P + lanes::L, -1.0);
  ev.errors(genomes.data(), P, inputs.data(), targets.data(), S, r.errors.data());
  for (std::size_t i = P; i < r.errors.size(); ++i) CHECK(r.errors[i] == -1.0);
  r.errors.resize(P);
  return r;
}

}  // namespace

// PopulationEvaluator runs (genome, image) pairs 8 to an item: blocks of 8 genomes on one
// image, then the pairs of the last P % 8 genomes packed together (several images in one
// item, empty lanes only in the last). For P not a multiple of 8 and several S, every
// genome's outputs match reference::network_forward, match Network::forward with that genome
// in every lane bit for bit (so a result does not depend on its lane, its neighbours or its
// item), and are identical for 1, 2 and 3 threads.
TEST(evaluator_matches_reference_network) {
  std::vector<std::pair<const char*, Network>> nets;
  nets.emplace_back("small", small_network());
  nets.emplace_back("varadi", evoae::varadi_network());
  std::vector<std::pair<std::size_t, std::size_t>> population_and_images;
  for (std::size_t S : {1, 3, 10})
    for (std::size_t P : {1, 7, 9, 19}) population_and_images.emplace_back(P, S);
  std::mt19937 gen(31);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (const auto& [name, net] : nets) {
    const std::size_t G = net.num_params(), N = net.output_shape().size();
    double worst_out = 0.0, worst_error = 0.0;
    for (const auto& [P, S] : population_and_images) {
      const std::vector<float> inputs = random_images_of(S, N, 1);
      const std::vector<float> targets = random_images_of(S, N, 2);
      std::vector<float> genomes(P * G);
      for (float& x : genomes) x = u(gen);
      // The reference: one genome, one image at a time.
      std::vector<float> expected(P * S * N);
      std::vector<double> expected_errors(P, 0.0);
      for (std::size_t g = 0; g < P; ++g)
        for (std::size_t s = 0; s < S; ++s) {
          const std::vector<float> y =
              evoae::reference::network_forward(net, &genomes[g * G], &inputs[s * N]);
          std::copy(y.begin(), y.end(), &expected[(g * S + s) * N]);
          for (std::size_t p = 0; p < N; ++p)
            expected_errors[g] += std::fabs(static_cast<double>(y[p]) - targets[s * N + p]);
        }
      // Network::forward with genome g in all 8 lanes: every lane the same, bit for bit.
      std::vector<float> fast(P * S * N);
      evoae::Workspace ws(net);
      for (std::size_t g = 0; g < P; ++g) {
        const std::vector<float> one(&genomes[g * G], &genomes[g * G] + G);
        const std::vector<float> all = lanes::broadcast(one);
        for (std::size_t s = 0; s < S; ++s) {
          const float* y = net.forward(all.data(), &inputs[s * N], ws);
          const std::vector<float> lane0 = lanes::lane(y, N, 0);
          for (int l = 1; l < lanes::L; ++l) CHECK(lanes::lane(y, N, l) == lane0);
          std::copy(lane0.begin(), lane0.end(), &fast[(g * S + s) * N]);
        }
      }

      Evaluated first;
      for (int threads : {1, 2, 3}) {
        PopulationEvaluator ev(net, threads);
        CHECK(ev.threads() == threads);
        const Evaluated r = evaluate(ev, genomes, P, inputs, targets, S, N);
        CHECK(r.out == fast);
        for (std::size_t i = 0; i < r.out.size(); ++i) {
          const double d = std::fabs(static_cast<double>(r.out[i]) - expected[i]);
          worst_out = std::max(worst_out, std::isnan(d) ? INFINITY : d);
        }
        for (std::size_t g = 0; g < P; ++g) {
          const double d = std::fabs(r.errors[g] - expected_errors[g]) / S;
          worst_error = std::max(worst_error, std::isnan(d) ? INFINITY : d);
        }
        if (threads == 1) {
          first = r;
        } else {  // exactly the same numbers for any thread count
          CHECK(r.out == first.out);
          CHECK(r.errors == first.errors);
        }
        // A smaller call after a larger one reuses the buffers correctly, and a genome alone
        // (lane 0 of its own block) gets exactly its result from the batch.
        const std::size_t g = P - 1;
        const std::vector<float> alone(&genomes[g * G], &genomes[g * G] + G);
        const Evaluated one = evaluate(ev, alone, 1, inputs, targets, S, N);
        CHECK(one.errors[0] == r.errors[g]);
        CHECK(std::equal(one.out.begin(), one.out.end(), r.out.begin() + g * S * N));
      }
    }
    std::printf("  %s, P = 1, 7, 9, 19, S = 1, 3, 10, threads 1-3: max |forward - "
                "reference::network_forward| = %.3g, max |errors - reference errors| / S = %.3g\n",
                name, worst_out, worst_error);
    CHECK(worst_out < 1e-5);
    CHECK(worst_error < 1e-4);  // per image: a sum of N |differences| in float rows of 32
  }
}
