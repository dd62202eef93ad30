// The loss of networks over many images and its gradient with respect to every parameter,
// in parallel with OpenMP. Two ways to fill the kLanes lanes of a forward pass:
//
//   population   kLanes different networks (packed into lanes, their own weights each) on
//                the same images: every lane sees the same image in a slot. More networks
//                run as groups of kLanes, the last one padded.
//   one network  the genome in every lane and a different image in each lane; the lanes'
//                gradients are summed (lane 0 first) into the one network's gradient.
//
// Losses, metrics and gradients are means over the images (nn/loss.h gives each image's
// loss). Deterministic at any thread count: the images are split into fixed work items
// (forward_batch's B = net.preferred_batch() images per lane each), consecutive items into a
// fixed number of blocks that depends on the image count and the genome size only; a block
// runs its items in order, adding each item's gradient into the block's own partial (Network::
// backward), and the partials are summed block by block in order.
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

class GradientEvaluator {
 public:
  // threads <= 0: OpenMP's default.
  GradientEvaluator(const Network& net, Loss loss, Metric metric = Metric::MeanAbsoluteError,
                    int threads = 0);

  // Population mode: P networks, genomes (P, G). losses, metrics: (P); grads: (P, G), or
  // null for the loss and metric alone (no backward pass).
  void population(const float* genomes, std::size_t P, const ImageSet& images, double* losses,
                  double* metrics, float* grads);
  // The same on `groups` groups of kLanes networks already packed, (groups, G, kLanes).
  // losses, metrics: (groups * kLanes), padding lanes included; grads: (groups, G, kLanes).
  void population_packed(const float* packed, std::size_t groups, const ImageSet& images,
                         double* losses, double* metrics, float* grads);
  // One-network mode: genome (G). grad: (G), or null. An image count that is not a multiple
  // of kLanes leaves lanes empty: they add nothing.
  void one_network(const float* genome, const ImageSet& images, double* loss, double* metric,
                   float* grad);

  const Network& network() const { return net_; }
  Loss loss() const { return loss_; }
  Metric metric() const { return metric_; }
  int threads() const { return threads_; }
  int images_per_lane() const { return batch_; }  // B of an item

 private:
  struct Scratch {  // a thread's: the tape, and B images per lane of targets and dy
    Workspace ws;
    std::vector<float> target, dy;              // (B, output size, kLanes) each
    std::vector<const float*> images, targets;  // B * kLanes; a null target: an empty slot
  };
  // Runs one item: B images per lane, slot (b, lane) at s.images[b * kLanes + lane] with its
  // target at s.targets[...] (null: an empty slot, its image any valid one); adds each lane's losses and metrics into sums (2 * kLanes doubles) and the
  // gradient into grads (null: none).
  void run_item(const float* packed, int B, Scratch& s, double* sums, float* grads) const;
  // Blocks for `items` items of G-parameter partials.
  std::size_t blocks_for(std::size_t items) const;

  const Network& net_;
  Loss loss_;
  Metric metric_;
  int threads_;
  int batch_;
  std::vector<Scratch> scratch_;      // one per thread
  std::vector<float> partials_;       // (units, G, kLanes), reused
  std::vector<double> sums_;          // (units, 2 * kLanes): losses, then metrics
  std::vector<float> packed_one_;     // one_network's genome in every lane
};

}  // namespace evoae
