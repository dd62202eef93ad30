// Losses and gradients of networks over many images; see gradients.h. Work units are (group,
// block) pairs, run in parallel, each by one thread with its own scratch and partial
// gradient; the partials are then summed in block order, so the thread count changes nothing.
#include "evoae/train/gradients.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "evoae/core/simd.h"

namespace evoae {
namespace {

constexpr std::size_t kMaxBlocks = 64;
// Partial gradients: at most this much per group (fewer blocks for large genomes), and per
// wave of groups run at once (more groups run in waves, with the same blocks).
constexpr double kBlockBytes = 64.0 * (1 << 20);
constexpr double kWaveBytes = 256.0 * (1 << 20);

// Items [first, last) of block k of `blocks` over `items`.
std::size_t block_start(std::size_t k, std::size_t blocks, std::size_t items) {
  return k * items / blocks;
}

// out (G, kLanes) = the sum of `count` partials (G, kLanes), spaced `stride` floats apart, in
// order; parallel over the parameters.
void sum_partials(const float* partials, std::size_t count, std::size_t stride, std::size_t G,
                  float* out, int threads) {
  const long n = static_cast<long>(G);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (long i = 0; i < n; ++i) {
    vfloat sum = load(partials + i * kLanes);
    for (std::size_t k = 1; k < count; ++k) sum += load(partials + k * stride + i * kLanes);
    store(out + i * kLanes, sum);
  }
}

}  // namespace

std::size_t lane_groups(std::size_t P) { return (P + kLanes - 1) / kLanes; }

std::vector<float> pack_lanes(const float* genomes, std::size_t P, std::size_t G) {
  std::vector<float> packed(lane_groups(P) * G * kLanes, 0.0f);
  for (std::size_t p = 0; p < P; ++p) {
    float* group = packed.data() + (p / kLanes) * G * kLanes + p % kLanes;
    for (std::size_t i = 0; i < G; ++i) group[i * kLanes] = genomes[p * G + i];
  }
  return packed;
}

void unpack_lanes(const float* packed, std::size_t P, std::size_t G, float* genomes) {
  for (std::size_t p = 0; p < P; ++p) {
    const float* group = packed + (p / kLanes) * G * kLanes + p % kLanes;
    for (std::size_t i = 0; i < G; ++i) genomes[p * G + i] = group[i * kLanes];
  }
}

GradientEvaluator::GradientEvaluator(const Network& net, Loss loss, Metric metric, int threads)
    : net_(net), loss_(loss), metric_(metric),
      threads_(threads > 0 ? threads : omp_get_max_threads()), batch_(net.preferred_batch()) {
  const std::size_t n = net.output_shape().size() * batch_ * kLanes;
  scratch_.reserve(threads_);
  for (int t = 0; t < threads_; ++t)
    scratch_.push_back({Workspace(net, batch_, true), std::vector<float>(n),
                        std::vector<float>(n), std::vector<const float*>(batch_ * kLanes),
                        std::vector<const float*>(batch_ * kLanes)});
}

std::size_t GradientEvaluator::blocks_for(std::size_t items) const {
  const double partial = static_cast<double>(net_.num_params()) * kLanes * sizeof(float);
  const auto affordable = static_cast<std::size_t>(std::max(1.0, kBlockBytes / partial));
  return std::max<std::size_t>(1, std::min({items, kMaxBlocks, affordable}));
}

void GradientEvaluator::run_item(const float* packed, int B, Scratch& s, double* sums,
                                 float* grads) const {
  const std::size_t n = net_.output_shape().size();
  const float* y = net_.forward_batch(packed, s.images.data(), B, s.ws);
  float lane_losses[kLanes];
  for (int b = 0; b < B; ++b) {
    const float* const* targets = s.targets.data() + b * kLanes;
    const float* yb = y + b * n * kLanes;
    float* t = s.target.data() + b * n * kLanes;
    for (std::size_t p = 0; p < n; ++p)
      for (int l = 0; l < kLanes; ++l) t[p * kLanes + l] = targets[l] ? targets[l][p] : 0.0f;
    float* dy = grads ? s.dy.data() + b * n * kLanes : nullptr;
    loss_forward_backward(loss_, yb, t, static_cast<int>(n), lane_losses, dy);
    for (int l = 0; l < kLanes; ++l) {
      if (!targets[l]) {  // an empty slot: no loss, no gradient
        if (dy)
          for (std::size_t p = 0; p < n; ++p) dy[p * kLanes + l] = 0.0f;
        continue;
      }
      double metric = 0.0;
      if (metric_ == Metric::MeanAbsoluteError) {
        for (std::size_t p = 0; p < n; ++p) metric += std::abs(yb[p * kLanes + l] - t[p * kLanes + l]);
        metric /= static_cast<double>(n);
      } else {
        std::size_t out = 0, want = 0;  // the first largest of each
        for (std::size_t p = 1; p < n; ++p) {
          if (yb[p * kLanes + l] > yb[out * kLanes + l]) out = p;
          if (t[p * kLanes + l] > t[want * kLanes + l]) want = p;
        }
        metric = out != want;
      }
      sums[l] += lane_losses[l];
      sums[kLanes + l] += metric;
    }
  }
  if (grads) net_.backward(packed, s.dy.data(), B, s.ws, grads);
}

void GradientEvaluator::population(const float* genomes, std::size_t P,
                                   const ImageSet& images, double* losses, double* metrics,
                                   float* grads) {
  const std::size_t G = net_.num_params(), groups = lane_groups(P);
  const std::vector<float> packed = pack_lanes(genomes, P, G);
  std::vector<float> packed_grads(grads ? packed.size() : 0);
  std::vector<double> lane_losses(groups * kLanes), lane_metrics(groups * kLanes);
  population_packed(packed.data(), groups, images, lane_losses.data(), lane_metrics.data(),
                    grads ? packed_grads.data() : nullptr);
  std::copy_n(lane_losses.begin(), P, losses);
  std::copy_n(lane_metrics.begin(), P, metrics);
  if (grads) unpack_lanes(packed_grads.data(), P, G, grads);
}

void GradientEvaluator::population_packed(const float* packed, std::size_t groups,
                                          const ImageSet& images, double* losses,
                                          double* metrics, float* grads) {
  const std::size_t S = images.count, G = net_.num_params();
  if (S == 0) throw std::invalid_argument("gradients: no images");
  const std::size_t in = net_.input_shape().size(), out = net_.output_shape().size();
  const std::size_t items = (S + batch_ - 1) / batch_, blocks = blocks_for(items);
  const std::size_t partial = G * kLanes;
  const std::size_t wave = grads ? std::max<std::size_t>(
                                       1, static_cast<std::size_t>(
                                              kWaveBytes / (blocks * partial * sizeof(float))))
                                 : groups;
  for (std::size_t first = 0; first < groups; first += wave) {
    const std::size_t count = std::min(wave, groups - first), units = count * blocks;
    if (grads) partials_.resize(units * partial);
    sums_.assign(units * 2 * kLanes, 0.0);
    const long units_l = static_cast<long>(units);
#pragma omp parallel for num_threads(threads_) schedule(dynamic)
    for (long u = 0; u < units_l; ++u) {
      const std::size_t g = first + u / blocks, k = u % blocks;
      Scratch& s = scratch_[omp_get_thread_num()];
      float* partial_u = grads ? partials_.data() + u * partial : nullptr;
      if (partial_u) std::fill(partial_u, partial_u + partial, 0.0f);
      for (std::size_t i = block_start(k, blocks, items); i < block_start(k + 1, blocks, items);
           ++i) {
        const int B = static_cast<int>(std::min<std::size_t>(batch_, S - i * batch_));
        for (int b = 0; b < B; ++b) {  // every lane the same image
          const std::size_t row = images.row(i * batch_ + b);
          std::fill_n(s.images.begin() + b * kLanes, kLanes, images.inputs + row * in);
          std::fill_n(s.targets.begin() + b * kLanes, kLanes, images.targets + row * out);
        }
        run_item(packed + g * partial, B, s, sums_.data() + u * 2 * kLanes, partial_u);
      }
    }
    for (std::size_t gi = 0; gi < count; ++gi) {
      const std::size_t g = first + gi;
      if (grads) {
        float* gg = grads + g * partial;
        sum_partials(partials_.data() + gi * blocks * partial, blocks, partial, G, gg, threads_);
        for (std::size_t i = 0; i < partial; ++i) gg[i] /= static_cast<float>(S);
      }
      for (int l = 0; l < kLanes; ++l) {
        double loss = 0.0, metric = 0.0;
        for (std::size_t k = 0; k < blocks; ++k) {
          loss += sums_[((gi * blocks + k) * 2) * kLanes + l];
          metric += sums_[((gi * blocks + k) * 2 + 1) * kLanes + l];
        }
        losses[g * kLanes + l] = loss / static_cast<double>(S);
        metrics[g * kLanes + l] = metric / static_cast<double>(S);
      }
    }
  }
}

void GradientEvaluator::one_network(const float* genome, const ImageSet& images, double* loss,
                                    double* metric, float* grad) {
  const std::size_t S = images.count, G = net_.num_params();
  if (S == 0) throw std::invalid_argument("gradient: no images");
  const std::size_t in = net_.input_shape().size(), out = net_.output_shape().size();
  packed_one_.resize(G * kLanes);
  for (std::size_t i = 0; i < G; ++i)
    std::fill_n(packed_one_.begin() + i * kLanes, kLanes, genome[i]);
  const std::size_t per_item = static_cast<std::size_t>(batch_) * kLanes;
  const std::size_t items = (S + per_item - 1) / per_item, blocks = blocks_for(items);
  const std::size_t partial = G * kLanes;
  if (grad) partials_.resize(blocks * partial);
  sums_.assign(blocks * 2 * kLanes, 0.0);
  const long blocks_l = static_cast<long>(blocks);
#pragma omp parallel for num_threads(threads_) schedule(dynamic)
  for (long k = 0; k < blocks_l; ++k) {
    Scratch& s = scratch_[omp_get_thread_num()];
    float* partial_k = grad ? partials_.data() + k * partial : nullptr;
    if (partial_k) std::fill(partial_k, partial_k + partial, 0.0f);
    for (std::size_t i = block_start(k, blocks, items); i < block_start(k + 1, blocks, items);
         ++i) {
      const std::size_t first = i * per_item, here = std::min(per_item, S - first);
      const int B = static_cast<int>((here + kLanes - 1) / kLanes);
      for (std::size_t slot = 0; slot < static_cast<std::size_t>(B) * kLanes; ++slot) {
        const bool empty = slot >= here;  // image first + slot sits in slot (b, lane)
        const std::size_t row = images.row(first + (empty ? 0 : slot));
        s.images[slot] = images.inputs + row * in;
        s.targets[slot] = empty ? nullptr : images.targets + row * out;
      }
      run_item(packed_one_.data(), B, s, sums_.data() + k * 2 * kLanes, partial_k);
    }
  }
  double loss_sum = 0.0, metric_sum = 0.0;
  for (std::size_t k = 0; k < blocks; ++k)
    for (int l = 0; l < kLanes; ++l) {
      loss_sum += sums_[(k * 2) * kLanes + l];
      metric_sum += sums_[(k * 2 + 1) * kLanes + l];
    }
  *loss = loss_sum / static_cast<double>(S);
  *metric = metric_sum / static_cast<double>(S);
  if (!grad) return;
  std::vector<float> lanes(partial);
  sum_partials(partials_.data(), blocks, partial, G, lanes.data(), threads_);
  for (std::size_t i = 0; i < G; ++i) {  // the lanes' gradients, lane 0 first
    float sum = lanes[i * kLanes];
    for (int l = 1; l < kLanes; ++l) sum += lanes[i * kLanes + l];
    grad[i] = sum / static_cast<float>(S);
  }
}

}  // namespace evoae
