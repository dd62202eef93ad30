#include "evoae/coevo/coevolution.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include <omp.h>

#include "evoae/coevo/activations.h"
#include "evoae/coevo/pair_losses.h"
#include "evoae/coevo/pruning.h"
#include "evoae/coevo/schedule.h"
#include "evoae/coevo/topology.h"
#include "evoae/core/rng.h"
#include "evoae/core/simd.h"

namespace evoae {
namespace {

// Streams of their own, numbered past core/rng.h's purposes (that header is shared; these
// values are this file's alone).
constexpr RngPurpose kCellInit = static_cast<RngPurpose>(101);     // (0, cell)
constexpr RngPurpose kCellOrder = static_cast<RngPurpose>(102);    // (epoch, 0)
constexpr RngPurpose kSampleOrder = static_cast<RngPurpose>(103);  // (epoch, cell)
constexpr RngPurpose kTournament = static_cast<RngPurpose>(104);   // (epoch, cell)
constexpr RngPurpose kPruneDraw = static_cast<RngPurpose>(105);    // (epoch, cell)
constexpr RngPurpose kPruneOperator = static_cast<RngPurpose>(106);  // (epoch, cell)
constexpr RngPurpose kLearningRate = static_cast<RngPurpose>(107);   // (epoch, cell)

constexpr double kMinLearningRate = 1e-9, kMaxLearningRate = 10.0;

void shuffle(std::vector<std::size_t>& v, Rng& rng) {  // Fisher-Yates from the back
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.index(i)]);
}

// The parameters each dense layer starts with: weights and biases U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)), as PyTorch's Linear layers (the public code's) start.
void initial_genome(const Network& net, Rng rng, float* genome) {
  for (std::size_t i : dense_layers(net)) {
    const Layer& l = net.layers()[i];
    const float bound = 1.0f / std::sqrt(static_cast<float>(l.num_weights / l.num_biases));
    for (std::size_t p = 0; p < l.num_params(); ++p)
      genome[l.offset + p] = bound * rng.uniform_pm1();
  }
}

// The number of parameters of the first `encoder_layers` dense layers, after checking that the
// network is an input layer and dense layers whose output has the input's size.
std::size_t checked_encoder_size(const Network& net, int encoder_layers) {
  const std::vector<Layer>& layers = net.layers();
  for (std::size_t i = 1; i < layers.size(); ++i)
    if (!layers[i].is<Dense>())
      throw std::invalid_argument(std::string("coevolution needs a network of dense layers; "
                                              "layer ") + std::to_string(i) + " is " +
                                  layers[i].name());
  const int dense = static_cast<int>(layers.size()) - 1;
  if (encoder_layers < 1 || encoder_layers >= dense)
    throw std::invalid_argument("encoder_layers must be 1 .. " + std::to_string(dense - 1) +
                                " (the network has " + std::to_string(dense) +
                                " dense layers), got " + std::to_string(encoder_layers));
  if (net.output_shape().size() != net.input_shape().size())
    throw std::invalid_argument("an autoencoder's output must have its input's size (" +
                                std::to_string(net.input_shape().size()) + "), got " +
                                std::to_string(net.output_shape().size()));
  return layers[1 + encoder_layers].offset;
}

int thread_count(int threads) { return threads > 0 ? threads : omp_get_max_threads(); }

}  // namespace

Coevolution::Coevolution(const Network& net, int encoder_layers, std::vector<float> inputs,
                         CoevoSettings settings)
    : net_(net), settings_(resolve_coevo_settings(settings)),
      encoder_size_(checked_encoder_size(net, encoder_layers)), inputs_(std::move(inputs)) {
  const std::size_t G = net_.num_params(), in = net_.input_shape().size();
  if (inputs_.empty() || inputs_.size() % in != 0)
    throw std::invalid_argument("the samples must be (S, " + std::to_string(in) +
                                ") with S >= 1, got " + std::to_string(inputs_.size()) +
                                " values");
  for (float v : inputs_)
    if (!std::isfinite(v)) throw std::invalid_argument("the samples hold NaN or infinite values");
  samples_ = inputs_.size() / in;
  padded_ = (G + kLanes - 1) / kLanes * kLanes;
  const std::size_t N = settings_.cells;
  centres_.resize(N * G);
  for (std::size_t c = 0; c < N; ++c)
    initial_genome(net_, Rng(settings_.seed, kCellInit, 0, c), centres_.data() + c * G);
  learning_rates_.assign(N, settings_.learning_rate);
  adam_.resize(N);
  const int workers =
      settings_.update == CellUpdate::Synchronous ? thread_count(settings_.threads) : 0;
  evaluators_.reserve(1 + workers);  // they refer to net_: never moved after construction
  evaluators_.emplace_back(net_, Loss::MeanAbsolute, Metric::MeanAbsoluteError,
                           settings_.threads);
  for (int w = 0; w < workers; ++w)
    evaluators_.emplace_back(net_, Loss::MeanAbsolute, Metric::MeanAbsoluteError, 1);
  scratch_.resize(std::max(1, workers));
  measure();
}

std::vector<float> Coevolution::genome(std::size_t cell) const {
  if (cell >= cells()) throw std::invalid_argument("no cell " + std::to_string(cell));
  const std::size_t G = net_.num_params();
  return std::vector<float>(centres_.begin() + cell * G, centres_.begin() + (cell + 1) * G);
}

std::vector<double> Coevolution::history() const {
  std::vector<double> h;
  for (const EpochRecord& r : records_) h.push_back(r.best_loss);
  return h;
}

double Coevolution::loss_on(const float* genome, const float* samples, std::size_t S) {
  if (S == 0) throw std::invalid_argument("loss_on: no samples");
  const ImageSet set{samples, samples, nullptr, S};
  double loss = 0.0, metric = 0.0;
  evaluators_[0].one_network(genome, set, &loss, &metric, nullptr);
  return loss;
}

void Coevolution::step() {
  const std::size_t N = cells();
  std::size_t prunes = 0;
  if (settings_.update == CellUpdate::Sequential) {
    std::vector<std::size_t> order(N);
    std::iota(order.begin(), order.end(), std::size_t{0});
    Rng rng(settings_.seed, kCellOrder, static_cast<std::uint64_t>(epoch_), 0);
    shuffle(order, rng);
    for (std::size_t c : order) {
      const Visited v = visit(c, centres_, evaluators_[0], scratch_[0]);
      prunes += v.pruned;
      evaluations_ += v.evaluations;
    }
  } else {
    const std::vector<float> start = centres_;
    std::vector<Visited> visited(N);
    const int workers = static_cast<int>(evaluators_.size()) - 1;
#pragma omp parallel for num_threads(workers) schedule(dynamic, 1)
    for (long long c = 0; c < static_cast<long long>(N); ++c) {
      const int w = omp_get_thread_num();
      visited[c] = visit(static_cast<std::size_t>(c), start, evaluators_[1 + w], scratch_[w]);
    }
    for (const Visited& v : visited) {
      prunes += v.pruned;
      evaluations_ += v.evaluations;
    }
  }
  ++epoch_;
  measure();
  records_.back().prunes = prunes;
}

Coevolution::Visited Coevolution::visit(std::size_t c, const std::vector<float>& source,
                                        GradientEvaluator& evaluator, VisitScratch& s) {
  const std::size_t G = net_.num_params(), N = cells();
  const auto t = static_cast<std::uint64_t>(epoch_);
  Visited done;
  s.order.resize(samples_);
  std::iota(s.order.begin(), s.order.end(), std::size_t{0});
  Rng order_rng(settings_.seed, kSampleOrder, t, c);
  shuffle(s.order, order_rng);

  const std::vector<std::size_t> members =
      neighbourhood(settings_.topology, N, settings_.radius, settings_.torus_rows, c);
  const std::size_t n = members.size();
  std::size_t chosen = 0;  // the member whose pair trains
  if (n > 1) {
    std::vector<const float*> genomes(n);
    for (std::size_t k = 0; k < n; ++k) genomes[k] = source.data() + members[k] * G;
    const std::size_t B = std::min<std::size_t>(settings_.batch, samples_);
    const ImageSet batch{inputs_.data(), inputs_.data(), s.order.data(), B};
    const std::vector<double> matrix = pair_losses(evaluator, genomes.data(), n, genomes.data(),
                                                   n, encoder_size_, batch, s.pairs);
    done.evaluations += n * n * B;
    Rng rng(settings_.seed, kTournament, t, c);
    chosen = binary_tournament(encoder_losses(matrix, n), rng);
  }
  s.pair.assign(padded_, 0.0f);
  const float* from = source.data() + members[chosen] * G;
  std::copy(from, from + G, s.pair.begin());

  done.evaluations += train_pass(c, evaluator, s);

  const long T = settings_.epochs - 1;
  const double p = prune_probability(settings_.schedule, settings_.prune_probability, epoch_, T,
                                     n);
  if (settings_.pruning != PruneOperator::None &&
      p > Rng(settings_.seed, kPruneDraw, t, c).uniform01()) {
    done.evaluations += prune(c, s);
    done.pruned = true;
  }
  std::copy(s.pair.begin(), s.pair.begin() + G, centres_.begin() + c * G);
  if (settings_.method == CoevoMethod::Coevolution && settings_.lr_mutation > 0.0) {
    Rng rng(settings_.seed, kLearningRate, t, c);
    const double next = learning_rates_[c] + settings_.lr_mutation * rng.normal();
    learning_rates_[c] = std::clamp(next, kMinLearningRate, kMaxLearningRate);
  }
  return done;
}

std::uint64_t Coevolution::train_pass(std::size_t c, GradientEvaluator& evaluator,
                                      VisitScratch& s) {
  double lr = learning_rates_[c];
  if (settings_.method == CoevoMethod::Canonical)  // step decay
    lr *= std::pow(settings_.lr_decay, static_cast<double>(epoch_ / settings_.lr_decay_every));
  LaneSettings lanes;
  lanes.learning_rate = splat(static_cast<float>(lr));
  lanes.beta1 = splat(static_cast<float>(settings_.beta1));
  lanes.beta2 = splat(static_cast<float>(settings_.beta2));
  // Adam is a loop over the parameters, each on its own: the padded genome read as
  // (padded / kLanes, kLanes) steps every parameter as a (G, kLanes) buffer would.
  Optimizer adam(OptimizerKind::Adam, padded_ / kLanes, lanes);
  const bool persistent = settings_.adam == AdamReset::Persistent;
  if (persistent && adam_[c].steps > 0) adam.restore(std::move(adam_[c]));
  const std::size_t G = net_.num_params(), B = settings_.batch;
  s.grad.assign(padded_, 0.0f);
  s.packed.assign(G * kLanes, 0.0f);
  s.packed_grad.resize(G * kLanes);
  for (std::size_t first = 0; first < samples_; first += B) {
    for (std::size_t i = 0; i < G; ++i) s.packed[i * kLanes] = s.pair[i];
    const ImageSet batch{inputs_.data(), inputs_.data(), s.order.data() + first,
                        std::min(B, samples_ - first)};
    double loss = 0.0, metric = 0.0;
    evaluator.population_in_lanes(s.packed.data(), 1, batch, &loss, &metric,
                                  s.packed_grad.data());
    for (std::size_t i = 0; i < G; ++i) s.grad[i] = s.packed_grad[i * kLanes];
    if (!persistent) adam = Optimizer(OptimizerKind::Adam, padded_ / kLanes, lanes);
    adam.step(s.pair.data(), s.grad.data());
  }
  if (persistent) adam_[c] = adam.state();
  return samples_;
}

std::uint64_t Coevolution::prune(std::size_t c, VisitScratch& s) {
  const auto t = static_cast<std::uint64_t>(epoch_);
  Rng rng(settings_.seed, kPruneOperator, t, c);
  float* genome = s.pair.data();
  const std::vector<std::size_t> layers = dense_layers(net_);
  switch (settings_.pruning) {
    case PruneOperator::None: return 0;
    case PruneOperator::Random: prune_random(net_, genome, settings_.prune_amount, rng); return 0;
    case PruneOperator::Variance: {
      const std::size_t B = std::min<std::size_t>(settings_.batch, samples_);
      const std::size_t rows = samples_ / B * B;  // whole batches of the pass, in its order
      const ActivationRecord r =
          record_activations(net_, genome, inputs_.data(), s.order.data(), rows);
      for (std::size_t k = 0; k < layers.size(); ++k) {
        const std::size_t units = net_.layers()[layers[k]].output.size();
        const std::vector<double> q = variance_prune_probabilities(
            variance_scores(r.values[k].data(), rows, units, B), settings_.variance_direction);
        prune_with_probabilities(net_, genome, layers[k], q, rng);
      }
      return rows;
    }
    case PruneOperator::Conjunctive: {
      std::vector<std::size_t> cases(settings_.conjunctive_cases);
      for (std::size_t& i : cases) i = rng.index(samples_);
      const ActivationRecord r =
          record_activations(net_, genome, inputs_.data(), cases.data(), cases.size());
      // Every layer's choice from the record of the unpruned pair, then the prunes.
      std::vector<std::vector<bool>> chosen;
      for (std::size_t k = 0; k < layers.size(); ++k)
        chosen.push_back(conjunctive_selection(r.values[k].data(), cases.size(),
                                               net_.layers()[layers[k]].output.size(),
                                               settings_.conjunctive_threshold));
      for (std::size_t k = 0; k < layers.size(); ++k)
        prune_neurons(net_, genome, layers[k], chosen[k]);
      return cases.size();
    }
  }
  return 0;
}

void Coevolution::measure() {
  const std::size_t N = cells(), G = net_.num_params();
  losses_.assign(N, 0.0);
  std::vector<double> metrics(N);
  const ImageSet all{inputs_.data(), inputs_.data(), nullptr, samples_};
  evaluators_[0].population(centres_.data(), N, all, losses_.data(), metrics.data(), nullptr);
  evaluations_ += N * samples_;
  best_ = static_cast<std::size_t>(std::min_element(losses_.begin(), losses_.end()) -
                                   losses_.begin());
  double mean_kept = 0.0;
  for (std::size_t c = 0; c < N; ++c) mean_kept += kept_fraction(net_, centres_.data() + c * G);
  records_.push_back({losses_[best_], kept_fraction(net_, centres_.data() + best_ * G),
                      mean_kept / static_cast<double>(N), 0});
  if (records_.size() == 1 || losses_[best_] < history().at(improved_at_)) improved_at_ = epoch_;
}

Advanced Coevolution::advance(const StopConditions& stop) { return advance_until(*this, stop); }

}  // namespace evoae
