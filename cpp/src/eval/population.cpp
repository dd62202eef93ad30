// Population evaluation: (genome, image) pairs in items of kLanes, genomes interleaved into
// lane order inside the parallel loop (WorkPool), no locks and no allocation; each worker uses
// its own Workspace.
#include "evoae/eval/population.h"

#include <omp.h>

#include <algorithm>
#include <thread>

#include "evoae/core/simd.h"

namespace evoae {
namespace {

// Which pairs an item holds. Full slots (the first P / kLanes) are kLanes genomes on one
// image and serve S items; each tail slot is one item of up to kLanes pairs of the last
// P % kLanes genomes.
struct Layout {
  std::size_t P, S, full, tail_pairs, tail_slots;
  Layout(std::size_t P, std::size_t S)
      : P(P), S(S), full(P / kLanes), tail_pairs(P % kLanes * S),
        tail_slots((tail_pairs + kLanes - 1) / kLanes) {}
  std::size_t items() const { return full * S + tail_slots; }
  std::size_t slots() const { return full + tail_slots; }
  std::size_t slot_of(std::size_t item) const {
    return item < full * S ? item / S : full + (item - full * S);
  }
  // The pair (genome * S + image) in a lane of an item, or P * S for an empty lane.
  std::size_t pair(std::size_t item, int lane) const {
    if (item < full * S) return ((item / S) * kLanes + lane) * S + item % S;
    const std::size_t k = (item - full * S) * kLanes + lane;
    return k < tail_pairs ? full * kLanes * S + k : P * S;
  }
  // The genome in a lane of a slot (any of the slot's items), or P for none.
  std::size_t genome(std::size_t slot, int lane) const {
    if (slot < full) return slot * kLanes + lane;
    const std::size_t p = pair(full * S + (slot - full), lane);
    return p < P * S ? p / S : P;
  }
};

}  // namespace

PopulationEvaluator::PopulationEvaluator(const Network& net, int threads)
    : net_(net), pool_(threads > 0 ? threads : omp_get_max_threads()) {
  workspaces_.reserve(pool_.threads());
  for (int t = 0; t < pool_.threads(); ++t) workspaces_.emplace_back(net);
}

template <class Consume>
void PopulationEvaluator::run(const float* genomes, std::size_t P, const float* images,
                              std::size_t S, Consume&& consume) {
  const std::size_t G = net_.num_params(), in_size = net_.input_shape().size();
  const Layout layout(P, S);
  // Slots whose lanes hold the same genomes share one packed copy: one genome on many images
  // (P = 1) is packed twice at most, not once per kLanes images.
  std::vector<std::size_t>& storage = slot_storage_;
  std::vector<long>& to_pack = slots_to_pack_;
  storage.assign(layout.slots(), 0);
  to_pack.clear();
  for (std::size_t slot = 0; slot < layout.slots(); ++slot) {
    bool same = slot > 0;
    for (int lane = 0; same && lane < kLanes; ++lane)
      same = layout.genome(slot, lane) == layout.genome(slot - 1, lane);
    if (!same) to_pack.push_back(static_cast<long>(slot));
    storage[slot] = to_pack.size() - 1;
  }
  packed_.resize(to_pack.size() * G * kLanes);
  if (pack_states_size_ < to_pack.size()) {
    pack_states_ = std::make_unique<std::atomic<int>[]>(to_pack.size());
    pack_states_size_ = to_pack.size();
  }
  for (std::size_t k = 0; k < to_pack.size(); ++k) pack_states_[k].store(kUnpacked);
  // The first item that needs a packed copy makes it; another item needing it meanwhile waits
  // the few microseconds this takes. No barrier between packing and computing.
  const auto packed_copy = [&](std::size_t k) {
    std::atomic<int>& state = pack_states_[k];
    float* packed = packed_.data() + k * G * kLanes;
    int expected = kUnpacked;
    if (state.load(std::memory_order_acquire) != kPacked &&
        state.compare_exchange_strong(expected, kPacking, std::memory_order_acq_rel)) {
      const float* source[kLanes];
      for (int lane = 0; lane < kLanes; ++lane) {
        const std::size_t g = layout.genome(to_pack[k], lane);
        source[lane] = g < P ? genomes + g * G : nullptr;
      }
      for (std::size_t i = 0; i < G; ++i)  // writes in order, reads kLanes streams
        for (int lane = 0; lane < kLanes; ++lane)
          packed[i * kLanes + lane] = source[lane] ? source[lane][i] : 0.0f;
      state.store(kPacked, std::memory_order_release);
    }
    while (state.load(std::memory_order_acquire) != kPacked) std::this_thread::yield();
    return packed;
  };
  pool_.run(static_cast<long>(layout.items()), [&](long item, int worker) {
    std::size_t pairs[kLanes];
    const float* lane_images[kLanes];
    for (int lane = 0; lane < kLanes; ++lane) {
      pairs[lane] = layout.pair(item, lane);
      lane_images[lane] = images + (pairs[lane] < P * S ? pairs[lane] % S : 0) * in_size;
    }
    const float* packed = packed_copy(storage[layout.slot_of(item)]);
    consume(net_.forward(packed, lane_images, workspaces_[worker]), pairs);
  });
}

void PopulationEvaluator::forward(const float* genomes, std::size_t P, const float* images,
                                  std::size_t S, float* out) {
  const std::size_t out_size = net_.output_shape().size();
  run(genomes, P, images, S, [&](const float* y, const std::size_t* pairs) {
    for (int lane = 0; lane < kLanes; ++lane) {
      if (pairs[lane] >= P * S) continue;
      float* o = out + pairs[lane] * out_size;
      for (std::size_t p = 0; p < out_size; ++p) o[p] = y[p * kLanes + lane];
    }
  });
}

void PopulationEvaluator::errors(const float* genomes, std::size_t P, const float* inputs,
                                 const float* targets, std::size_t S, double* errors,
                                 ErrorSum kind) {
  const bool squared = kind == ErrorSum::Squared;
  const std::size_t out_size = net_.output_shape().size();
  if (item_errors_.size() < P * S) item_errors_.resize(P * S);
  run(genomes, P, inputs, S, [&](const float* y, const std::size_t* pairs) {
    const float* t[kLanes];
    for (int lane = 0; lane < kLanes; ++lane)
      t[lane] = targets + (pairs[lane] < P * S ? pairs[lane] % S : 0) * out_size;
    const bool one_target = std::all_of(t, t + kLanes, [&](const float* x) { return x == t[0]; });
    // Float partial sums over rows of 32 pixels, added in double (values are at most 1).
    double sum[kLanes] = {};
    for (std::size_t p0 = 0; p0 < out_size; p0 += 32) {
      vfloat chunk{};
      for (std::size_t p = p0; p < std::min(out_size, p0 + 32); ++p) {
        vfloat target = splat(t[0][p]);
        if (!one_target)
          for (int lane = 1; lane < kLanes; ++lane) target[lane] = t[lane][p];
        const vfloat d = load(y + p * kLanes) - target;
        chunk = squared ? fmadd(d, d, chunk) : chunk + vmax(d, -d);
      }
      for (int lane = 0; lane < kLanes; ++lane) sum[lane] += chunk[lane];
    }
    for (int lane = 0; lane < kLanes; ++lane)
      if (pairs[lane] < P * S) item_errors_[pairs[lane]] = sum[lane];
  });
  sum_per_genome(P, S, errors);
}

void PopulationEvaluator::sums(const float* genomes, std::size_t P, const float* inputs,
                               std::size_t S, const ItemValue& value, double* out) {
  if (item_errors_.size() < P * S) item_errors_.resize(P * S);
  run(genomes, P, inputs, S, [&](const float* y, const std::size_t* pairs) {
    for (int lane = 0; lane < kLanes; ++lane)
      if (pairs[lane] < P * S) item_errors_[pairs[lane]] = value(y, lane, pairs[lane] % S);
  });
  sum_per_genome(P, S, out);
}

void PopulationEvaluator::sum_per_genome(std::size_t P, std::size_t S, double* out) const {
  for (std::size_t g = 0; g < P; ++g) {  // image order: the same sum for any thread count
    double sum = 0.0;
    for (std::size_t s = 0; s < S; ++s) sum += item_errors_[g * S + s];
    out[g] = sum;
  }
}

}  // namespace evoae
