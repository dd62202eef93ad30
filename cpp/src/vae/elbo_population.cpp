// A population of VAEs in lanes (elbo_population.h): per block of a step's images, the encoder
// forward, the variational layer, the decoder forward, the reconstruction's gradient, the
// decoder backward to its input (Network::backward's dinput), the layer's backward plus beta
// times the KL's gradient, the encoder backward.
#include "evoae/vae/elbo_population.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "evoae/core/rng.h"
#include "evoae/evo/operators.h"
#include "evoae/vae/variational.h"

namespace evoae {
namespace {

constexpr std::size_t kMaxBlocks = 8;  // of a batch: parallel work for up to 8 threads
constexpr double kPartialBytes = 256.0 * (1 << 20);  // all blocks' partials of a group

std::invalid_argument bad(const std::string& what) { return std::invalid_argument(what); }

}  // namespace

struct VaePopulation::Scratch {
  Workspace enc, dec;
  std::vector<float> eps;        // (B, k): each image's noise
  std::vector<float> z;          // (B, kLanes, k): the decoder's per-lane inputs
  std::vector<float> target;     // (pixels, kLanes): the image in every lane
  std::vector<float> dz;         // (B, k, kLanes)
  std::vector<float> dstats;     // (B, 2k, kLanes)
  std::vector<const float*> in;  // B * kLanes: the encoder's and the decoder's inputs
  std::vector<const float*> zin;
};

VaePopulation::~VaePopulation() = default;

VaePopulation::VaePopulation(const Network& encoder, const Network& decoder,
                             std::vector<float> images, std::size_t train_count,
                             VaeSettings settings, const std::vector<float>& genomes)
    : encoder_(encoder), decoder_(decoder), settings_(settings) {
  const Shape code = encoder.output_shape(), in = encoder.input_shape();
  if (code.height != 1 || code.width != 1 || code.channels % 2)
    throw bad("encoder: its output must be 1x1x2k (k means, then k log-variances), got " +
              code.str());
  k_ = code.channels / 2;
  const Shape din = decoder.input_shape();
  if (din.height != 1 || din.width != k_ || din.channels != 1)
    throw bad("decoder: its input must be 1 x " + std::to_string(k_) +
              " (the encoder's k), got " + din.str());
  if (decoder.output_shape().size() != in.size())
    throw bad("decoder: its output must have the encoder's input size " +
              std::to_string(in.size()) + ", got " + decoder.output_shape().str());
  if (settings.reconstruction != Loss::BinaryCrossEntropy &&
      settings.reconstruction != Loss::MeanSquared)
    throw bad(std::string("reconstruction must be bce or mse, got ") +
              loss_name(settings.reconstruction));
  if (settings.members < 1) throw bad("members must be >= 1");
  if (!(settings.learning_rate > 0.0f) || !std::isfinite(settings.learning_rate))
    throw bad("learning_rate must be > 0");
  pixels_ = in.size();
  if (images.size() % pixels_) throw bad("images: not a whole number of images");
  const std::size_t S = images.size() / pixels_;
  if (train_count < 1 || train_count > S)
    throw bad("train_count must be 1.." + std::to_string(S) + ", got " +
              std::to_string(train_count));
  if (settings.batch < 1 || static_cast<std::size_t>(settings.batch) > train_count)
    throw bad("batch must be 1.." + std::to_string(train_count) +
              " (the training images), got " + std::to_string(settings.batch));
  for (float x : images)
    if (!std::isfinite(x)) throw bad("images hold NaN or infinite values");
  ge_ = encoder.num_params();
  gd_ = decoder.num_params();
  const std::size_t G = ge_ + gd_, P = settings.members;
  if (genomes.size() != P * G)
    throw bad("genomes: expected " + std::to_string(P) + " x " + std::to_string(G) +
              " values, got " + std::to_string(genomes.size()));
  for (float x : genomes)
    if (!std::isfinite(x)) throw bad("genomes hold NaN or infinite values");
  images_ = std::move(images);
  train_count_ = train_count;
  if (settings_.threads <= 0) settings_.threads = omp_get_max_threads();

  groups_ = (P + kLanes - 1) / kLanes;
  const double partial = static_cast<double>(G) * kLanes * sizeof(float);
  blocks_ = std::max<std::size_t>(1, std::min({static_cast<std::size_t>(settings.batch),
                                               kMaxBlocks,
                                               static_cast<std::size_t>(kPartialBytes / partial)}));
  params_.assign(groups_ * G * kLanes, 0.0f);
  for (std::size_t m = 0; m < P; ++m)
    for (std::size_t i = 0; i < G; ++i)
      params_[(m / kLanes) * G * kLanes + i * kLanes + m % kLanes] = genomes[m * G + i];
  partials_.assign(groups_ * blocks_ * G * kLanes, 0.0f);
  for (std::size_t g = 0; g < groups_; ++g) {
    LaneSettings lanes;
    for (int l = 0; l < kLanes; ++l)  // padding lanes: learning rate 0, they stay as they are
      lanes.learning_rate[l] = g * kLanes + l < P ? settings.learning_rate : 0.0f;
    optimizers_.emplace_back(OptimizerKind::Adam, G, lanes);
  }
  const int B = std::min(encoder_.preferred_batch(), decoder_.preferred_batch());
  const std::size_t slots = static_cast<std::size_t>(B) * kLanes;
  for (int t = 0; t < settings_.threads; ++t)
    scratch_.push_back({Workspace(encoder_, B, true), Workspace(decoder_, B, true),
                        std::vector<float>(B * k_), std::vector<float>(slots * k_),
                        std::vector<float>(pixels_ * kLanes), std::vector<float>(slots * k_),
                        std::vector<float>(slots * 2 * k_), std::vector<const float*>(slots),
                        std::vector<const float*>(slots)});
}

void VaePopulation::run_block(std::size_t g, const float* images, const std::size_t* rows,
                              const std::uint64_t* keys, std::size_t count, std::uint64_t step,
                              const float* betas, Scratch& s, double* sums,
                              float* grads) const {
  const std::size_t G = ge_ + gd_, n = pixels_, k = k_;
  const float* enc = params_.data() + g * G * kLanes;
  const float* dec = enc + ge_ * kLanes;
  const int B = s.enc.batch;
  // The loss is a sum over the pixels: the losses' per-value means times n.
  const vfloat scale = splat(static_cast<float>(n));
  for (std::size_t first = 0; first < count; first += B) {
    const int rows_now = static_cast<int>(std::min<std::size_t>(B, count - first));
    for (int b = 0; b < rows_now; ++b) {
      const float* image = images + rows[first + b] * n;
      std::fill_n(s.in.begin() + b * kLanes, kLanes, image);
      variational_noise(settings_.seed, step, keys[first + b], k_, s.eps.data() + b * k);
    }
    const float* stats = encoder_.forward_batch(enc, s.in.data(), rows_now, s.enc);
    for (int b = 0; b < rows_now; ++b) {
      float* z = s.z.data() + b * kLanes * k;
      variational_forward(stats + b * 2 * k * kLanes, s.eps.data() + b * k, k_, z);
      for (int l = 0; l < kLanes; ++l) s.zin[b * kLanes + l] = z + l * k;
    }
    const float* y = decoder_.forward_batch(dec, s.zin.data(), rows_now, s.dec);
    float* dy = grads ? s.dec.grad_a.data() : nullptr;
    for (int b = 0; b < rows_now; ++b) {
      const float* image = images + rows[first + b] * n;
      for (std::size_t p = 0; p < n; ++p) store(s.target.data() + p * kLanes, splat(image[p]));
      float recon[kLanes], kl[kLanes];
      float* dyb = dy ? dy + b * n * kLanes : nullptr;
      loss_forward_backward(settings_.reconstruction, y + b * n * kLanes, s.target.data(),
                            static_cast<int>(n), recon, dyb);
      if (dyb)
        for (std::size_t p = 0; p < n; ++p)
          store(dyb + p * kLanes, load(dyb + p * kLanes) * scale);
      gaussian_kl(stats + b * 2 * k * kLanes, k_, kl);
      for (int l = 0; l < kLanes; ++l) {
        sums[l] += static_cast<double>(recon[l]) * static_cast<double>(n);
        sums[kLanes + l] += kl[l];
      }
    }
    if (!grads) continue;
    decoder_.backward(dec, dy, rows_now, s.dec, grads + ge_ * kLanes, s.dz.data());
    for (int b = 0; b < rows_now; ++b) {
      const float* st = stats + b * 2 * k * kLanes;
      float* ds = s.dstats.data() + b * 2 * k * kLanes;
      variational_backward(st, s.eps.data() + b * k, s.dz.data() + b * k * kLanes, k_, ds);
      float kl[kLanes];
      gaussian_kl(st, k_, kl, betas, ds);
    }
    encoder_.backward(enc, s.dstats.data(), rows_now, s.enc, grads);
  }
}

std::vector<std::size_t> VaePopulation::batch_rows() const {
  Rng rng(settings_.seed, RngPurpose::Batch, static_cast<std::uint64_t>(step_), 0);
  return sample_batch(train_count_, settings_.batch, rng);
}

void VaePopulation::measure(const double* betas, double* recon, double* kl) {
  const std::size_t GL = (ge_ + gd_) * kLanes, P = members();
  for (std::size_t m = 0; m < P; ++m)
    if (!(betas[m] >= 0.0) || !std::isfinite(betas[m]))
      throw bad("betas must be finite and >= 0, member " + std::to_string(m) + " has " +
                std::to_string(betas[m]));
  const std::vector<std::size_t> rows = batch_rows();
  const std::vector<std::uint64_t> keys(rows.begin(), rows.end());
  std::vector<float> lane_betas(groups_ * kLanes, 0.0f);
  for (std::size_t m = 0; m < P; ++m) lane_betas[m] = static_cast<float>(betas[m]);
  const std::size_t units = groups_ * blocks_, count = rows.size();
  std::vector<double> sums(units * 2 * kLanes, 0.0);
#pragma omp parallel for schedule(dynamic, 1) num_threads(settings_.threads)
  for (std::size_t u = 0; u < units; ++u) {
    const std::size_t g = u / blocks_, b = u % blocks_;
    const std::size_t first = b * count / blocks_, last = (b + 1) * count / blocks_;
    float* partial = partials_.data() + u * GL;
    std::fill_n(partial, GL, 0.0f);
    run_block(g, images_.data(), rows.data() + first, keys.data() + first, last - first,
              static_cast<std::uint64_t>(step_), lane_betas.data() + g * kLanes,
              scratch_[omp_get_thread_num()], sums.data() + u * 2 * kLanes, partial);
  }
  // Each group's gradient: its blocks' partials in block order, then the batch mean, left in
  // its first block's partial.
  const float inv = 1.0f / static_cast<float>(count);
  for (std::size_t g = 0; g < groups_; ++g) {
    float* total = partials_.data() + g * blocks_ * GL;
#pragma omp parallel for schedule(static) num_threads(settings_.threads)
    for (std::size_t i = 0; i < GL; ++i) {
      float sum = total[i];
      for (std::size_t b = 1; b < blocks_; ++b) sum += total[b * GL + i];
      total[i] = sum * inv;
    }
  }
  for (std::size_t m = 0; m < P; ++m) {
    const std::size_t g = m / kLanes, l = m % kLanes;
    double r = 0.0, q = 0.0;
    for (std::size_t b = 0; b < blocks_; ++b) {
      r += sums[(g * blocks_ + b) * 2 * kLanes + l];
      q += sums[(g * blocks_ + b) * 2 * kLanes + kLanes + l];
    }
    recon[m] = r / static_cast<double>(count);
    kl[m] = q / static_cast<double>(count);
  }
  evaluations_ += P * count;
}

void VaePopulation::gradient(const double* betas, double* recon, double* kl, float* grads) {
  measure(betas, recon, kl);
  const std::size_t G = ge_ + gd_;
  for (std::size_t m = 0; m < members(); ++m) {
    const float* total = partials_.data() + (m / kLanes) * blocks_ * G * kLanes + m % kLanes;
    for (std::size_t i = 0; i < G; ++i) grads[m * G + i] = total[i * kLanes];
  }
}

void VaePopulation::step(const double* betas, double* recon, double* kl) {
  measure(betas, recon, kl);
  const std::size_t GL = (ge_ + gd_) * kLanes;
  for (std::size_t g = 0; g < groups_; ++g)
    optimizers_[g].step(params_.data() + g * GL, partials_.data() + g * blocks_ * GL);
  ++step_;
}

void VaePopulation::evaluate(const float* images, std::size_t count, std::uint64_t noise_key,
                             double* recon, double* kl) const {
  const std::size_t P = members();
  const std::size_t chunk = static_cast<std::size_t>(scratch_[0].enc.batch);
  const std::size_t items = (count + chunk - 1) / chunk;
  std::vector<std::size_t> rows(count);
  for (std::size_t i = 0; i < count; ++i) rows[i] = i;
  const std::vector<std::uint64_t> keys(rows.begin(), rows.end());
#pragma omp parallel for schedule(dynamic, 1) num_threads(settings_.threads)
  for (std::size_t u = 0; u < groups_ * items; ++u) {
    const std::size_t g = u / items, first = (u % items) * chunk;
    const std::size_t n = std::min(chunk, count - first);
    double sums[2 * kLanes];
    for (std::size_t i = 0; i < n; ++i) {  // image by image: a sum per image
      std::fill_n(sums, 2 * kLanes, 0.0);
      run_block(g, images, rows.data() + first + i, keys.data() + first + i, 1, noise_key,
                nullptr, scratch_[omp_get_thread_num()], sums, nullptr);
      for (int l = 0; l < kLanes; ++l) {
        const std::size_t m = g * kLanes + l;
        if (m >= P) break;
        recon[m * count + first + i] = sums[l];
        kl[m * count + first + i] = sums[kLanes + l];
      }
    }
  }
}

void VaePopulation::copy_member(std::size_t from, std::size_t to) {
  const std::size_t P = members(), G = ge_ + gd_;
  if (from >= P || to >= P)
    throw bad("copy_member: members are 0.." + std::to_string(P - 1) + ", got " +
              std::to_string(from) + " -> " + std::to_string(to));
  if (from == to) return;
  float* group_from = params_.data() + (from / kLanes) * G * kLanes;
  float* group_to = params_.data() + (to / kLanes) * G * kLanes;
  for (std::size_t i = 0; i < G; ++i)
    group_to[i * kLanes + to % kLanes] = group_from[i * kLanes + from % kLanes];
  // Adam's moments live per group: both groups' states, the lane copied across.
  OptimizerState src = optimizers_[from / kLanes].state();
  OptimizerState dst = optimizers_[to / kLanes].state();
  for (std::size_t i = 0; i < G; ++i) {
    const std::size_t a = i * kLanes + from % kLanes, b = i * kLanes + to % kLanes;
    dst.first[b] = src.first[a];
    dst.second[b] = src.second[a];
  }
  optimizers_[to / kLanes].restore(std::move(dst));
}

std::vector<float> VaePopulation::genomes() const {
  const std::size_t P = members(), G = ge_ + gd_;
  std::vector<float> out(P * G);
  for (std::size_t m = 0; m < P; ++m)
    for (std::size_t i = 0; i < G; ++i)
      out[m * G + i] = params_[(m / kLanes) * G * kLanes + i * kLanes + m % kLanes];
  return out;
}

}  // namespace evoae
