// The loss of networks over many images and its gradient with respect to every parameter,
// in parallel with OpenMP. The (network, image) pairs are packed into the kLanes SIMD lanes of
// forward and backward passes, each lane carrying one network's weights:
//
//   chains   every network's images are cut into the same nb blocks of consecutive images
//            (nb from the image count, the genome size and B only, blocks_for); a chain is one
//            network on one block, run in one lane, B = net.preferred_batch() images of it per
//            pass (an item), its gradient summed image by image in order into the chain's own
//            partial, from zero.
//   units    kLanes chains run side by side, by one thread: first each full group of kLanes
//            networks (as pack_lanes lays them) on block k, every lane the same image; then
//            the chains of the last P % kLanes networks, block by block, network by network
//            (chain q = k * (P % kLanes) + t), kLanes to a unit, so that only the last unit
//            has empty lanes (1 network on 10 images: 16 lanes, 10 used; 8 networks: 5 units
//            of 16 lanes). A lane past a chain's end adds nothing. A unit is the smallest
//            share of work: a single one (one network on up to kLanes images) runs on one
//            thread without a parallel region. Two threads could only share it by splitting
//            its lanes (twice the work in the same time) or its layers (a barrier per layer
//            for about 0.2 ms of work on the paper's network), so they do not.
//   sums     a network's gradient, loss and metric are its chains' partials added in block
//            order (p0 + p1 + p2 ...), divided by the image count.
//
// So a network's results depend on its genome, the images and nb only: the same bits at any
// thread count, in any lane, alone or among any number of networks (the one-network mode is
// the population of one). Losses, metrics and gradients are means over the images (nn/loss.h
// gives each image's loss).
#pragma once

#include <cstddef>
#include <vector>

#include "evoae/nn/loss.h"
#include "evoae/nn/network.h"

namespace evoae {

// What is reported besides the loss, from the same forward pass: the mean |output - target|
// per value (MAE, the project's measure), or, for a classifier whose targets are one-hot,
// the error rate (the first largest output is not the target's class).
enum class Metric { MeanAbsoluteError, ErrorRate };

// A set of images: image i is row row(i) of inputs (input size each) and of targets (output
// size each). rows: `count` row numbers, or null for rows 0 .. count-1.
struct ImageSet {
  const float* inputs = nullptr;
  const float* targets = nullptr;
  const std::size_t* rows = nullptr;
  std::size_t count = 0;
  std::size_t row(std::size_t i) const { return rows ? rows[i] : i; }
};

// Groups of kLanes networks: (P, G) genomes <-> (groups, G, kLanes) lanes, network p in lane
// p % kLanes of group p / kLanes; the padding lanes of the last group are zero.
std::size_t lane_groups(std::size_t P);
std::vector<float> pack_lanes(const float* genomes, std::size_t P, std::size_t G);
void unpack_lanes(const float* packed, std::size_t P, std::size_t G, float* genomes);
// Bytes the training of P networks on `threads` threads allocates besides its data and the
// partial gradients: the lane-packed weights, gradients and two optimiser moments, and each
// thread's workspace (the tape of every layer's output, preferred_batch() images per lane,
// and four buffers of the largest activation). For the memory checks before allocating.
double training_bytes(const Network& net, std::size_t P, int threads);

class GradientEvaluator {
 public:
  // threads <= 0: OpenMP's default.
  GradientEvaluator(const Network& net, Loss loss, Metric metric = Metric::MeanAbsoluteError,
                    int threads = 0);

  // P networks, genomes (P, G). losses, metrics: (P); grads: (P, G), or null for the loss
  // and metric alone (no backward pass). std::invalid_argument for no images.
  void population(const float* genomes, std::size_t P, const ImageSet& images, double* losses,
                  double* metrics, float* grads);
  // The same on P networks already packed, (lane_groups(P), G, kLanes) as pack_lanes lays
  // them (the optimisers step them so); grads alike, its padding lanes 0.
  void population_in_lanes(const float* packed, std::size_t P, const ImageSet& images,
                           double* losses, double* metrics, float* grads);
  // population_in_lanes of groups * kLanes networks: every lane of `groups` groups counts as
  // a network, padding included. losses, metrics: (groups * kLanes).
  void population_packed(const float* packed, std::size_t groups, const ImageSet& images,
                         double* losses, double* metrics, float* grads);
  // One network, genome (G): population() of one. grad: (G), or null.
  void one_network(const float* genome, const ImageSet& images, double* loss, double* metric,
                   float* grad);

  const Network& network() const { return net_; }
  Loss loss() const { return loss_; }
  Metric metric() const { return metric_; }
  int threads() const { return threads_; }
  int images_per_lane() const { return batch_; }  // B of an item
  // nb: the blocks each network's S images are cut into (see above): enough for one network's
  // chains to fill the lanes (kLanes, or S if fewer), chains of at least B images when S
  // allows, at most 64, and partials of at most 64 MiB per group.
  std::size_t blocks_for(std::size_t S) const;

 private:
  struct Scratch {  // a thread's: the tape, the lanes' genomes and targets of an item
    Workspace ws;
    std::vector<float> params;                  // a unit of tail chains' genomes (G, kLanes)
    std::vector<float> target;                  // (B, output size, kLanes)
    std::vector<const float*> images, targets;  // B * kLanes; a null target: an empty slot
  };
  // Runs one item: `rows` images per lane, slot (b, lane) at s.images[b * kLanes + lane] with
  // its target at s.targets[...] (null: an empty slot, its image any valid one); adds each
  // lane's losses and metrics into sums (2 * kLanes doubles, row by row) and its gradient
  // into grads (null: none).
  void run_item(const float* params, int rows, Scratch& s, double* sums, float* grads) const;

  const Network& net_;
  Loss loss_;
  Metric metric_;
  int threads_;
  int batch_;
  std::vector<Scratch> scratch_;  // one per thread
  std::vector<float> partials_;   // (units of a wave, G, kLanes), reused
  std::vector<double> sums_;      // (units of a wave, 2 * kLanes): losses, then metrics
  // Tail chain q's network (0 .. P % kLanes - 1) and its partial's offset from the first tail
  // unit's, reused.
  std::vector<std::size_t> tail_network_, tail_offset_;
};

}  // namespace evoae
