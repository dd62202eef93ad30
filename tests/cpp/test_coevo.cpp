// Coevolution with pruning (coevo/): neighbourhoods and selection on hand-worked rings, each
// pruning operator on hand-made activation records, the schedules against their formulas,
// the pair-loss matrix against the plain reference network, activation records against it,
// and the same run at any thread count.
#include <cmath>

#include "check.h"
#include "evoae/coevo/activations.h"
#include "evoae/coevo/coevolution.h"
#include "evoae/coevo/pair_losses.h"
#include "evoae/coevo/pruning.h"
#include "evoae/coevo/schedule.h"
#include "evoae/coevo/topology.h"
#include "evoae/nn/reference_ops.h"

using namespace evoae;
using Cells = std::vector<std::size_t>;

namespace {

// A small dense autoencoder: 12 -> 6 -> 3 | 3 -> 6 -> 12 (encoder: 2 dense layers).
Network small_autoencoder() {
  Network net(1, 12);
  net.dense(6, Activation::ReLU).dense(3, Activation::ReLU).dense(6, Activation::ReLU)
      .dense(12, Activation::Sigmoid);
  return net;
}

// S samples of n bits, each one of 3 random centroids with 5% of its bits flipped: structure
// an autoencoder can learn.
std::vector<float> binary_samples(std::size_t S, std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::vector<float> centroids(3 * n), v(S * n);
  for (float& x : centroids) x = static_cast<float>(gen() % 2);
  for (std::size_t i = 0; i < S; ++i)
    for (std::size_t k = 0; k < n; ++k) {
      const float bit = centroids[(i % 3) * n + k];
      v[i * n + k] = gen() % 20 == 0 ? 1.0f - bit : bit;
    }
  return v;
}

}  // namespace

TEST(ring_neighbourhoods_by_hand) {
  CHECK((neighbourhood(Topology::Ring, 5, 1, 0, 0) == Cells{0, 1, 4}));
  CHECK((neighbourhood(Topology::Ring, 5, 1, 0, 4) == Cells{4, 0, 3}));
  CHECK((neighbourhood(Topology::Ring, 5, 2, 0, 3) == Cells{3, 4, 2, 0, 1}));
  CHECK((neighbourhood(Topology::Ring, 2, 1, 0, 0) == Cells{0, 1, 1}));  // both sides
  CHECK((neighbourhood(Topology::Ring, 1, 1, 0, 0) == Cells{0, 0, 0}));
  CHECK((neighbourhood(Topology::Ring, 7, 0, 0, 6) == Cells{6}));
  CHECK_THROWS_AS(neighbourhood(Topology::Ring, 5, 1, 0, 5), std::invalid_argument);
}

TEST(torus_neighbourhoods_by_hand) {
  // 3 rows x 4 columns, cell = row * 4 + column. Cell 0 (0, 0): up (2, 0) = 8, left (0, 3)
  // = 3, right (0, 1) = 1, down (1, 0) = 4.
  CHECK((neighbourhood(Topology::Torus, 12, 1, 3, 0) == Cells{0, 8, 3, 1, 4}));
  // Cell 6 (1, 2) at radius 2: distance 1, then the 8 cells at distance 2, which wrap onto
  // cells already met on 3 rows and 4 columns: rows -2 and +2 are rows 2 and 0 (cells 10 and
  // 2), columns 0 and 4 are both column 0 (cell 4 twice).
  const Cells six = neighbourhood(Topology::Torus, 12, 2, 3, 6);
  CHECK((six == Cells{6, 2, 5, 7, 10, /* d = 2 */ 10, 1, 3, 4, 4, 9, 11, 2}));
  CHECK(six.size() == 1 + 2 * 2 * 3);
  CHECK_THROWS_AS(neighbourhood(Topology::Torus, 12, 1, 5, 0), std::invalid_argument);
}

TEST(selection_takes_each_encoders_best_pair_and_a_binary_tournament) {
  // Ring of 5, cell 2, radius 1: members {2, 3, 1}; a hand-made 3 x 3 matrix.
  const std::vector<double> matrix{0.50, 0.40, 0.90,   // encoder of cell 2: best 0.40
                                   0.30, 0.80, 0.70,   // cell 3: 0.30
                                   0.60, 0.65, 0.35};  // cell 1: 0.35
  const std::vector<double> best = encoder_losses(matrix, 3);
  CHECK((best == std::vector<double>{0.40, 0.30, 0.35}));
  for (std::uint64_t key = 0; key < 50; ++key) {
    Rng draws(7, RngPurpose::Selection, key, 0);
    const std::size_t a = draws.index(3), b = draws.index(3);
    Rng rng(7, RngPurpose::Selection, key, 0);
    const std::size_t won = binary_tournament(best, rng);
    CHECK(won == (best[a] < best[b] ? a : b));
    CHECK(best[won] <= std::max(best[a], best[b]));
  }
  // A tie goes to the second drawn; the best member wins every tournament it enters.
  Rng rng(1, RngPurpose::Selection, 0, 0);
  CHECK(binary_tournament({0.2, 0.2}, rng) < 2);
  CHECK_THROWS_AS(encoder_losses({1.0, 2.0}, 2), std::invalid_argument);
}

TEST(schedules_follow_their_formulas) {
  const long T = 40;
  const double p = 0.3;
  for (long t = 0; t <= T; ++t) {
    const double x = static_cast<double>(t) / T;
    CHECK_NEAR(prune_probability(PruneSchedule::Fixed, p, t, T, 3), p, 1e-15);
    CHECK_NEAR(prune_probability(PruneSchedule::Increase, p, t, T, 3), p * x, 1e-15);
    CHECK_NEAR(prune_probability(PruneSchedule::Decrease, p, t, T, 3), 1 - p * x, 1e-15);
    CHECK_NEAR(prune_probability(PruneSchedule::Population, p, t, T, 3), p * x / 3, 1e-15);
    CHECK_NEAR(prune_probability(PruneSchedule::FinalN, p, t, T, 3), t >= 30 ? p : 0.0, 0);
    CHECK_NEAR(prune_probability(PruneSchedule::PruneAfter, p, t, T, 3), t == T ? p : 0.0, 0);
    CHECK_NEAR(prune_probability(PruneSchedule::Exponential, p, t, T, 3),
               p * (1 - std::exp(-2 * x)), 1e-15);
  }
  CHECK_NEAR(prune_probability(PruneSchedule::Increase, p, 0, 0, 1), p, 0);  // T = 0: x = 1
}

TEST(variance_scores_and_probabilities_on_a_hand_made_record) {
  // 3 passes of a batch of 2, 3 neurons: row (pass, position).
  const std::vector<float> values{1, 0, 5,   2, 0, 5,    // pass 0: positions 0, 1
                                  3, 0, 5,   2, 4, 5,    // pass 1
                                  5, 0, 5,   2, 8, 5};   // pass 2
  const std::vector<double> s = variance_scores(values.data(), 6, 3, 2);
  // Neuron 0: position 0 sees 1, 3, 5 (sd sqrt(8/3)), position 1 sees 2, 2, 2 (sd 0).
  CHECK_NEAR(s[0], std::sqrt(8.0 / 3.0), 1e-12);
  CHECK_NEAR(s[1], std::sqrt(32.0 / 3.0), 1e-12);  // 0,0,0 and 0,4,8
  CHECK_NEAR(s[2], 0.0, 0);
  const std::vector<double> hi = variance_prune_probabilities(s, VarianceDirection::Highest);
  const std::vector<double> lo = variance_prune_probabilities(s, VarianceDirection::Lowest);
  CHECK_NEAR(hi[0], 0.5, 1e-12);
  CHECK(hi[1] == 1.0 && hi[2] == 0.0);
  CHECK(lo[1] == 0.0 && lo[2] == 1.0);
  CHECK_NEAR(lo[0], 0.5, 1e-12);
  CHECK((variance_prune_probabilities({2, 2}, VarianceDirection::Highest) ==
         std::vector<double>{0, 0}));  // no spread: no guidance
  CHECK_THROWS_AS(variance_scores(values.data(), 6, 3, 4), std::invalid_argument);
}

TEST(variance_operator_prunes_the_neurons_it_must) {
  const Network net = small_autoencoder();
  std::vector<float> genome(net.num_params(), 0.5f);
  const std::size_t first = dense_layers(net)[0];  // 12 -> 6
  // q: neuron 1 always (the highest spread), neuron 4 never, others at 0 or 1 too.
  const std::vector<double> q{0, 1, 0, 1, 0, 0};
  Rng rng(3, RngPurpose::MutationValues, 0, 0);
  prune_with_probabilities(net, genome.data(), first, q, rng);
  const Layer& l = net.layers()[first];
  for (std::size_t u = 0; u < 6; ++u) {
    for (std::size_t i = 0; i < 12; ++i)
      CHECK(genome[l.offset + u * 12 + i] == (q[u] == 1.0 ? 0.0f : 0.5f));
    CHECK(genome[l.offset + l.num_weights + u] == (q[u] == 1.0 ? 0.0f : 0.5f));
  }
  // Other layers untouched.
  for (std::size_t p = l.offset + l.num_params(); p < net.num_params(); ++p)
    CHECK(genome[p] == 0.5f);
}

TEST(conjunctive_selection_on_hand_made_cases) {
  // 4 neurons. Case 0: normalised 0, 0.05, 1, 0 -> neurons 0, 1, 3 pass. Case 1: 0, 1, 1, 0.5
  // -> only neuron 0 passes; one left: the selection stops there.
  const std::vector<float> a{2, 2.5, 12, 2,   1, 3, 3, 2,   9, 9, 9, 9};
  CHECK((conjunctive_selection(a.data(), 3, 4, 0.1) == std::vector<bool>{1, 0, 0, 0}));
  // Case 1 alone lets only neuron 0 through; the first case alone three.
  CHECK((conjunctive_selection(a.data(), 1, 4, 0.1) == std::vector<bool>{1, 1, 0, 1}));
  // Cases that pass disjoint neurons end with none; a flat case passes none.
  const std::vector<float> b{0, 0, 1, 1,   1, 1, 0, 0};
  CHECK((conjunctive_selection(b.data(), 2, 4, 0.1) == std::vector<bool>{0, 0, 0, 0}));
  const std::vector<float> flat{4, 4, 4};
  CHECK((conjunctive_selection(flat.data(), 1, 3, 0.1) == std::vector<bool>{0, 0, 0}));
  // Once one neuron is left, later cases do not remove it.
  const std::vector<float> c{0, 1, 1,   1, 0, 0};
  CHECK((conjunctive_selection(c.data(), 2, 3, 0.1) == std::vector<bool>{1, 0, 0}));
}

TEST(neuron_and_random_pruning_zero_what_they_must) {
  const Network net = small_autoencoder();
  std::vector<float> genome(net.num_params(), 1.0f);
  const std::size_t third = dense_layers(net)[2];  // 3 -> 6
  prune_neurons(net, genome.data(), third, {false, true, false, false, false, true});
  const Layer& l = net.layers()[third];
  std::size_t zeros = 0;
  for (float v : genome) zeros += v == 0.0f;
  CHECK(zeros == 2 * (3 + 1));
  CHECK(genome[l.offset + 1 * 3] == 0.0f && genome[l.offset + l.num_weights + 5] == 0.0f);
  CHECK(genome[l.offset + 2 * 3] == 1.0f);
  CHECK_NEAR(kept_fraction(net, genome.data()),
             1.0 - 8.0 / static_cast<double>(net.num_params()), 1e-12);
  CHECK_THROWS_AS(prune_neurons(net, genome.data(), third, {true}), std::invalid_argument);
  CHECK_THROWS_AS(prune_neurons(net, genome.data(), 0, {}), std::invalid_argument);

  // Random: exactly round(0.1 size) distinct weights and biases of each layer.
  std::vector<float> ones(net.num_params(), 1.0f);
  Rng rng(5, RngPurpose::MutationValues, 0, 0);
  prune_random(net, ones.data(), 0.1, rng);
  for (std::size_t i : dense_layers(net)) {
    const Layer& d = net.layers()[i];
    const auto zero = [&](std::size_t from, std::size_t n) {
      return static_cast<std::size_t>(std::count(ones.begin() + from, ones.begin() + from + n,
                                                 0.0f));
    };
    CHECK(zero(d.offset, d.num_weights) ==
          static_cast<std::size_t>(std::floor(0.1 * d.num_weights + 0.5)));
    CHECK(zero(d.offset + d.num_weights, d.num_biases) ==
          static_cast<std::size_t>(std::floor(0.1 * d.num_biases + 0.5)));
  }
}

TEST(activation_records_match_the_reference_network) {
  const Network net = small_autoencoder();
  std::mt19937 gen(11);
  const std::vector<float> genome = random_buffer(gen, net.num_params());
  const std::vector<float> x = random_images_of(40, 12, 4);
  const std::vector<std::size_t> rows{3, 3, 0, 39, 17, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                      20, 21, 22, 23};  // more than one group of lanes
  const ActivationRecord r = record_activations(net, genome.data(), x.data(), rows.data(),
                                                rows.size());
  CHECK(r.rows == rows.size() && r.values.size() == 4);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::vector<float> y =
        reference::network_forward(net, genome.data(), x.data() + rows[i] * 12);
    const std::vector<float> last(r.values[3].begin() + i * 12, r.values[3].begin() + i * 12 + 12);
    CHECK(max_abs_diff(y, last) < 1e-6);
    // The first layer by hand: relu(W x + b).
    const Layer& l = net.layers()[1];
    for (std::size_t u = 0; u < 6; ++u) {
      double z = genome[l.offset + l.num_weights + u];
      for (std::size_t k = 0; k < 12; ++k)
        z += static_cast<double>(genome[l.offset + u * 12 + k]) * x[rows[i] * 12 + k];
      CHECK_NEAR(r.values[0][i * 6 + u], std::max(z, 0.0), 1e-5);
    }
  }
}

TEST(pair_loss_matrix_matches_a_plain_reference) {
  const Network net = small_autoencoder();
  std::mt19937 gen(2);
  const std::size_t n = 3, G = net.num_params();
  const std::vector<float> genomes = random_buffer(gen, n * G);
  const std::vector<float> x = random_images_of(20, 12, 9);
  const std::vector<std::size_t> rows{4, 0, 19, 7, 7};
  const ImageSet batch{x.data(), x.data(), rows.data(), rows.size()};
  const std::size_t E = net.layers()[3].offset;  // the first two dense layers
  std::vector<const float*> members{genomes.data(), genomes.data() + G, genomes.data() + 2 * G};
  for (int threads : {1, 3}) {
    GradientEvaluator evaluator(net, Loss::MeanAbsolute, Metric::MeanAbsoluteError, threads);
    std::vector<float> scratch;
    const std::vector<double> m =
        pair_losses(evaluator, members.data(), n, members.data(), n, E, batch, scratch);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        std::vector<float> pair(members[i], members[i] + E);
        pair.insert(pair.end(), members[j] + E, members[j] + G);
        double expected = 0.0;
        for (std::size_t r : rows) {
          const std::vector<float> y = reference::network_forward(net, pair.data(),
                                                                  x.data() + r * 12);
          double sum = 0.0;
          for (std::size_t k = 0; k < 12; ++k) sum += std::fabs(y[k] - x[r * 12 + k]);
          expected += sum / 12.0;
        }
        CHECK_NEAR(m[i * n + j], expected / rows.size(), 1e-6);
      }
  }
}

namespace {

std::vector<float> run_centres(CoevoSettings s, int epochs) {
  const Network net = small_autoencoder();
  Coevolution coevo(net, 2, binary_samples(33, 12, 5), s);
  for (int e = 0; e < epochs; ++e) coevo.step();
  std::vector<float> all;
  for (std::size_t c = 0; c < coevo.cells(); ++c) {
    const std::vector<float> g = coevo.genome(c);
    all.insert(all.end(), g.begin(), g.end());
  }
  for (double lr : coevo.learning_rates()) all.push_back(static_cast<float>(lr));
  return all;
}

}  // namespace

TEST(same_seed_same_run_at_any_thread_count) {
  for (CellUpdate update : {CellUpdate::Sequential, CellUpdate::Synchronous})
    for (PruneOperator op : {PruneOperator::Random, PruneOperator::Variance,
                             PruneOperator::Conjunctive}) {
      CoevoSettings s;
      s.cells = 4, s.epochs = 3, s.batch = 4, s.learning_rate = 0.01, s.seed = 9;
      s.update = update, s.pruning = op, s.schedule = PruneSchedule::Fixed;
      s.prune_probability = 0.7, s.conjunctive_cases = 10;
      s.threads = 1;
      const std::vector<float> one = run_centres(s, 3);
      s.threads = 3;
      CHECK(run_centres(s, 3) == one);
      s.seed = 10;
      CHECK(run_centres(s, 3) != one);
    }
}

TEST(coevolution_and_canonical_training_lower_the_loss) {
  const Network net = small_autoencoder();
  for (CoevoMethod method : {CoevoMethod::Coevolution, CoevoMethod::Canonical}) {
    CoevoSettings s;
    s.method = method, s.cells = 3, s.epochs = 30, s.batch = 4, s.learning_rate = 0.01;
    s.pruning = PruneOperator::Random, s.schedule = PruneSchedule::PruneAfter;
    s.prune_probability = 1.0, s.threads = 1;
    Coevolution coevo(net, 2, binary_samples(40, 12, 8), s);
    CHECK(coevo.cells() == (method == CoevoMethod::Canonical ? 1u : 3u));
    for (int e = 0; e < 30; ++e) coevo.step();
    CHECK(coevo.history()[29] < 0.8 * coevo.history().front());  // before the prune
    CHECK(coevo.records().size() == 31);
    // prune_after: only the last epoch prunes, so only its record keeps less than all.
    for (std::size_t e = 0; e + 1 < coevo.records().size(); ++e)
      CHECK(coevo.records()[e].prunes == 0);
    CHECK(coevo.records().back().prunes == coevo.cells());
    CHECK(coevo.records().back().mean_kept < 0.95);
  }
}

TEST(bad_settings_and_networks_are_refused) {
  const Network net = small_autoencoder();
  const std::vector<float> x = binary_samples(10, 12, 1);
  CHECK_THROWS_AS(Coevolution(net, 0, x, CoevoSettings{}), std::invalid_argument);
  CHECK_THROWS_AS(Coevolution(net, 4, x, CoevoSettings{}), std::invalid_argument);
  CHECK_THROWS_AS(Coevolution(net, 2, std::vector<float>(13), CoevoSettings{}),
                  std::invalid_argument);
  CoevoSettings torus;
  torus.topology = Topology::Torus, torus.cells = 10, torus.torus_rows = 3;
  CHECK_THROWS_AS(Coevolution(net, 2, x, torus), std::invalid_argument);
  CHECK(resolve_coevo_settings([] { CoevoSettings s; s.topology = Topology::Torus;
                                    s.cells = 12; return s; }()).torus_rows == 3);
  CHECK_THROWS_AS(coevo_settings_from({{"pruning", std::string("magnitude")}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(coevo_settings_from({{"cells", 0LL}}), std::invalid_argument);
  CHECK_THROWS_AS(coevo_settings_from({{"no_such_setting", 1LL}}), std::invalid_argument);
  CHECK(coevo_settings_from({{"pruning", std::string("variance")}}).pruning ==
        PruneOperator::Variance);
  CHECK(resolve_coevo_settings(coevo_settings_from({{"pruning", std::string("random")}}))
            .prune_probability == 0.5);
}
