// The evolution operators of operators.h, each on a case small enough to check by hand (the
// random draws are replayed from an Rng with the same key), and the general loop of
// evolution.h that uses them: the default settings are the original loop exactly, elites,
// selections, crossovers, step-size controls, mini-batches, fitness functions, patience, a
// restored state that continues bit for bit, the same run on any thread count, and the errors
// for impossible settings.
#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.h"
#include "evoae/evo/evolution.h"
#include "evoae/evo/operators.h"
#include "evoae/eval/population.h"
#include "evoae/core/rng.h"

using namespace evoae;

namespace {

std::vector<std::vector<float>> all_genomes(const Evolution& e) {
  std::vector<std::vector<float>> v;
  for (int a = 0; a < e.settings().population; ++a) v.push_back(genome_of(e, a));
  return v;
}

bool same_run(const Evolution& a, const Evolution& b) {
  return a.history() == b.history() && a.errors() == b.errors() && a.sigmas() == b.sigmas() &&
         a.sigma() == b.sigma() && all_genomes(a) == all_genomes(b) &&
         a.generation() == b.generation() && a.evaluations() == b.evaluations();
}

Rng test_rng() { return Rng(99, RngPurpose::MutationValues, 4, 2); }

}  // namespace

// --- names --------------------------------------------------------------------------------

TEST(names_round_trip_and_unknown_names_list_the_choices) {
  for (const std::string& n : mutation_names()) CHECK(name(parse_mutation(n)) == n);
  for (const std::string& n : step_control_names()) CHECK(name(parse_step_control(n)) == n);
  for (const std::string& n : crossover_names()) CHECK(name(parse_crossover(n)) == n);
  for (const std::string& n : selection_names()) CHECK(name(parse_selection(n)) == n);
  for (const std::string& n : fitness_names()) CHECK(name(parse_fitness(n)) == n);
  CHECK(mutation_names().front() == "original");  // the defaults come first
  CHECK(selection_names().front() == "copy-best");
  CHECK(fitness_names().front() == "sae");
  try {
    parse_mutation("gauss");
    CHECK(false);
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    CHECK(what.find("'gauss'") != std::string::npos);
    CHECK(what.find("gaussian-all") != std::string::npos);
  }
  CHECK_THROWS_AS(parse_selection("best"), std::invalid_argument);
  CHECK_THROWS_AS(parse_fitness("mae"), std::invalid_argument);
}

// --- mutation -------------------------------------------------------------------------------

TEST(mutation_original_adds_sigma_u_at_the_shared_indices) {
  // genome [1, 1, 1, 1], shared indices {2, 0, 2}, sigma 0.5: g[2] += 0.5 u1 + 0.5 u3,
  // g[0] += 0.5 u2, others unchanged; u1, u2, u3 are the stream's first three uniforms.
  std::vector<float> g(4, 1.0f);
  const std::size_t shared[] = {2, 0, 2};
  Rng rng = test_rng(), replay = test_rng();
  mutate(Mutation::Original, g.data(), 4, 3, shared, 0.5f, rng);
  const float u1 = replay.uniform_pm1(), u2 = replay.uniform_pm1(), u3 = replay.uniform_pm1();
  CHECK(g[0] == 1.0f + 0.5f * u2);
  CHECK(g[1] == 1.0f);
  CHECK(g[2] == (1.0f + 0.5f * u1) + 0.5f * u3);
  CHECK(g[3] == 1.0f);
  // sigma 1 adds exactly u, as the original does
  std::vector<float> h(4, 0.25f);
  Rng rng1 = test_rng();
  mutate(Mutation::Original, h.data(), 4, 1, shared, 1.0f, rng1);
  CHECK(h[2] == 0.25f + u1);
}

TEST(mutation_per_agent_draws_index_then_value) {
  std::vector<float> g = {0, 0, 0, 0, 0, 0, 0, 0};
  Rng rng = test_rng(), replay = test_rng();
  mutate(Mutation::PerAgent, g.data(), 8, 2, nullptr, 2.0f, rng);
  std::vector<float> expected(8, 0.0f);
  for (int j = 0; j < 2; ++j) {
    const std::size_t i = replay.index(8);
    expected[i] += 2.0f * replay.uniform_pm1();
  }
  CHECK(g == expected);
}

TEST(mutation_gaussian_on_k_and_on_all) {
  std::vector<float> g(5, 1.0f);
  Rng rng = test_rng(), replay = test_rng();
  mutate(Mutation::Gaussian, g.data(), 5, 1, nullptr, 0.1f, rng);
  std::vector<float> expected(5, 1.0f);
  const std::size_t i = replay.index(5);
  expected[i] += 0.1f * replay.normal();
  CHECK(g == expected);

  // all 5 weights: two pairs of Box-Muller normals and the first of a third pair
  std::vector<float> all = {1, 2, 3, 4, 5};
  Rng rng2 = test_rng(), replay2 = test_rng();
  mutate(Mutation::GaussianAll, all.data(), 5, 0, nullptr, 0.5f, rng2);
  float z[6];
  replay2.normal_pair(z[0], z[1]);
  replay2.normal_pair(z[2], z[3]);
  z[4] = replay2.normal();
  for (int k = 0; k < 5; ++k) CHECK(all[k] == static_cast<float>(k + 1) + 0.5f * z[k]);
  for (int k = 0; k < 5; ++k) CHECK(all[k] != static_cast<float>(k + 1));
}

TEST(mutation_reset_and_zero) {
  // G = 1: the one weight is replaced by a new U(-1, 1) value, or set to 0.
  float g = 5.0f;
  Rng rng = test_rng(), replay = test_rng();
  mutate(Mutation::Reset, &g, 1, 1, nullptr, 1.0f, rng);
  CHECK(replay.index(1) == 0u);
  CHECK(g == replay.uniform_pm1());
  CHECK(g >= -1.0f && g < 1.0f);
  float z = 5.0f;
  Rng rng2 = test_rng();
  mutate(Mutation::Zero, &z, 1, 1, nullptr, 1.0f, rng2);
  CHECK(z == 0.0f);
  // [1..6], k = 3: exactly the drawn positions become 0, the rest stay.
  std::vector<float> v = {1, 2, 3, 4, 5, 6};
  Rng rng3 = test_rng(), replay3 = test_rng();
  mutate(Mutation::Zero, v.data(), 6, 3, nullptr, 1.0f, rng3);
  std::vector<float> expected = {1, 2, 3, 4, 5, 6};
  for (int j = 0; j < 3; ++j) expected[replay3.index(6)] = 0.0f;
  CHECK(v == expected);
  CHECK(!has_step_size(Mutation::Zero) && !has_step_size(Mutation::Reset));
  CHECK(has_step_size(Mutation::Original) && has_step_size(Mutation::GaussianAll));
}

TEST(normal_draws_have_mean_0_and_sd_1) {
  Rng rng(3, RngPurpose::MutationValues, 1, 1);
  double sum = 0, sq = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double z = rng.normal();
    sum += z;
    sq += z * z;
  }
  const double mean = sum / n, sd = std::sqrt(sq / n - mean * mean);
  std::printf("  %d normals: mean %.4f sd %.4f\n", n, mean, sd);
  CHECK(std::fabs(mean) < 0.03);
  CHECK(std::fabs(sd - 1.0) < 0.03);
}

// --- step-size control ------------------------------------------------------------------------

TEST(schedule_geometric_sigma_linear_count) {
  CHECK_NEAR(scheduled_sigma(1.0, 0.01, 100, 0), 1.0, 1e-15);
  CHECK_NEAR(scheduled_sigma(1.0, 0.01, 100, 50), 0.1, 1e-12);
  CHECK_NEAR(scheduled_sigma(1.0, 0.01, 100, 100), 0.01, 1e-15);
  CHECK(scheduled_sigma(1.0, 0.01, 100, 1000) == 0.01);
  CHECK(scheduled_count(10, 0, 10, 5) == 5u);
  CHECK(scheduled_count(10, 1, 9, 3) == 7u);  // 10 - 9 * 3/9
  CHECK(scheduled_count(10, 1, 9, 9) == 1u);
  CHECK(scheduled_count(1, 10, 9, 3) == 4u);  // increasing too
}

TEST(one_fifth_rule) {
  CHECK(one_fifth_rule(1.0, 1, 5) == 1.0);  // exactly 1/5: unchanged
  CHECK(one_fifth_rule(1.0, 2, 5) == 1.0 / 0.85);
  CHECK(one_fifth_rule(1.0, 0, 5) == 0.85);
  CHECK(one_fifth_rule(1.0, 4, 19) == 1.0 / 0.85);  // 4/19 > 1/5
  CHECK(one_fifth_rule(1.0, 3, 19) == 0.85);
  CHECK(one_fifth_rule(kMinSigma, 0, 5) == kMinSigma);  // clamped
  CHECK(one_fifth_rule(kMaxSigma, 5, 5) == kMaxSigma);
  CHECK(one_fifth_rule(0.3, 0, 0) == 0.3);  // no children, no information
}

TEST(self_adaptation_is_log_normal) {
  Rng rng = test_rng(), replay = test_rng();
  const double s = self_adapt(0.5, 0.3, rng);
  CHECK(s == 0.5 * std::exp(0.3 * static_cast<double>(replay.normal())));
  Rng rng2 = test_rng();
  CHECK(self_adapt(0.5, 0.0, rng2) == 0.5);
  CHECK_NEAR(default_tau(8), 0.25, 1e-15);  // 1 / sqrt(2 * 8)
  // log(sigma'/sigma) / tau over many draws: mean 0, sd 1
  double sum = 0, sq = 0;
  for (int a = 0; a < 5000; ++a) {
    Rng r(7, RngPurpose::StepSize, 1, a);
    const double l = std::log(self_adapt(1.0, 0.2, r)) / 0.2;
    sum += l;
    sq += l * l;
  }
  CHECK(std::fabs(sum / 5000) < 0.05);
  CHECK(std::fabs(std::sqrt(sq / 5000) - 1.0) < 0.05);
}

// --- crossover --------------------------------------------------------------------------------

TEST(uniform_crossover_takes_each_weight_from_either_parent) {
  const std::size_t G = 100;
  std::vector<float> a(G), b(G), child(G);
  for (std::size_t i = 0; i < G; ++i) a[i] = static_cast<float>(i), b[i] = -1.0f - i;
  Rng rng = test_rng(), replay = test_rng();
  crossover_uniform(a.data(), b.data(), child.data(), G, rng);
  const std::uint64_t bits0 = replay.next(), bits1 = replay.next();
  std::size_t from_b = 0;
  for (std::size_t i = 0; i < G; ++i) {
    const bool bit = ((i < 64 ? bits0 : bits1) >> (i % 64)) & 1;
    CHECK(child[i] == (bit ? b[i] : a[i]));
    from_b += bit;
  }
  std::printf("  %zu of %zu weights from the second parent\n", from_b, G);
  CHECK(from_b > 25 && from_b < 75);
}

TEST(layer_crossover_takes_whole_layers) {
  const Network net = small_network();
  const std::size_t G = net.num_params();
  std::vector<float> a(G, 1.0f), b(G, 2.0f), child(G, 0.0f);
  std::vector<bool> from_b;
  std::set<std::vector<bool>> patterns;
  for (std::uint64_t agent = 0; agent < 40; ++agent) {
    Rng rng(5, RngPurpose::Crossover, 1, agent), replay(5, RngPurpose::Crossover, 1, agent);
    crossover_layers(net, a.data(), b.data(), child.data(), rng);
    std::vector<bool> pattern;
    for (const Layer& layer : net.layers()) {
      if (layer.num_params() == 0) continue;
      const bool bit = replay.next() >> 63;
      pattern.push_back(bit);
      for (std::size_t i = layer.offset; i < layer.offset + layer.num_params(); ++i)
        CHECK(child[i] == (bit ? 2.0f : 1.0f));
    }
    patterns.insert(pattern);
  }
  CHECK(patterns.size() > 4);  // 4 layers with parameters: several of the 16 patterns occur
}

// --- selection --------------------------------------------------------------------------------

TEST(ranking_ties_go_to_the_lowest_index) {
  CHECK(rank_agents({3, 1, 2, 1}) == (std::vector<std::size_t>{1, 3, 2, 0}));
  CHECK(rank_agents({5}) == (std::vector<std::size_t>{0}));
}

TEST(selections_on_a_hand_worked_population) {
  const std::vector<double> errors = {3, 1, 2, 1, 9};
  const std::vector<std::size_t> ranking = rank_agents(errors);  // 1 3 2 0 4
  Rng r0 = test_rng();
  CHECK(select_parent(Selection::CopyBest, ranking, errors, 0, 0, r0) == 1u);
  // truncation T = 2: agents 1 and 3 only, both of them, about half each
  int count[5] = {};
  for (int a = 0; a < 2000; ++a) {
    Rng r(1, RngPurpose::Selection, 1, a);
    ++count[select_parent(Selection::Truncation, ranking, errors, 2, 0, r)];
  }
  CHECK(count[0] == 0 && count[2] == 0 && count[4] == 0);
  CHECK(count[1] > 850 && count[3] > 850);
  // tournament of 3: replay the three draws and apply the rule by hand
  for (int a = 0; a < 200; ++a) {
    Rng r(2, RngPurpose::Selection, 1, a), replay(2, RngPurpose::Selection, 1, a);
    const std::size_t got = select_parent(Selection::Tournament, ranking, errors, 0, 3, r);
    std::size_t best = replay.index(5);
    for (int t = 1; t < 3; ++t) {
      const std::size_t c = replay.index(5);
      if (errors[c] < errors[best] || (errors[c] == errors[best] && c < best)) best = c;
    }
    CHECK(got == best);
  }
  // a tournament of 1 is uniform; a large one nearly always finds agent 1 (3 ties, 1 wins)
  std::set<std::size_t> seen;
  int ones = 0;
  for (int a = 0; a < 300; ++a) {
    Rng r(3, RngPurpose::Selection, 1, a), s(4, RngPurpose::Selection, 1, a);
    seen.insert(select_parent(Selection::Tournament, ranking, errors, 0, 1, r));
    ones += select_parent(Selection::Tournament, ranking, errors, 0, 40, s) == 1u;
  }
  CHECK(seen.size() == 5u);
  CHECK(ones == 300);
}

TEST(mini_batches_are_distinct_sorted_and_seeded) {
  Rng r1(1, RngPurpose::Batch, 3, 0), r2(1, RngPurpose::Batch, 3, 0), r3(1, RngPurpose::Batch, 4, 0);
  const std::vector<std::size_t> b1 = sample_batch(10, 4, r1), b2 = sample_batch(10, 4, r2);
  CHECK(b1 == b2);
  CHECK(b1.size() == 4u);
  CHECK(std::is_sorted(b1.begin(), b1.end()));
  CHECK(std::set<std::size_t>(b1.begin(), b1.end()).size() == 4u);
  for (std::size_t i : b1) CHECK(i < 10u);
  bool differs = false;
  for (int g = 4; g < 10 && !differs; ++g) {
    Rng r(1, RngPurpose::Batch, g, 0);
    differs = sample_batch(10, 4, r) != b1;
  }
  CHECK(differs);
  Rng all(1, RngPurpose::Batch, 1, 0);
  CHECK(sample_batch(5, 5, all) == (std::vector<std::size_t>{0, 1, 2, 3, 4}));
  (void)r3;
}

// --- fitness --------------------------------------------------------------------------------

TEST(fitness_from_sums) {
  CHECK(fitness_from_sum(Fitness::AbsoluteSum, 7.25, 4) == 7.25);
  CHECK(fitness_from_sum(Fitness::MeanSquared, 8.0, 4) == 2.0);
  CHECK(fitness_from_sum(Fitness::RootMeanSquared, 8.0, 4) == std::sqrt(2.0));
}

TEST(evaluator_sums_absolute_or_squared_errors) {
  // 1x1 -> conv(1, 1, 1): y = ReLU(k x). k = 0 on images 0.5 and 0.2: errors 0.5, 0.2.
  const Network net = Network(1, 1).conv(1, 1, 1);
  PopulationEvaluator ev(net, 1);
  const float genomes[] = {0.0f, 2.0f, 1.0f};  // outputs (0, 0), (1, 0.4), (0.5, 0.2)
  const float images[] = {0.5f, 0.2f};
  double abs_sum[3], sq_sum[3];
  ev.errors(genomes, 3, images, images, 2, abs_sum);
  ev.errors(genomes, 3, images, images, 2, sq_sum, ErrorSum::Squared);
  CHECK_NEAR(abs_sum[0], 0.7, 1e-7);
  CHECK_NEAR(sq_sum[0], 0.29, 1e-7);
  CHECK_NEAR(abs_sum[1], 0.7, 1e-7);
  CHECK_NEAR(sq_sum[1], 0.29, 1e-7);
  CHECK(abs_sum[2] == 0.0 && sq_sum[2] == 0.0);
}

TEST(evolution_fitness_by_name) {
  // One agent with k = 0 (found among seeds), two images: sae 0.7, mse 0.145, rmse sqrt(0.145).
  const Network net = Network(1, 1).conv(1, 1, 1);
  const std::vector<float> images = {0.5f, 0.2f};
  for (Fitness f : {Fitness::AbsoluteSum, Fitness::MeanSquared, Fitness::RootMeanSquared}) {
    EvolutionSettings s = settings(1, 0);
    s.fitness = f;
    EvolutionState st;
    st.genomes = {0.0f};
    st.errors = {0.0};  // restored as given: step() keeps the elite's error
    st.sigmas = {1.0};
    st.history = {0.0};
    Evolution evo(net, images, 2, s, st);
    const Measure full = evo.evaluate_best_on_all_images();
    const double expected = f == Fitness::AbsoluteSum   ? 0.7
                            : f == Fitness::MeanSquared ? 0.145
                                                        : std::sqrt(0.145);
    CHECK_NEAR(full.fitness, expected, 1e-7);
    CHECK_NEAR(full.metric, 0.35, 1e-7);
    // and a fresh Evolution measures its agents the same way
    EvolutionSettings fresh = settings(4, 1, 3);
    fresh.fitness = f;
    Evolution e2(net, images, 2, fresh);
    for (std::size_t a = 0; a < 4; ++a) {
      const double k = e2.genome(a)[0];
      const double y0 = std::max(0.0, k * 0.5f), y1 = std::max(0.0, k * 0.2f);
      const double d0 = std::fabs(y0 - 0.5f), d1 = std::fabs(y1 - 0.2f);
      const double want = f == Fitness::AbsoluteSum   ? d0 + d1
                          : f == Fitness::MeanSquared ? (d0 * d0 + d1 * d1) / 2
                                                      : std::sqrt((d0 * d0 + d1 * d1) / 2);
      CHECK_NEAR(e2.errors()[a], want, 1e-6);
    }
    CHECK_NEAR(e2.best_mae(), e2.evaluate_best_on_all_images().metric, 1e-12);
  }
}

// --- the general loop -----------------------------------------------------------------------

TEST(default_settings_are_the_original_loop_exactly) {
  // The original loop written out plainly, next to Evolution with default operators.
  const Network net = small_network();
  const std::size_t P = 7, M = 4, S = 3, G = net.num_params();
  const std::vector<float> images = random_images(S);
  Evolution evo(net, images, S, settings(P, M, 17, 2));
  std::vector<float> pop(P * G);
  for (std::size_t a = 0; a < P; ++a) {
    Rng rng(17, RngPurpose::Init, 0, a);
    for (std::size_t i = 0; i < G; ++i) pop[a * G + i] = rng.uniform_pm1();
  }
  PopulationEvaluator ev(net, 1);
  std::vector<double> err(P);
  ev.errors(pop.data(), P, images.data(), images.data(), S, err.data());
  std::vector<double> history = {*std::min_element(err.begin(), err.end())};
  for (long gen = 1; gen <= 40; ++gen) {
    const std::size_t best = std::min_element(err.begin(), err.end()) - err.begin();
    const std::vector<float> elite(&pop[best * G], &pop[best * G] + G);
    const double elite_error = err[best];
    for (std::size_t a = 0; a < P; ++a) std::copy(elite.begin(), elite.end(), &pop[a * G]);
    Rng index_rng(17, RngPurpose::MutationIndices, gen, 0);
    std::vector<std::size_t> idx(M);
    for (std::size_t& i : idx) i = index_rng.index(G);
    for (std::size_t a = 1; a < P; ++a) {
      Rng value_rng(17, RngPurpose::MutationValues, gen, a);
      for (std::size_t i : idx) pop[a * G + i] += value_rng.uniform_pm1();
    }
    err[0] = elite_error;
    ev.errors(&pop[G], P - 1, images.data(), images.data(), S, &err[1]);
    history.push_back(*std::min_element(err.begin(), err.end()));
    evo.step();
  }
  CHECK(evo.history() == history);
  CHECK(evo.errors() == err);
  std::vector<float> flat;
  for (const auto& g : all_genomes(evo)) flat.insert(flat.end(), g.begin(), g.end());
  CHECK(flat == pop);
  CHECK(evo.evaluations() == P * S + 40 * (P - 1) * S);
}

TEST(elites_pass_unchanged_in_rank_order) {
  const std::vector<float> images = random_images(2);
  EvolutionSettings s = settings(9, 5, 4);
  s.elites = 3;
  s.mutation = Mutation::Gaussian;
  s.sigma = 0.3;
  s.selection = Selection::Truncation;
  s.truncation = 4;
  Evolution evo(small_network(), images, 2, s);
  for (int gen = 0; gen < 20; ++gen) {
    const std::vector<std::size_t> ranking = rank_agents(evo.errors());
    std::vector<std::vector<float>> top;
    std::vector<double> top_errors;
    for (int e = 0; e < 3; ++e) {
      top.push_back(genome_of(evo, ranking[e]));
      top_errors.push_back(evo.errors()[ranking[e]]);
    }
    const std::uint64_t evals = evo.evaluations();
    evo.step();
    for (int e = 0; e < 3; ++e) {
      CHECK(genome_of(evo, e) == top[e]);
      CHECK(evo.errors()[e] == top_errors[e]);
    }
    CHECK(evo.evaluations() - evals == 6u * 2u);  // only the 6 children are evaluated
    const std::vector<double>& h = evo.history();
    CHECK(h[h.size() - 1] <= h[h.size() - 2]);
  }
}

// With mutations = 0 a per-agent mutation changes nothing: every child is its parent (or a
// crossover of two parents), so the selection can be read off the genomes.
TEST(truncation_children_come_from_the_T_best) {
  const std::vector<float> images = random_images(2);
  EvolutionSettings s = settings(10, 0, 6);
  s.mutation = Mutation::PerAgent;
  s.selection = Selection::Truncation;
  s.truncation = 3;
  Evolution evo(small_network(), images, 2, s);
  const std::vector<std::size_t> ranking = rank_agents(evo.errors());
  std::vector<std::vector<float>> parents;
  for (int t = 0; t < 3; ++t) parents.push_back(genome_of(evo, ranking[t]));
  evo.step();
  std::set<std::size_t> used;
  for (int a = 1; a < 10; ++a) {
    const auto it = std::find(parents.begin(), parents.end(), genome_of(evo, a));
    CHECK(it != parents.end());
    used.insert(it - parents.begin());
  }
  CHECK(used.size() >= 2u);
  CHECK(genome_of(evo, 0) == parents[0]);  // the elite
}

TEST(tournament_children_win_their_tournament) {
  const std::vector<float> images = random_images(2);
  EvolutionSettings s = settings(8, 0, 8);
  s.mutation = Mutation::PerAgent;
  s.selection = Selection::Tournament;
  s.tournament_size = 2;
  Evolution evo(small_network(), images, 2, s);
  const std::vector<double> errors = evo.errors();
  const std::vector<std::vector<float>> before = all_genomes(evo);
  evo.step();
  for (std::size_t a = 1; a < 8; ++a) {
    Rng replay(8, RngPurpose::Selection, 1, a);
    std::size_t w = replay.index(8);
    const std::size_t c = replay.index(8);
    if (errors[c] < errors[w] || (errors[c] == errors[w] && c < w)) w = c;
    CHECK(genome_of(evo, a) == before[w]);
  }
}

TEST(crossover_children_mix_two_parents) {
  const std::vector<float> images = random_images(2);
  for (Crossover c : {Crossover::Uniform, Crossover::Layer}) {
    EvolutionSettings s = settings(8, 0, 9);
    s.mutation = Mutation::PerAgent;
    s.selection = Selection::Tournament;
    s.crossover = c;
    Evolution evo(small_network(), images, 2, s);
    const std::vector<std::vector<float>> before = all_genomes(evo);
    evo.step();
    int mixed = 0;
    for (std::size_t a = 1; a < 8; ++a) {
      const std::vector<float> child = genome_of(evo, a);
      // every weight is some agent's weight at that position
      for (std::size_t i = 0; i < child.size(); ++i) {
        bool found = false;
        for (const auto& g : before) found = found || g[i] == child[i];
        CHECK(found);
      }
      mixed += std::find(before.begin(), before.end(), child) == before.end();
    }
    CHECK(mixed > 0);
  }
}

TEST(self_adaptive_sigma_is_inherited_and_varied) {
  const std::vector<float> images = random_images(2);
  EvolutionSettings s = settings(8, 3, 10);
  s.mutation = Mutation::Gaussian;
  s.sigma = 0.2;
  s.step_control = StepControl::SelfAdaptive;
  s.tau = 0.5;
  Evolution evo(small_network(), images, 2, s);
  CHECK(evo.sigmas() == std::vector<double>(8, 0.2));
  for (int gen = 1; gen <= 5; ++gen) {
    const std::vector<double> sigmas = evo.sigmas();
    const std::vector<std::size_t> ranking = rank_agents(evo.errors());
    evo.step();
    CHECK(evo.sigmas()[0] == sigmas[ranking[0]]);  // the elite keeps its sigma
    for (std::size_t a = 1; a < 8; ++a) {  // copy-best: parent = ranking[0]
      Rng replay(10, RngPurpose::StepSize, gen, a);
      CHECK(evo.sigmas()[a] == self_adapt(sigmas[ranking[0]], 0.5, replay));
    }
  }
  std::set<double> distinct(evo.sigmas().begin(), evo.sigmas().end());
  CHECK(distinct.size() > 4u);
  CHECK(evo.settings().tau == 0.5);
  s.tau = 0.0;  // the default: 1 / sqrt(2 n), n = 95 parameters
  Evolution defaults(small_network(), images, 2, s);
  CHECK_NEAR(defaults.settings().tau, 1.0 / std::sqrt(190.0), 1e-15);
}

TEST(one_fifth_rule_in_the_loop) {
  const std::vector<float> images = random_images(2);
  EvolutionSettings s = settings(11, 3, 12);
  s.mutation = Mutation::Gaussian;
  s.sigma = 0.5;
  s.step_control = StepControl::OneFifth;
  Evolution evo(small_network(), images, 2, s);
  std::set<double> seen = {evo.sigma()};
  for (int gen = 0; gen < 30; ++gen) {
    const double sigma = evo.sigma();
    const std::vector<double> before = evo.errors();
    const std::size_t best = evo.best_index();
    evo.step();
    int successes = 0;  // copy-best: every child's parent is the previous best
    for (std::size_t a = 1; a < 11; ++a) {
      successes += evo.errors()[a] < before[best];
      CHECK(evo.sigmas()[a] == sigma);  // the children were made with the shared sigma
    }
    CHECK(evo.sigma() == one_fifth_rule(sigma, successes, 10));
    seen.insert(evo.sigma());
  }
  std::printf("  sigma 0.5 -> %.4f after 30 generations, %zu values on the way\n", evo.sigma(),
              seen.size());
  CHECK(seen.size() >= 2u);  // it did adapt
}

TEST(schedule_in_the_loop) {
  const std::vector<float> images = random_images(1);
  EvolutionSettings s = settings(3, 8, 13);
  s.mutation = Mutation::PerAgent;
  s.step_control = StepControl::Schedule;
  s.sigma = 1.0;
  s.sigma_end = 0.01;
  s.mutations_end = 0;
  s.schedule_generations = 8;
  Evolution evo(small_network(), images, 1, s);
  for (int gen = 1; gen <= 10; ++gen) {
    const std::vector<float> elite = genome_of(evo, evo.best_index());
    evo.step();
    CHECK(evo.sigmas()[1] == scheduled_sigma(1.0, 0.01, 8, gen));
    std::size_t changed = 0;
    const std::vector<float> child = genome_of(evo, 1);
    for (std::size_t i = 0; i < child.size(); ++i) changed += child[i] != elite[i];
    CHECK(changed <= scheduled_count(8, 0, 8, gen));
    if (gen >= 8) CHECK(changed == 0u);
  }
}

TEST(mini_batch_reevaluates_everyone_on_new_images) {
  const std::size_t S = 6, B = 2;
  const std::vector<float> images = random_images(S);
  EvolutionSettings s = settings(5, 4, 14);
  s.batch = B;
  Evolution evo(small_network(), images, S, s);
  CHECK(evo.images_per_generation() == B);
  CHECK(evo.evaluations() == 5u * B);
  PopulationEvaluator fresh(evo.network(), 1);
  std::set<std::vector<std::size_t>> batches;
  for (int gen = 0; gen < 10; ++gen) {
    evo.step();
    const std::vector<std::size_t>& batch = evo.batch();
    CHECK(batch.size() == B);
    batches.insert(batch);
    std::vector<float> sub;
    for (std::size_t i : batch) sub.insert(sub.end(), &images[i * 36], &images[i * 36] + 36);
    for (std::size_t a = 0; a < 5; ++a) {  // the elite too is measured on this batch
      double e;
      fresh.errors(evo.genome(a), 1, sub.data(), sub.data(), B, &e);
      CHECK(e == evo.errors()[a]);
    }
  }
  CHECK(batches.size() > 3u);
  CHECK(evo.evaluations() == 5u * B * 11u);
  const Measure full = evo.evaluate_best_on_all_images();
  double all;
  fresh.errors(evo.best_genome(), 1, images.data(), images.data(), S, &all);
  CHECK(full.fitness == all);
  CHECK_NEAR(full.metric, all / (S * 36), 1e-15);
  EvolutionSettings whole = settings(5, 4, 14);
  whole.batch = S;  // a batch of all images is no batch
  CHECK(Evolution(small_network(), images, S, whole).settings().batch == 0);
}

TEST(patience_and_target_stop_advance) {
  const std::vector<float> images = random_images(2);
  Evolution still(small_network(), images, 2, settings(4, 0, 15));  // nothing ever changes
  StopConditions stop;
  stop.patience = 5;
  Advanced done = still.advance(stop);
  CHECK(done.generations == 5);
  CHECK(done.reason == StopReason::Patience);
  CHECK(still.generation() - still.improved_at() == 5);
  CHECK(still.advance(stop).generations == 0);  // still no improvement
  Evolution moving(small_network(), images, 2, settings(8, 5, 15));
  stop.patience = 0;
  stop.max_generations = 500;
  stop.target_metric = moving.best_mae() * 0.95;
  done = moving.advance(stop);
  CHECK(done.reason == StopReason::Target);
  CHECK(moving.best_mae() <= stop.target_metric);
  CHECK(moving.history()[moving.history().size() - 2] / 72 > stop.target_metric);
  StopConditions few;
  few.max_generations = 3;
  CHECK(moving.advance(few).reason == StopReason::Generations);
}

// Every operator: a state taken after some generations and restored continues exactly as
// the run that was not interrupted, and 1, 2 and 3 threads give the same run.
TEST(restore_and_thread_count_give_the_same_run_for_every_operator) {
  const std::vector<float> images = random_images(4);
  std::vector<std::function<void(EvolutionSettings&)>> variants = {
      [](EvolutionSettings&) {},
      [](EvolutionSettings& s) { s.mutation = Mutation::PerAgent; },
      [](EvolutionSettings& s) { s.mutation = Mutation::Gaussian; s.sigma = 0.2; },
      [](EvolutionSettings& s) { s.mutation = Mutation::GaussianAll; s.sigma = 0.01; },
      [](EvolutionSettings& s) { s.mutation = Mutation::Reset; },
      [](EvolutionSettings& s) { s.mutation = Mutation::Zero; s.mutations = 1; },
      [](EvolutionSettings& s) {
        s.mutation = Mutation::Gaussian; s.step_control = StepControl::SelfAdaptive;
        s.sigma = 0.3; s.selection = Selection::Truncation; s.elites = 2;
      },
      [](EvolutionSettings& s) {
        s.mutation = Mutation::Gaussian; s.step_control = StepControl::OneFifth;
        s.selection = Selection::Tournament; s.crossover = Crossover::Uniform;
      },
      [](EvolutionSettings& s) {
        s.step_control = StepControl::Schedule; s.sigma_end = 0.1; s.mutations_end = 1;
        s.schedule_generations = 15; s.selection = Selection::Truncation;
        s.crossover = Crossover::Layer; s.elites = 0;
      },
      [](EvolutionSettings& s) { s.fitness = Fitness::MeanSquared; s.batch = 2; },
      [](EvolutionSettings& s) {
        s.fitness = Fitness::RootMeanSquared; s.mutation = Mutation::GaussianAll;
        s.sigma = 0.02; s.step_control = StepControl::SelfAdaptive;
        s.selection = Selection::Tournament; s.batch = 3;
      },
  };
  int variant = 0;
  for (const auto& change : variants) {
    EvolutionSettings s = settings(9, 4, 16, 1);
    change(s);
    Evolution straight(small_network(), images, 4, s);
    for (int g = 0; g < 30; ++g) straight.step();
    for (int threads : {2, 3}) {
      EvolutionSettings t = s;
      t.threads = threads;
      Evolution first(small_network(), images, 4, t);
      for (int g = 0; g < 12; ++g) first.step();
      EvolutionSettings r = first.settings();  // resolved settings restore as well
      r.threads = 5 - threads;
      Evolution resumed(small_network(), images, 4, r, first.state());
      for (int g = 12; g < 30; ++g) resumed.step();
      if (!same_run(straight, resumed))
        std::printf("  variant %d, threads %d: the resumed run differs\n", variant, threads);
      CHECK(same_run(straight, resumed));
    }
    CHECK(straight.history().back() <= straight.history().front() ||
          s.batch > 0 || s.elites == 0);
    ++variant;
  }
}

TEST(a_state_that_does_not_fit_is_refused) {
  const std::vector<float> images = random_images(2);
  Evolution evo(small_network(), images, 2, settings(4, 2, 1));
  evo.step();
  EvolutionState st = evo.state();
  CHECK(st.generation == 1 && st.history.size() == 2u);
  EvolutionState short_genomes = st;
  short_genomes.genomes.pop_back();
  CHECK_THROWS_AS(Evolution(small_network(), images, 2, settings(4, 2, 1), short_genomes),
                  std::invalid_argument);
  EvolutionState bad_history = st;
  bad_history.history.push_back(1.0);
  CHECK_THROWS_AS(Evolution(small_network(), images, 2, settings(4, 2, 1), bad_history),
                  std::invalid_argument);
  CHECK_THROWS_AS(Evolution(small_network(), images, 2, settings(5, 2, 1), st),
                  std::invalid_argument);  // another population size
  EvolutionState bad_sigmas = st;
  bad_sigmas.sigmas.resize(3);
  CHECK_THROWS_AS(Evolution(small_network(), images, 2, settings(4, 2, 1), bad_sigmas),
                  std::invalid_argument);
}

TEST(impossible_settings_are_refused) {
  const std::vector<float> images = random_images(3);
  const Network net = small_network();
  auto refused = [&](const std::function<void(EvolutionSettings&)>& change,
                     const std::string& word) {
    EvolutionSettings s = settings(10, 3);
    change(s);
    try {
      Evolution evo(net, images, 3, s);
      std::printf("  not refused: expected an error about '%s'\n", word.c_str());
      return false;
    } catch (const std::invalid_argument& e) {
      const bool ok = std::string(e.what()).find(word) != std::string::npos;
      if (!ok) std::printf("  '%s' does not mention '%s'\n", e.what(), word.c_str());
      return ok;
    }
  };
  CHECK(refused([](EvolutionSettings& s) { s.selection = Selection::Truncation; s.truncation = 11; },
                "truncation"));
  CHECK(refused([](EvolutionSettings& s) { s.truncation = 3; }, "truncation"));
  CHECK(refused([](EvolutionSettings& s) { s.elites = 10; }, "elites"));
  CHECK(refused([](EvolutionSettings& s) { s.elites = -1; }, "elites"));
  CHECK(refused([](EvolutionSettings& s) { s.sigma = -1.0; }, "sigma"));
  CHECK(refused([](EvolutionSettings& s) { s.sigma = -0.1; }, "sigma"));
  CHECK(refused([](EvolutionSettings& s) { s.sigma = NAN; }, "sigma"));
  CHECK(refused([](EvolutionSettings& s) { s.crossover = Crossover::Uniform; }, "copy-best"));
  CHECK(refused([](EvolutionSettings& s) { s.step_control = StepControl::Schedule; },
                "schedule_generations"));
  CHECK(refused([](EvolutionSettings& s) { s.sigma_end = 0.1; }, "schedule"));
  CHECK(refused([](EvolutionSettings& s) { s.tau = 0.1; }, "self-adaptive"));
  CHECK(refused([](EvolutionSettings& s) {
    s.mutation = Mutation::Reset; s.step_control = StepControl::OneFifth; }, "step size"));
  CHECK(refused([](EvolutionSettings& s) { s.tournament_size = 2; }, "tournament"));
  CHECK(refused([](EvolutionSettings& s) { s.batch = 4; }, "batch"));
  CHECK(refused([](EvolutionSettings& s) { s.batch = -1; }, "batch"));
  // and their valid neighbours run
  EvolutionSettings ok = settings(10, 3);
  ok.selection = Selection::Truncation;
  ok.truncation = 10;
  ok.elites = 9;
  ok.crossover = Crossover::Uniform;
  Evolution evo(net, images, 3, ok);
  evo.step();
  CHECK(evo.generation() == 1);
  EvolutionSettings auto_t = settings(23, 3);
  auto_t.selection = Selection::Truncation;
  CHECK(Evolution(net, images, 3, auto_t).settings().truncation == 4);  // max(2, 23 / 5)
  EvolutionSettings auto_k = settings(4, 3);
  auto_k.selection = Selection::Tournament;
  CHECK(Evolution(net, images, 3, auto_k).settings().tournament_size == 3);
  CHECK(Evolution(net, images, 3, settings(1, 3)).settings().elites == 1);  // population 1
}
