// A generation of evolutionary_gan.h: mutation, scoring, crossover by distillation,
// selection, then the discriminator's steps. Each network's Adam runs over its parameters
// laid out as rows of kLanes values (Adam acts value by value, so the lanes are just the
// parameters in order): one optimiser, with its own state and step count, per network.
#include "evoae/gan/evolutionary_gan.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "evoae/core/rng.h"
#include "evoae/core/simd.h"

namespace evoae {
namespace {

std::size_t padded(std::size_t n) { return (n + kLanes - 1) / kLanes * kLanes; }

// Stream agents: one per use within a generation.
constexpr std::uint64_t kMutationNoise = 0, kEvaluationNoise = 1, kCrossoverNoise = 2,
                        kEvaluationImages = 0, kDiscriminatorStep = 10;

// Indices of `values` from the largest, ties in index order.
std::vector<std::size_t> ranked(const std::vector<double>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return values[a] > values[b]; });
  return order;
}

template <class Members>
std::vector<const float*> params_of(const Members& members) {
  std::vector<const float*> p;
  for (const auto& m : members) p.push_back(m.params.data());
  return p;
}

std::vector<float*> rows_of(std::vector<float>& buffer, std::size_t count, std::size_t width) {
  std::vector<float*> p;
  for (std::size_t i = 0; i < count; ++i) p.push_back(buffer.data() + i * width);
  return p;
}

}  // namespace

const char* gan_method_name(GanMethod method) {
  switch (method) {
    case GanMethod::Gan: return "gan";
    case GanMethod::EGan: return "egan";
    case GanMethod::CeGan: return "cegan";
  }
  return "?";
}

GanMethod gan_method_from_name(const std::string& name) {
  for (GanMethod m : {GanMethod::Gan, GanMethod::EGan, GanMethod::CeGan})
    if (name == gan_method_name(m)) return m;
  throw std::invalid_argument("unknown GAN method \"" + name + "\": use gan, egan or cegan");
}

void check_gan_settings(const GanSettings& s) {
  auto bad = [](const std::string& what) { throw std::invalid_argument(what); };
  if (s.parents < 1) bad("parents must be >= 1, got " + std::to_string(s.parents));
  if (s.method == GanMethod::Gan && s.parents != 1)
    bad("gan trains one generator: parents must be 1, got " + std::to_string(s.parents));
  if (s.mutations.empty()) bad("mutations must name at least one generator loss");
  if (s.batch < 1) bad("batch must be >= 1, got " + std::to_string(s.batch));
  if (s.eval_batch < 1) bad("eval_batch must be >= 1, got " + std::to_string(s.eval_batch));
  if (s.d_steps < 0) bad("d_steps must be >= 0, got " + std::to_string(s.d_steps));
  for (float v : {s.g_learning_rate, s.d_learning_rate})
    if (!(v > 0.0f && std::isfinite(v))) bad("learning rates must be > 0, got " + std::to_string(v));
  for (float v : {s.beta1, s.beta2})
    if (!(v >= 0.0f && v < 1.0f)) bad("beta1 and beta2 must be in [0, 1), got " + std::to_string(v));
  if (!(s.diversity_weight >= 0.0f && std::isfinite(s.diversity_weight)))
    bad("diversity_weight must be >= 0, got " + std::to_string(s.diversity_weight));
  if (s.method != GanMethod::CeGan) return;
  const long P = static_cast<long>(s.parents) * static_cast<long>(s.mutations.size());
  const long pairs = P * (P - 1) / 2;
  if (s.crossovers < 1 || s.crossovers > pairs)
    bad("crossovers must be in 1.." + std::to_string(pairs) + " (pairs of " +
        std::to_string(P) + " mutants), got " + std::to_string(s.crossovers));
  if (!s.comprehensive && s.crossovers < s.parents)
    bad("selecting among the children alone needs crossovers >= parents (" +
        std::to_string(s.parents) + "), got " + std::to_string(s.crossovers));
}

EvolutionaryGan::EvolutionaryGan(const Network& generator, const Network& discriminator,
                                 const GanSettings& settings, const float* real, std::size_t S,
                                 const float* generator_genome, const float* discriminator_genome)
    : g_net_(generator), d_net_(discriminator), s_(settings),
      real_(real, real + S * discriminator.input_shape().size()), S_(S),
      pair_(generator, discriminator, settings.threads),
      d_(new_member(discriminator_genome, discriminator.num_params(), settings.d_learning_rate)),
      selected_(settings.mutations.size() + 1, 0) {
  check_gan_settings(s_);
  if (S == 0) throw std::invalid_argument("a GAN needs real images, got none");
  const Member start = new_member(generator_genome, g_net_.num_params(), s_.g_learning_rate);
  parents_.assign(s_.parents, start);
  pair_.set_discriminator(d_.params.data());
}

EvolutionaryGan::Member EvolutionaryGan::new_member(const float* genome, std::size_t G,
                                                    float learning_rate) const {
  LaneSettings lanes;
  lanes.learning_rate = splat(learning_rate);
  lanes.beta1 = splat(s_.beta1);
  lanes.beta2 = splat(s_.beta2);
  Member m{std::vector<float>(padded(G), 0.0f),
           Optimizer(OptimizerKind::Adam, padded(G) / kLanes, lanes)};
  std::copy(genome, genome + G, m.params.begin());
  return m;
}

void EvolutionaryGan::adam_steps(std::vector<Member>& members,
                                 const std::vector<float>& grads) const {
  const std::size_t Gp = padded(g_net_.num_params());
  for (std::size_t i = 0; i < members.size(); ++i)
    members[i].optimizer.step(members[i].params.data(), grads.data() + i * Gp);
}

std::vector<float> EvolutionaryGan::noise(std::size_t n, std::uint64_t agent) const {
  std::vector<float> z(n * pair_.noise_size() + 1);  // + 1: the last pair's second value
  Rng rng(s_.seed, RngPurpose::Sample, generation_, agent);
  for (std::size_t i = 0; i + 1 < z.size(); i += 2) rng.normal_pair(z[i], z[i + 1]);
  z.pop_back();
  return z;
}

std::vector<float> EvolutionaryGan::real_batch(std::size_t n, std::uint64_t agent) const {
  const std::size_t in = d_net_.input_shape().size();
  std::vector<float> batch(n * in);
  Rng rng(s_.seed, RngPurpose::Batch, generation_, agent);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t row = rng.index(S_);
    std::copy(real_.begin() + row * in, real_.begin() + (row + 1) * in, batch.begin() + i * in);
  }
  return batch;
}

void EvolutionaryGan::generate(std::size_t i, const float* noise, std::size_t n,
                               float* out) const {
  g_net_.forward_images(generator_genome(i), noise, n, out, pair_.threads());
}

void EvolutionaryGan::score(const std::vector<Member>& members, const std::vector<float>& z,
                            const std::vector<float>& real_grad, Scores& scores,
                            std::vector<float>* logits, std::vector<float>* samples) {
  const std::size_t P = members.size(), n = s_.eval_batch, Gd = d_net_.num_params();
  std::vector<float> own_logits(P * n), dgrads(real_grad.empty() ? 0 : P * Gd);
  if (samples) samples->assign(P * n * pair_.sample_size(), 0.0f);
  pair_.evaluate(params_of(members), z.data(), n, own_logits.data(),
                 samples ? samples->data() : nullptr,
                 real_grad.empty() ? std::vector<float*>{} : rows_of(dgrads, P, Gd));
  evaluations_ += P * n;
  std::vector<double>&quality = scores.quality, &diversity = scores.diversity,
                      &fitness = scores.fitness;
  quality.assign(P, 0.0);
  diversity.assign(P, 0.0);
  fitness.assign(P, 0.0);
  for (std::size_t p = 0; p < P; ++p) {
    for (std::size_t i = 0; i < n; ++i) quality[p] += sigmoid(own_logits[p * n + i]);
    quality[p] /= static_cast<double>(n);
    if (!real_grad.empty()) {  // D's loss is the real part plus this generator's fake part
      double squares = 0.0;
      for (std::size_t j = 0; j < Gd; ++j) {
        const double g = real_grad[j] + dgrads[p * Gd + j];
        squares += g * g;
      }
      diversity[p] = -0.5 * std::log(squares);
    }
    fitness[p] = quality[p] + s_.diversity_weight * diversity[p];
  }
  if (logits) *logits = std::move(own_logits);
}

void EvolutionaryGan::step() {
  const std::size_t Gp = padded(g_net_.num_params());
  // Mutation: every parent times every loss (gan: one loss).
  const std::size_t losses = s_.method == GanMethod::Gan ? 1 : s_.mutations.size();
  std::vector<Member> mutants;
  std::vector<GeneratorLoss> kinds;
  std::vector<int> origin;
  for (const Member& parent : parents_)
    for (std::size_t j = 0; j < losses; ++j) {
      mutants.push_back(parent);
      kinds.push_back(s_.mutations[j]);
      origin.push_back(static_cast<int>(j));
    }
  const std::vector<float> z = noise(s_.batch, kMutationNoise);
  std::vector<float> grads(mutants.size() * Gp, 0.0f);
  std::vector<double> mutant_losses(mutants.size());
  pair_.generator_gradients(params_of(mutants), kinds, z.data(), s_.batch, mutant_losses.data(),
                            rows_of(grads, mutants.size(), Gp));
  adam_steps(mutants, grads);
  evaluations_ += mutants.size() * s_.batch;
  record_ = GanRecord{};

  if (s_.method == GanMethod::Gan) {
    parents_ = std::move(mutants);
    record_.origin = origin;
    record_.generator_loss = mutant_losses[0];
    ++selected_[0];
  } else {
    select(mutants, mutant_losses, origin);
  }
  train_discriminator();
  ++generation_;
}

void EvolutionaryGan::select(std::vector<Member>& mutants, const std::vector<double>& losses,
                             const std::vector<int>& origin) {
  const std::size_t n = s_.eval_batch, out = pair_.sample_size(), Gp = padded(g_net_.num_params());
  // Scoring on the evaluation batch; D's loss gradient on its real half is shared.
  const std::vector<float> z_eval = noise(n, kEvaluationNoise);
  std::vector<float> real_grad;
  if (s_.diversity_weight > 0.0f) {
    real_grad.assign(d_net_.num_params(), 0.0f);
    const std::vector<float> real = real_batch(n, kEvaluationImages);
    pair_.discriminator_gradient(real.data(), n, nullptr, 0, real_grad.data());
  }
  const bool cegan = s_.method == GanMethod::CeGan;
  Scores m;
  std::vector<float> logits, samples;
  score(mutants, z_eval, real_grad, m, cegan ? &logits : nullptr, cegan ? &samples : nullptr);
  Pool pool;
  if (!cegan || s_.comprehensive)
    for (std::size_t i = 0; i < mutants.size(); ++i)
      pool.add(mutants[i], losses[i], origin[i], m, i);
  if (cegan) {
    // Crossover: pairs by summed fitness; the child of (fitter, other) learns, on each noise
    // vector, the sample D scores higher.
    const std::size_t P = mutants.size();
    std::vector<std::pair<std::size_t, std::size_t>> pairs;
    std::vector<double> sums;
    for (std::size_t a = 0; a < P; ++a)
      for (std::size_t b = a + 1; b < P; ++b) {
        const bool a_fitter = m.fitness[a] >= m.fitness[b];
        pairs.push_back(a_fitter ? std::make_pair(a, b) : std::make_pair(b, a));
        sums.push_back(m.fitness[a] + m.fitness[b]);
      }
    const std::vector<std::size_t> order = ranked(sums);
    std::vector<Member> children;
    std::vector<float> teachers(s_.crossovers * n * out);
    for (int c = 0; c < s_.crossovers; ++c) {
      const auto [f, o] = pairs[order[c]];
      children.push_back(mutants[f]);
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t from = logits[o * n + i] > logits[f * n + i] ? o : f;
        std::copy_n(samples.begin() + (from * n + i) * out, out,
                    teachers.begin() + (c * n + i) * out);
      }
    }
    std::vector<float> grads(children.size() * Gp, 0.0f);
    std::vector<double> child_losses(children.size());
    pair_.distillation_gradients(params_of(children), z_eval.data(), n, teachers.data(),
                                 child_losses.data(), rows_of(grads, children.size(), Gp));
    adam_steps(children, grads);
    evaluations_ += children.size() * n;
    Scores c;
    score(children, noise(n, kCrossoverNoise), real_grad, c, nullptr, nullptr);
    for (std::size_t i = 0; i < children.size(); ++i)
      pool.add(children[i], child_losses[i], kCrossover, c, i);
  }
  // Selection: the best mu of the pool survive, the fittest first.
  const std::vector<std::size_t> order = ranked(pool.scores.fitness);
  parents_.clear();
  for (int k = 0; k < s_.parents; ++k) {
    const std::size_t i = order[k];
    parents_.push_back(std::move(pool.members[i]));
    record_.quality.push_back(pool.scores.quality[i]);
    record_.diversity.push_back(pool.scores.diversity[i]);
    record_.fitness.push_back(pool.scores.fitness[i]);
    record_.origin.push_back(pool.origin[i]);
    record_.generator_loss += pool.losses[i] / s_.parents;
    ++selected_[pool.origin[i] == kCrossover ? s_.mutations.size() : pool.origin[i]];
  }
}

void EvolutionaryGan::train_discriminator() {
  const std::size_t B = s_.batch, mu = parents_.size(), out = pair_.sample_size();
  const std::size_t nz = pair_.noise_size();
  std::vector<float> grad(d_.params.size(), 0.0f);
  for (int k = 0; k < s_.d_steps; ++k) {
    const std::vector<float> real = real_batch(B, kDiscriminatorStep + k);
    const std::vector<float> z = noise(B, kDiscriminatorStep + k);
    std::vector<float> fake(B * out);
    for (std::size_t i = 0; i < mu && i < B; ++i) {  // sample r from survivor r % mu
      std::vector<float> zi, yi;
      for (std::size_t r = i; r < B; r += mu) zi.insert(zi.end(), &z[r * nz], &z[r * nz] + nz);
      yi.resize(zi.size() / nz * out);
      generate(i, zi.data(), zi.size() / nz, yi.data());
      for (std::size_t r = i, j = 0; r < B; r += mu, ++j)
        std::copy_n(yi.begin() + j * out, out, fake.begin() + r * out);
    }
    evaluations_ += B;
    record_.discriminator_loss = pair_.discriminator_gradient(
        real.data(), B, fake.data(), B, grad.data(), &record_.fake_score);
    d_.optimizer.step(d_.params.data(), grad.data());
    pair_.set_discriminator(d_.params.data());
  }
}

}  // namespace evoae
