// The training engine; see trainer.h. The optimisers are in train/optimizer.cpp, the
// parallel gradients in train/gradients.cpp.
#include "evoae/train/trainer.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "evoae/core/rng.h"
#include "evoae/core/simd.h"
#include "evoae/evo/operators.h"

namespace evoae {
namespace {

constexpr double kMaxBytes = 8.0 * (1 << 30);  // the memory a run may ask for

std::invalid_argument bad(const std::string& what) { return std::invalid_argument(what); }

std::string count_text(std::size_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

// Throws unless all n values are finite, naming the row (of `width` values) of the first.
void require_finite(const std::vector<float>& values, std::size_t width, const char* what) {
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      throw bad(std::string(what) + " hold NaN or infinite values, the first in row " +
                std::to_string(i / width));
}

// Glorot & Bengio (2010)'s range sqrt(6 / (fan_in + fan_out)) of a layer's weights, in the
// genome's units (a dense layer's scale divided out); 0 for a layer without weights of its own.
double glorot_limit(const Layer& l) {
  double fan_in = 0, fan_out = 0, scale = 1;
  if (l.is<Conv>()) {  // an output reads one input channel; an input feeds `multiplier`
    const Conv& c = l.as<Conv>();
    fan_in = c.kernel_height * c.kernel_width;
    fan_out = c.multiplier * fan_in;
  } else if (l.is<ConvTranspose>()) {  // an output sums `reducer` input channels
    const ConvTranspose& c = l.as<ConvTranspose>();
    fan_out = c.kernel_height * c.kernel_width;
    fan_in = c.reducer * fan_out;
  } else if (l.is<Dense>()) {
    fan_in = static_cast<double>(l.input.size());
    fan_out = l.as<Dense>().units;
    scale = l.as<Dense>().scale;
  } else {
    return 0.0;
  }
  return std::sqrt(6.0 / (fan_in + fan_out)) / scale;
}

// Network n's initial genome: U(-1, 1) from its own stream (as agent n of an evolution), for
// glorot scaled per layer, biases 0.
void initial_genome(const Network& net, const TrainSettings& s, std::size_t n, float* genome) {
  Rng rng(s.seed, RngPurpose::Init, 0, n);
  for (std::size_t i = 0; i < net.num_params(); ++i) genome[i] = rng.uniform_pm1();
  if (s.init == Init::Uniform) return;
  for (const Layer& l : net.layers()) {
    const auto limit = static_cast<float>(glorot_limit(l));
    for (std::size_t i = l.offset; i < l.offset + l.num_weights; ++i) genome[i] *= limit;
    std::fill_n(genome + l.offset + l.num_weights, l.num_biases, 0.0f);
  }
}

// Sizes in bytes of what a run allocates that grows with the settings.
double run_bytes(const Network& net, const TrainSettings& s, std::size_t S) {
  const int threads = s.threads > 0 ? s.threads : omp_get_max_threads();
  const double labels = static_cast<double>(S) * net.output_shape().size() * sizeof(float);
  // and the partial gradients of a wave (gradients.cpp)
  return training_bytes(net, s.networks, threads) + 256.0 * (1 << 20) + labels;
}

// A classifier's logits: softmax-ce; a sigmoid's outputs in (0, 1): binary cross-entropy (on
// the ten digits it trained the paper's network to a lower MAE than mae or mse itself);
// any other output: mse.
Loss default_loss(const Network& net, const ObjectiveData& data) {
  if (!data.labels.empty()) return Loss::SoftmaxCrossEntropy;
  // The last layer with an activation: reshape, maxpool and unpool keep its range.
  for (auto l = net.layers().rbegin(); l != net.layers().rend(); ++l)
    if (const std::optional<Activation> a = l->activation())
      return a == Activation::Sigmoid ? Loss::BinaryCrossEntropy : Loss::MeanSquared;
  return Loss::MeanSquared;
}

}  // namespace

DataPart data_part_from_name(const std::string& name) {
  if (name == "train") return DataPart::Train;
  if (name == "holdout") return DataPart::Holdout;
  if (name == "all") return DataPart::All;
  throw bad("unknown part '" + name + "': choose train, holdout, all");
}

TrainSettings Trainer::checked(const Network& net, const ObjectiveData& data, TrainSettings s,
                               std::size_t given_genomes) {
  s = resolve_train_settings(s);
  const std::size_t S = data.num_samples, G = net.num_params();
  const Shape in = net.input_shape(), out = net.output_shape();
  if (S < 1) throw bad("at least one image is needed");
  if (data.inputs.size() != S * in.size())
    throw bad("images hold " + std::to_string(data.inputs.size()) + " values, expected " +
              std::to_string(S) + " x " + std::to_string(in.size()));
  if (G == 0) throw bad("the network has no parameters to train");
  if (!s.loss) s.loss = default_loss(net, data);
  if (!data.labels.empty()) {
    if (!data.targets.empty()) throw bad("give targets or labels, not both");
    if (*s.loss != Loss::SoftmaxCrossEntropy)
      throw bad(std::string("labels train a classifier: loss must be 'softmax-ce', got '") +
                loss_name(*s.loss) + "'");
    if (out.size() < 2)
      throw bad("a classifier needs one output (logit) per class, at least 2; the network "
                "gives " + std::to_string(out.size()));
    if (data.labels.size() != S)
      throw bad("labels hold " + std::to_string(data.labels.size()) +
                " values, expected one per image (" + std::to_string(S) + ")");
    for (std::size_t i = 0; i < S; ++i)
      if (data.labels[i] < 0 || static_cast<std::size_t>(data.labels[i]) >= out.size())
        throw bad("label " + std::to_string(data.labels[i]) + " of image " + std::to_string(i) +
                  " is not one of the network's " + std::to_string(out.size()) + " classes");
  } else if (data.targets.empty()) {
    if (!(in == out))
      throw bad("targets are needed: the network's output " + out.str() +
                " differs from its input " + in.str());
  } else if (data.targets.size() != S * out.size()) {
    throw bad("targets hold " + std::to_string(data.targets.size()) + " values, expected " +
              std::to_string(S) + " x " + std::to_string(out.size()) + " (the network's output)");
  }
  require_finite(data.inputs, in.size(), "images");
  require_finite(data.targets, out.size(), "targets");

  const auto held = static_cast<std::size_t>(std::llround(s.holdout * static_cast<double>(S)));
  if (held >= S)
    throw bad("holdout " + setting_value_text(s.holdout) + " holds out all " +
              count_text(S, "image") + " (round(holdout x S) = " + std::to_string(held) +
              "): none is left to train on");
  const std::size_t train = S - held;
  if (static_cast<std::size_t>(s.batch) > train)
    throw bad("batch " + std::to_string(s.batch) + " exceeds the " +
              count_text(train, "training image") +
              (held ? " (" + std::to_string(held) + " of " + std::to_string(S) + " held out)"
                    : std::string()));
  if (static_cast<std::size_t>(s.batch) == train) s.batch = 0;  // all of them
  if (given_genomes && given_genomes != static_cast<std::size_t>(s.networks) * G)
    throw bad("genomes hold " + std::to_string(given_genomes) + " values, expected networks x "
              "parameters = " + std::to_string(s.networks) + " x " + std::to_string(G));
  const double bytes = run_bytes(net, s, data.labels.empty() ? 0 : S);
  if (bytes > kMaxBytes) {
    char text[160];
    std::snprintf(text, sizeof text, "networks %d x %zu parameters needs %.1f GiB, more than "
                  "the limit of %.1f GiB", s.networks, G, bytes / (1 << 30),
                  kMaxBytes / (1 << 30));
    throw bad(text);
  }
  return s;
}

Trainer::Trainer(const Network& net, ObjectiveData data, TrainSettings settings,
                 std::vector<float> genomes)
    : net_(net),
      settings_(checked(net, data, std::move(settings), genomes.size())),
      evaluator_(net_, *settings_.loss,
                 data.labels.empty() ? Metric::MeanAbsoluteError : Metric::ErrorRate,
                 settings_.threads) {
  require_finite(genomes, net_.num_params(), "genomes");
  prepare(std::move(data));
  if (genomes.empty()) {
    genomes.resize(settings_.networks * net_.num_params());
    for (std::size_t n = 0; n < networks(); ++n)
      initial_genome(net_, settings_, n, genomes.data() + n * net_.num_params());
  }
  start_from(genomes.data());
  select_batch();
  measure();
  evaluations_ += networks() * batch_rows_.size();
  history_.push_back(best_error());
}

Trainer::Trainer(const Network& net, ObjectiveData data, TrainSettings settings,
                 TrainerState state)
    : net_(net),
      settings_(checked(net, data, std::move(settings), 0)),
      evaluator_(net_, *settings_.loss,
                 data.labels.empty() ? Metric::MeanAbsoluteError : Metric::ErrorRate,
                 settings_.threads) {
  const std::size_t N = networks(), G = net_.num_params();
  if (state.step < 0)
    throw bad("the state's step must be >= 0, got " + std::to_string(state.step));
  if (state.genomes.size() != N * G)
    throw bad("the state holds " + std::to_string(state.genomes.size()) +
              " genome values, expected networks x parameters = " + std::to_string(N) + " x " +
              std::to_string(G));
  const bool sgd = settings_.optimizer == OptimizerKind::Sgd;
  if (state.first.size() != N * G || state.second.size() != (sgd ? 0 : N * G))
    throw bad(std::string("the state's optimizer moments must be networks x parameters (") +
              std::to_string(N * G) + ") first and " + (sgd ? "no" : std::to_string(N * G)) +
              " second values for optimizer '" + optimizer_name(settings_.optimizer) + "'");
  if (state.history.size() != static_cast<std::size_t>(state.step) + 1)
    throw bad("the state's history must hold step + 1 = " + std::to_string(state.step + 1) +
              " values, got " + std::to_string(state.history.size()));
  require_finite(state.genomes, G, "the state's genomes");
  prepare(std::move(data));
  start_from(state.genomes.data());
  const std::vector<float> first = pack_lanes(state.first.data(), N, G);
  const std::vector<float> second =
      sgd ? std::vector<float>() : pack_lanes(state.second.data(), N, G);
  const std::size_t GL = G * kLanes;
  for (std::size_t g = 0; g < groups_; ++g) {
    OptimizerState o;
    o.steps = state.step;
    o.first.assign(first.begin() + g * GL, first.begin() + (g + 1) * GL);
    if (!sgd) o.second.assign(second.begin() + g * GL, second.begin() + (g + 1) * GL);
    optimizers_[g].restore(std::move(o));
  }
  step_ = state.step;
  evaluations_ = state.evaluations;
  history_ = std::move(state.history);
  for (std::size_t k = 1; k < history_.size(); ++k)
    if (history_[k] < history_[improved_at_]) improved_at_ = static_cast<long>(k);
  select_batch();
  measure();  // the gradient the next step takes: recomputed, the same bits
}

void Trainer::prepare(ObjectiveData data) {
  const std::size_t S = data.num_samples, C = net_.output_shape().size();
  inputs_ = std::move(data.inputs);
  targets_ = std::move(data.targets);
  if (!data.labels.empty()) {  // one-hot targets of the classes
    targets_.assign(S * C, 0.0f);
    for (std::size_t i = 0; i < S; ++i) targets_[i * C + data.labels[i]] = 1.0f;
  }
  const auto held = static_cast<std::size_t>(std::llround(settings_.holdout * double(S)));
  if (held == 0) {
    train_rows_.resize(S);
    for (std::size_t i = 0; i < S; ++i) train_rows_[i] = i;
  } else {  // the first S - held of a seeded permutation, sorted; the rest held out
    Rng rng(settings_.seed, RngPurpose::Holdout, 0, 0);
    train_rows_ = sample_batch(S, S - held, rng);
    std::vector<bool> training(S, false);
    for (std::size_t r : train_rows_) training[r] = true;
    for (std::size_t i = 0; i < S; ++i)
      if (!training[i]) holdout_rows_.push_back(i);
  }
  groups_ = lane_groups(networks());
  const std::size_t GL = net_.num_params() * kLanes;
  grads_.assign(groups_ * GL, 0.0f);
  for (std::size_t g = 0; g < groups_; ++g)
    optimizers_.emplace_back(settings_.optimizer, net_.num_params(), lane_settings(g));
  losses_.resize(networks());
  metrics_.resize(networks());
}

LaneSettings Trainer::lane_settings(std::size_t group) const {
  const TrainSettings& s = settings_;
  LaneSettings lanes;
  lanes.learning_rate = vfloat{};  // padding lanes: no step
  lanes.momentum = lanes.weight_decay = vfloat{};
  for (int l = 0; l < kLanes; ++l) {
    const std::size_t n = group * kLanes + l;
    if (n >= networks()) break;
    lanes.learning_rate[l] = static_cast<float>(TrainSettings::of(s.learning_rate, n));
    lanes.weight_decay[l] = static_cast<float>(TrainSettings::of(s.weight_decay, n));
    if (s.optimizer == OptimizerKind::Sgd) {
      lanes.momentum[l] = static_cast<float>(TrainSettings::of(s.momentum, n));
    } else {
      lanes.beta1[l] = static_cast<float>(TrainSettings::of(s.beta1, n));
      lanes.beta2[l] = static_cast<float>(TrainSettings::of(s.beta2, n));
      lanes.epsilon[l] = static_cast<float>(s.epsilon);
    }
  }
  return lanes;
}

void Trainer::start_from(const float* genomes) {
  params_ = pack_lanes(genomes, networks(), net_.num_params());
}

void Trainer::select_batch() {
  if (settings_.batch == 0) {
    batch_rows_ = train_rows_;
    return;
  }
  Rng rng(settings_.seed, RngPurpose::Batch, static_cast<std::uint64_t>(step_), 0);
  batch_rows_ = sample_batch(train_rows_.size(), settings_.batch, rng);
  for (std::size_t& r : batch_rows_) r = train_rows_[r];
}

void Trainer::measure() {
  const float* targets = targets_.empty() ? inputs_.data() : targets_.data();
  const ImageSet images{inputs_.data(), targets, batch_rows_.data(), batch_rows_.size()};
  evaluator_.population_in_lanes(params_.data(), networks(), images, losses_.data(),
                                 metrics_.data(), grads_.data());
  best_ = 0;  // NaN (a diverged network) loses to any number
  for (std::size_t n = 1; n < networks(); ++n)
    if (losses_[n] < losses_[best_] || (std::isnan(losses_[best_]) && !std::isnan(losses_[n])))
      best_ = n;
}

void Trainer::step() {
  const std::size_t GL = net_.num_params() * kLanes;
  for (std::size_t g = 0; g < groups_; ++g)
    optimizers_[g].step(params_.data() + g * GL, grads_.data() + g * GL);
  ++step_;
  select_batch();
  measure();
  evaluations_ += networks() * batch_rows_.size();
  history_.push_back(best_error());
  if (best_error() < history_[improved_at_]) improved_at_ = step_;
}

Advanced Trainer::advance(const StopConditions& stop) { return advance_until(*this, stop); }

const char* Trainer::metric_name() const {
  return evaluator_.metric() == Metric::ErrorRate ? "error rate" : "MAE";
}

std::vector<float> Trainer::genome(std::size_t network) const {
  const std::size_t G = net_.num_params();
  const float* group = params_.data() + (network / kLanes) * G * kLanes + network % kLanes;
  std::vector<float> g(G);
  for (std::size_t i = 0; i < G; ++i) g[i] = group[i * kLanes];
  return g;
}

std::vector<float> Trainer::genomes() const {
  std::vector<float> out(networks() * net_.num_params());
  unpack_lanes(params_.data(), networks(), net_.num_params(), out.data());
  return out;
}

TrainerState Trainer::state() const {
  const std::size_t N = networks(), G = net_.num_params(), GL = G * kLanes;
  TrainerState s;
  s.step = step_;
  s.genomes = genomes();
  s.history = history_;
  s.evaluations = evaluations_;
  std::vector<float> first(groups_ * GL), second(groups_ * GL);
  for (std::size_t g = 0; g < groups_; ++g) {
    const OptimizerState& o = optimizers_[g].state();
    std::copy(o.first.begin(), o.first.end(), first.begin() + g * GL);
    std::copy(o.second.begin(), o.second.end(), second.begin() + g * GL);
  }
  s.first.resize(N * G);
  unpack_lanes(first.data(), N, G, s.first.data());
  if (settings_.optimizer != OptimizerKind::Sgd) {
    s.second.resize(N * G);
    unpack_lanes(second.data(), N, G, s.second.data());
  }
  return s;
}

Measure Trainer::evaluate(const float* genome, DataPart part) {
  const float* targets = targets_.empty() ? inputs_.data() : targets_.data();
  ImageSet images{inputs_.data(), targets, nullptr, inputs_.size() / net_.input_shape().size()};
  if (part == DataPart::Train) images.rows = train_rows_.data(), images.count = train_rows_.size();
  if (part == DataPart::Holdout) {
    if (holdout_rows_.empty()) throw bad("no images are held out (holdout is 0)");
    images.rows = holdout_rows_.data(), images.count = holdout_rows_.size();
  }
  Measure m;
  evaluator_.one_network(genome, images, &m.fitness, &m.metric, nullptr);
  return m;
}

}  // namespace evoae
