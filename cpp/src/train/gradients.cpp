// Losses and gradients of networks over many images; see gradients.h for the chains, units
// and sums. Units run in parallel, each by one thread with its own scratch and partial; the
// partials are then added per network in block order, so the thread count changes nothing.
#include "evoae/train/gradients.h"

#include <omp.h>

#include <algorithm>
#include <stdexcept>

#include "evoae/core/simd.h"

namespace evoae {
namespace {

constexpr std::size_t kMaxBlocks = 64;
// Partial gradients: at most this much per group of kLanes networks (fewer blocks for large
// genomes), and per wave of groups run at once (more groups run in waves, with the same
// blocks).
constexpr double kBlockBytes = 64.0 * (1 << 20);
constexpr double kWaveBytes = 256.0 * (1 << 20);

typedef double vdouble __attribute__((vector_size(8 * kLanes)));

// The chains of P networks on S images in nb blocks (gradients.h). Streams: the full groups
// (nb units each, unit k on block k), then the tail (tail_units units of tail chains).
struct Chains {
  std::size_t P, S, nb, full, tail, tail_units;
  Chains(std::size_t P, std::size_t S, std::size_t nb)
      : P(P), S(S), nb(nb), full(P / kLanes), tail(P % kLanes),
        tail_units((P % kLanes * nb + kLanes - 1) / kLanes) {}
  std::size_t start(std::size_t k) const { return k * S / nb; }  // block k's first image
  std::size_t length(std::size_t k) const { return start(k + 1) - start(k); }
  std::size_t streams() const { return full + (tail ? 1 : 0); }
  std::size_t units_of(std::size_t stream) const { return stream < full ? nb : tail_units; }
  // Tail chain q: network full * kLanes + q % tail on block q / tail, in unit q / kLanes,
  // lane q % kLanes.
  bool real(std::size_t q) const { return q < tail * nb; }
};

// t (n, kLanes) = the slots' targets, (n) each; a null one (an empty slot) gives 0.
void gather_targets(float* t, const float* const* targets, std::size_t n) {
  if (std::all_of(targets, targets + kLanes, [&](const float* p) { return p == targets[0]; }) &&
      targets[0]) {  // every lane the same image: a full group
    for (std::size_t p = 0; p < n; ++p) store(t + p * kLanes, splat(targets[0][p]));
    return;
  }
  for (std::size_t p = 0; p < n; ++p)
    for (int l = 0; l < kLanes; ++l) t[p * kLanes + l] = targets[l] ? targets[l][p] : 0.0f;
}

// Each lane's metric of one image: the mean |y - t| summed in double in order, or whether the
// first largest output is not the first largest target.
vdouble lane_metrics(Metric metric, const float* y, const float* t, std::size_t n) {
  if (metric == Metric::MeanAbsoluteError) {
    vdouble sum{};
    for (std::size_t p = 0; p < n; ++p) {
      const vfloat d = load(y + p * kLanes) - load(t + p * kLanes);
      sum += __builtin_convertvector(vmax(d, -d), vdouble);
    }
    return sum / static_cast<double>(n);
  }
  vfloat top_y = load(y), top_t = load(t);
  vint out{}, want{};
  for (std::size_t p = 1; p < n; ++p) {
    const vfloat yp = load(y + p * kLanes), tp = load(t + p * kLanes);
    const vint y_up = yp > top_y, t_up = tp > top_t;
    top_y = y_up ? yp : top_y;
    top_t = t_up ? tp : top_t;
    out = y_up ? static_cast<int>(p) : out;
    want = t_up ? static_cast<int>(p) : want;
  }
  return __builtin_convertvector((out != want) & 1, vdouble);
}

}  // namespace

std::size_t lane_groups(std::size_t P) { return (P + kLanes - 1) / kLanes; }

double training_bytes(const Network& net, std::size_t P, int threads) {
  const double lanes = static_cast<double>(lane_groups(P)) * kLanes;
  const double weights = 4.0 * lanes * net.num_params() * sizeof(float);
  double outputs = 0.0;
  for (const Layer& layer : net.layers()) outputs += static_cast<double>(layer.output.size());
  const double tape = (outputs + 4.0 * net.max_activation_size()) * net.preferred_batch() *
                      kLanes * sizeof(float);
  return weights + threads * tape;
}

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
  const std::size_t slots = static_cast<std::size_t>(batch_) * kLanes;
  scratch_.reserve(threads_);
  for (int t = 0; t < threads_; ++t)
    scratch_.push_back({Workspace(net, batch_, true),
                        std::vector<float>(net.num_params() * kLanes),
                        std::vector<float>(net.output_shape().size() * slots),
                        std::vector<const float*>(slots), std::vector<const float*>(slots)});
}

std::size_t GradientEvaluator::blocks_for(std::size_t S) const {
  const double partial = static_cast<double>(net_.num_params()) * kLanes * sizeof(float);
  const auto affordable = static_cast<std::size_t>(std::max(1.0, kBlockBytes / partial));
  const std::size_t items = (S + batch_ - 1) / batch_;
  const std::size_t wanted = std::min(S, std::max<std::size_t>(kLanes, items));
  return std::max<std::size_t>(1, std::min({wanted, kMaxBlocks, affordable}));
}

void GradientEvaluator::run_item(const float* params, int rows, Scratch& s, double* sums,
                                 float* grads) const {
  const std::size_t n = net_.output_shape().size(), step = n * kLanes;
  const float* y = net_.forward_batch(params, s.images.data(), rows, s.ws);
  // The loss's gradient goes where Network::backward may read it, the workspace's own buffer.
  float* const dy = grads ? s.ws.grad_a.data() : nullptr;
  for (int b = 0; b < rows; ++b) {
    const float* const* targets = s.targets.data() + b * kLanes;
    const float* yb = y + b * step;
    float* t = s.target.data() + b * step;
    gather_targets(t, targets, n);
    float losses[kLanes];
    float* dyb = dy ? dy + b * step : nullptr;
    loss_forward_backward(loss_, yb, t, static_cast<int>(n), losses, dyb);
    const vdouble metrics = lane_metrics(metric_, yb, t, n);
    vint empty{};
    for (int l = 0; l < kLanes; ++l) {
      empty[l] = targets[l] ? 0 : -1;
      if (!targets[l]) continue;  // an empty slot: no loss, no gradient
      sums[l] += losses[l];
      sums[kLanes + l] += metrics[l];
    }
    if (dyb && std::any_of(targets, targets + kLanes, [](const float* p) { return !p; }))
      for (std::size_t p = 0; p < n; ++p)
        store(dyb + p * kLanes, empty ? vfloat{} : load(dyb + p * kLanes));
  }
  if (grads) net_.backward(params, dy, rows, s.ws, grads);
}

void GradientEvaluator::population(const float* genomes, std::size_t P,
                                   const ImageSet& images, double* losses, double* metrics,
                                   float* grads) {
  const std::size_t G = net_.num_params();
  const std::vector<float> packed = pack_lanes(genomes, P, G);
  std::vector<float> packed_grads(grads ? packed.size() : 0);
  population_in_lanes(packed.data(), P, images, losses, metrics,
                      grads ? packed_grads.data() : nullptr);
  if (grads) unpack_lanes(packed_grads.data(), P, G, grads);
}

void GradientEvaluator::population_packed(const float* packed, std::size_t groups,
                                          const ImageSet& images, double* losses,
                                          double* metrics, float* grads) {
  population_in_lanes(packed, groups * kLanes, images, losses, metrics, grads);
}

void GradientEvaluator::one_network(const float* genome, const ImageSet& images, double* loss,
                                    double* metric, float* grad) {
  population(genome, 1, images, loss, metric, grad);
}

void GradientEvaluator::population_in_lanes(const float* packed, std::size_t P,
                                            const ImageSet& images, double* losses,
                                            double* metrics, float* grads) {
  const std::size_t S = images.count, G = net_.num_params(), GL = G * kLanes;
  if (S == 0) throw std::invalid_argument("gradients: no images");
  if (P == 0) return;
  const std::size_t in = net_.input_shape().size(), out = net_.output_shape().size();
  const Chains c(P, S, blocks_for(S));
  const std::size_t streams = c.streams();
  const std::size_t wave = grads ? std::max<std::size_t>(
                                       1, static_cast<std::size_t>(
                                              kWaveBytes / (c.nb * GL * sizeof(float))))
                                 : streams;
  for (std::size_t first = 0; first < streams; first += wave) {
    const std::size_t last = std::min(streams, first + wave);  // streams [first, last)
    const std::size_t fulls = std::min(last, c.full) - std::min(first, c.full);
    const bool tail = last > c.full;  // the tail stream is in this wave, after the full ones
    const std::size_t units = fulls * c.nb + (tail ? c.tail_units : 0);
    tail_network_.clear();
    tail_offset_.clear();
    for (std::size_t q = 0; tail && c.real(q); ++q) {  // where tail chain q's partial is
      tail_network_.push_back(q % c.tail);
      tail_offset_.push_back(q / kLanes * GL + q % kLanes);
    }
    if (grads) partials_.resize(units * GL);
    sums_.assign(units * 2 * kLanes, 0.0);
    const long units_l = static_cast<long>(units), G_l = static_cast<long>(G);
    // One unit (one network on up to kLanes images): no threads to start and wait for.
#pragma omp parallel num_threads(threads_) if (units > 1)
    {
      Scratch& s = scratch_[omp_get_thread_num()];
#pragma omp for schedule(dynamic)
      for (long u = 0; u < units_l; ++u) {
        float* partial = grads ? partials_.data() + u * GL : nullptr;
        if (partial) std::fill(partial, partial + GL, 0.0f);
        double* sums = sums_.data() + u * 2 * kLanes;
        if (static_cast<std::size_t>(u) < fulls * c.nb) {  // group first + u / nb, block u % nb
          const std::size_t g = first + u / c.nb, k = u % c.nb, len = c.length(k);
          for (std::size_t i = 0; i < len; i += batch_) {
            const int rows = static_cast<int>(std::min<std::size_t>(batch_, len - i));
            for (int b = 0; b < rows; ++b) {  // every lane the same image
              const std::size_t row = images.row(c.start(k) + i + b);
              std::fill_n(s.images.begin() + b * kLanes, kLanes, images.inputs + row * in);
              std::fill_n(s.targets.begin() + b * kLanes, kLanes, images.targets + row * out);
            }
            run_item(packed + g * GL, rows, s, sums, partial);
          }
          continue;
        }
        // Tail unit j: lane l runs chain q = j * kLanes + l; a lane past the chains holds a
        // tail network too, with empty slots only.
        const std::size_t j = u - fulls * c.nb;
        std::size_t network[kLanes], begin[kLanes], len[kLanes], longest = 0;
        for (int l = 0; l < kLanes; ++l) {
          const std::size_t q = j * kLanes + l;
          network[l] = q % c.tail;
          begin[l] = c.real(q) ? c.start(q / c.tail) : 0;
          len[l] = c.real(q) ? c.length(q / c.tail) : 0;
          longest = std::max(longest, len[l]);
        }
        vint lanes;  // the genome of lane l is in lane network[l] of the last group
        for (int l = 0; l < kLanes; ++l) lanes[l] = static_cast<int>(network[l]);
        const float* tail_group = packed + c.full * GL;
        for (std::size_t i = 0; i < G; ++i)
          store(s.params.data() + i * kLanes,
                __builtin_shuffle(load(tail_group + i * kLanes), lanes));
        for (std::size_t i = 0; i < longest; i += batch_) {
          const int rows = static_cast<int>(std::min<std::size_t>(batch_, longest - i));
          for (int b = 0; b < rows; ++b)
            for (int l = 0; l < kLanes; ++l) {
              const bool real = i + b < len[l];
              const std::size_t row = images.row(real ? begin[l] + i + b : 0);
              s.images[b * kLanes + l] = images.inputs + row * in;
              s.targets[b * kLanes + l] = real ? images.targets + row * out : nullptr;
            }
          run_item(s.params.data(), rows, s, sums, partial);
        }
      }
      if (grads) {
        // Each network's partials in block order, divided by S. The full groups lane by lane.
        const float S_f = static_cast<float>(S);
#pragma omp for schedule(static)
        for (long i = 0; i < G_l; ++i)
          for (std::size_t f = 0; f < fulls; ++f) {
            const float* p = partials_.data() + f * c.nb * GL + i * kLanes;
            vfloat sum = load(p);
            for (std::size_t k = 1; k < c.nb; ++k) sum += load(p + k * GL);
            store(grads + (first + f) * GL + i * kLanes, sum / S_f);
          }
        // The tail's chains gathered from their lanes, chunk by chunk of the parameters.
        constexpr long kChunk = 256;
        const float* tail_partials = partials_.data() + fulls * c.nb * GL;
#pragma omp for schedule(static)
        for (long i0 = 0; i0 < (tail ? G_l : 0); i0 += kChunk) {
          const long count = std::min(kChunk, G_l - i0);
          float sum[kLanes][kChunk];
          for (std::size_t q = 0; c.real(q); ++q) {
            float* to = sum[tail_network_[q]];
            const float* from = tail_partials + tail_offset_[q] + i0 * kLanes;
            if (q < c.tail)  // block 0
              for (long i = 0; i < count; ++i) to[i] = from[i * kLanes];
            else
              for (long i = 0; i < count; ++i) to[i] += from[i * kLanes];
          }
          for (long i = 0; i < count; ++i)
            for (std::size_t l = 0; l < kLanes; ++l)  // padding lanes: 0
              grads[c.full * GL + (i0 + i) * kLanes + l] = l < c.tail ? sum[l][i] / S_f : 0.0f;
        }
      }
    }
    // The losses and metrics likewise, in double.
    auto finish = [&](std::size_t network, std::size_t unit, int lane, std::size_t k) {
      const double* sums = sums_.data() + unit * 2 * kLanes + lane;
      losses[network] = k == 0 ? sums[0] : losses[network] + sums[0];
      metrics[network] = k == 0 ? sums[kLanes] : metrics[network] + sums[kLanes];
    };
    for (std::size_t f = 0; f < fulls; ++f)
      for (std::size_t k = 0; k < c.nb; ++k)
        for (int l = 0; l < kLanes; ++l) finish((first + f) * kLanes + l, f * c.nb + k, l, k);
    if (tail)
      for (std::size_t q = 0; c.real(q); ++q)
        finish(c.full * kLanes + q % c.tail, fulls * c.nb + q / kLanes,
               static_cast<int>(q % kLanes), q / c.tail);
    for (std::size_t n = first * kLanes; n < std::min(P, last * kLanes); ++n) {
      losses[n] /= static_cast<double>(S);
      metrics[n] /= static_cast<double>(S);
    }
  }
}

}  // namespace evoae
