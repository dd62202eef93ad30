// The network builder (shapes, parameter counts, offsets, errors) and Network::forward, which
// runs 8 genomes in SIMD lanes, against the reference ops chained by hand over genome slices
// at the documented offsets and against reference::network_forward, every lane with its own
// genome.
#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "check.h"
#include "evoae/nn/network.h"
#include "evoae/nn/reference_ops.h"

using evoae::Activation;
using evoae::Network;
using evoae::Shape;
using lanes::L;

namespace {

constexpr Activation kSigmoid = Activation::Sigmoid;  // the original's dense layers

// Network::forward on 8 genomes (one per lane) and one image; returns each lane's output.
PerLane forward_lanes(const Network& net, const PerLane& genomes, const std::vector<float>& image,
                      evoae::Workspace& ws) {
  const std::vector<float> interleaved = lanes::interleave(genomes);
  const float* y = net.forward(interleaved.data(), image.data(), ws);
  PerLane out(L);
  for (int l = 0; l < L; ++l) out[l] = lanes::lane(y, net.output_shape().size(), l);
  return out;
}

}  // namespace

TEST(varadi_shapes_and_kinds) {
  const Network net = evoae::varadi_network();
  const std::vector<Shape> shapes = {
      {28, 28, 1}, {24, 24, 1}, {12, 12, 1}, {8, 8, 1},    {4, 4, 1},     {1, 1, 5},    {1, 1, 2},
      {1, 1, 5},   {1, 1, 160}, {4, 4, 10},  {8, 8, 10}, {12, 12, 10}, {24, 24, 10}, {28, 28, 1}};
  const std::vector<std::string> kinds = {
      "input", "conv",    "maxpool", "conv",           "maxpool", "dense",  "dense",
      "dense", "dense",   "reshape", "unpool",         "conv_transpose",    "unpool",
      "conv_transpose"};
  CHECK(net.layers().size() == shapes.size());
  if (net.layers().size() != shapes.size()) return;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const evoae::Layer& l = net.layers()[i];
    if (!(l.output == shapes[i]))
      std::printf("  layer %zu (%s): output %s, expected %s\n", i, l.call().c_str(),
                  l.output.str().c_str(), shapes[i].str().c_str());
    CHECK(l.output == shapes[i]);
    CHECK(l.name() == kinds[i]);
    if (i > 0) CHECK(l.input == net.layers()[i - 1].output);
  }
  CHECK(net.input_shape() == (Shape{28, 28, 1}));
  CHECK(net.output_shape() == (Shape{28, 28, 1}));
  CHECK(net.max_activation_size() == 24u * 24u * 10u);
  CHECK(net.layers()[1].call() == "conv(5, 5, 1)");
  CHECK(net.layers()[9].call() == "reshape(4, 4, 10)");
  CHECK(net.layers()[13].call() == "conv_transpose(5, 5, 10)");
  CHECK(net.summary().find("total parameters: 1397") != std::string::npos);
}

TEST(varadi_parameter_counts_and_offsets) {
  const Network net = evoae::varadi_network();
  CHECK(net.num_params() == 1397u);
  // Per layer: {weights, biases, offset}; the offset is the running sum of the counts above.
  struct Count { std::size_t weights, biases, offset; };
  const std::vector<Count> want = {
      {0, 0, 0},      {25, 0, 0},       {0, 0, 25},     {25, 0, 25},  {0, 0, 50},
      {80, 5, 50},    {10, 2, 135},     {10, 5, 147},   {800, 160, 162},
      {0, 0, 1122},   {0, 0, 1122},     {25, 0, 1122},  {0, 0, 1147}, {250, 0, 1147}};
  CHECK(net.layers().size() == want.size());
  if (net.layers().size() != want.size()) return;
  std::size_t weights = 0, biases = 0;
  std::vector<std::size_t> nonzero;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const evoae::Layer& l = net.layers()[i];
    CHECK(l.num_weights == want[i].weights);
    CHECK(l.num_biases == want[i].biases);
    CHECK(l.offset == want[i].offset);
    weights += l.num_weights;
    biases += l.num_biases;
    if (l.num_params()) nonzero.push_back(l.num_params());
  }
  CHECK(nonzero == (std::vector<std::size_t>{25, 25, 85, 12, 15, 960, 25, 250}));
  // 25+25+80+10+10+800+25+250 weights, 5+2+5+160 biases. (docs/reference-system.md's split
  // "1215 weights, 182 biases" does not add up from its own layer list; the total does.)
  CHECK(weights == 1225u);
  CHECK(biases == 172u);
}

TEST(varadi_multiply_adds) {
  // 576*25 + 64*25 (convs) + 80+10+10+800 (dense) + 640*25 + 5760*25 (transposed convs, as
  // defined: every input value times every tap) = 176,900, "about 177,000", last one 81%.
  const Network net = evoae::varadi_network();
  CHECK(net.multiply_adds() == 176900u);
  CHECK(net.layers().back().multiply_adds() == 144000u);
}

// Network::forward of the whole Varadi network, 8 genomes in 8 lanes, equals for every lane
// the reference ops chained by hand on that lane's genome, each reading its genome slice at
// the offsets written here; reference::network_forward gives the same chain.
TEST(varadi_forward_equals_reference_chain) {
  const Network net = evoae::varadi_network();
  std::mt19937 gen(11);
  const PerLane genomes = lanes::random_per_lane(gen, 1397);
  const std::vector<float> image = random_buffer(gen, 784, 0.1f, 0.9f);
  namespace ref = evoae::reference;
  PerLane chain(L);
  for (int l = 0; l < L; ++l) {
    const std::vector<float>& g = genomes[l];
    std::vector<float> a1(576), a2(144), a3(64), a4(16), d1(5), d2(2), d3(5), d4(160), u1(640),
        t1(1440), u2(5760), out(784);
    ref::conv_forward(a1.data(), image.data(), &g[0], 1, 28, 28, 5, 5, 1);
    ref::maxpool_forward(a2.data(), a1.data(), 1, 24, 24);
    ref::conv_forward(a3.data(), a2.data(), &g[25], 1, 12, 12, 5, 5, 1);
    ref::maxpool_forward(a4.data(), a3.data(), 1, 8, 8);
    ref::dense_forward(d1.data(), a4.data(), &g[50], &g[50 + 80], 16, 5, kSigmoid);
    ref::dense_forward(d2.data(), d1.data(), &g[135], &g[135 + 10], 5, 2, kSigmoid);
    ref::dense_forward(d3.data(), d2.data(), &g[147], &g[147 + 10], 2, 5, kSigmoid);
    ref::dense_forward(d4.data(), d3.data(), &g[162], &g[162 + 800], 5, 160, kSigmoid);
    ref::unpool_forward(u1.data(), d4.data(), 10, 4, 4);  // reshape(4, 4, 10): same buffer
    ref::conv_transpose_forward(t1.data(), u1.data(), &g[1122], 10, 8, 8, 5, 5, 1, 1);
    ref::unpool_forward(u2.data(), t1.data(), 10, 12, 12);
    ref::conv_transpose_forward(out.data(), u2.data(), &g[1147], 10, 24, 24, 5, 5, 10, 1);
    chain[l] = out;
    // reference::network_forward runs the same ops in the same order: identical floats.
    CHECK(ref::network_forward(net, g.data(), image.data()) == out);
  }

  evoae::Workspace ws(net);
  const PerLane y = forward_lanes(net, genomes, image, ws);
  double d = 0.0;
  for (int l = 0; l < L; ++l) d = std::max(d, max_abs_diff(y[l], chain[l]));
  std::printf("  varadi forward, 8 lanes: max |Network::forward - reference chain| = %.3g\n", d);
  CHECK(d < 1e-5);
  // The chain is not trivially constant (outputs vary across pixels), and the lanes differ.
  double lo = 1, hi = 0;
  for (float v : chain[0]) lo = std::min<double>(lo, v), hi = std::max<double>(hi, v);
  CHECK(hi - lo > 1e-3);
  for (int l = 1; l < L; ++l) CHECK(max_abs_diff(chain[l], chain[0]) > 1e-3);
  // A second call on the same workspace gives the same result (no stale state).
  CHECK(forward_lanes(net, genomes, image, ws) == y);
}

// A small network with every layer kind, incl. conv multiplier and conv_transpose reducer.
TEST(small_forward_equals_reference_chain) {
  Network net(6, 5);
  net.conv(2, 2, 2).maxpool().dense(4).reshape(1, 2, 2).unpool().conv_transpose(2, 2, 2);
  // conv 6x5x1 -> 5x4x2 (8 weights @0); maxpool -> 2x2x2; dense 8 -> 4 (32 + 4 @8);
  // reshape 1x2x2; unpool 2x4x2; conv_transpose(2, 2, 2) -> 3x5x1 (8 weights @44).
  CHECK(net.num_params() == 52u);
  CHECK(net.output_shape() == (Shape{3, 5, 1}));
  CHECK(net.layers()[3].offset == 8u);
  CHECK(net.layers()[6].offset == 44u);
  std::mt19937 gen(12);
  evoae::Workspace ws(net);
  for (int trial = 0; trial < 5; ++trial) {
    const PerLane genomes = lanes::random_per_lane(gen, 52);
    const std::vector<float> image = random_buffer(gen, 30);
    const PerLane y = forward_lanes(net, genomes, image, ws);
    double diff = 0.0;
    for (int l = 0; l < L; ++l) {
      const std::vector<float>& g = genomes[l];
      namespace ref = evoae::reference;
      std::vector<float> c(40), p(8), d(4), u(16), out(15);
      ref::conv_forward(c.data(), image.data(), &g[0], 1, 6, 5, 2, 2, 2);
      ref::maxpool_forward(p.data(), c.data(), 2, 5, 4);
      ref::dense_forward(d.data(), p.data(), &g[8], &g[40], 8, 4, kSigmoid);
      ref::unpool_forward(u.data(), d.data(), 2, 1, 2);
      ref::conv_transpose_forward(out.data(), u.data(), &g[44], 2, 2, 4, 2, 2, 2, 1);
      diff = std::max(diff, max_abs_diff(y[l], out));
      CHECK(ref::network_forward(net, g.data(), image.data()) == out);
    }
    std::printf("  small forward trial %d, 8 lanes: max |Network::forward - reference chain| = "
                "%.3g\n", trial, diff);
    CHECK(diff < 1e-5);
  }
}

// Network::forward (lanes, fused unpool + conv_transpose) against reference::network_forward
// (one genome, plain ops, no fusion) on networks covering every layer kind, an unpool fused
// with the conv_transpose after it, an unpool that is not (followed by conv or maxpool, or
// last), and a conv_transpose with no unpool before it.
TEST(forward_lanes_equal_reference_network) {
  std::vector<std::pair<const char*, Network>> nets;
  nets.emplace_back("varadi", evoae::varadi_network());
  nets.emplace_back("small", Network(6, 5).conv(2, 2, 2).maxpool().dense(4).reshape(1, 2, 2)
                                 .unpool().conv_transpose(2, 2, 2));
  // 7x6 -> conv 6x4x3 -> conv_transpose 8x5x1 -> unpool 16x10 -> conv 14x8x2 -> maxpool 7x4x2
  // -> unpool 14x8x2 -> maxpool 7x4x2 -> dense 6 -> reshape 2x3x1 -> unpool 4x6
  // -> conv_transpose(4, 3, 1) 7x8x1
  nets.emplace_back("every kind", Network(7, 6).conv(2, 3, 3).conv_transpose(3, 2, 3).unpool()
                                      .conv(3, 3, 2).maxpool().unpool().maxpool().dense(6)
                                      .reshape(2, 3, 1).unpool().conv_transpose(4, 3, 1));
  // 5x5 -> conv 4x4x4 -> maxpool 2x2x4 -> unpool 4x4x4 -> conv_transpose(3, 3, 2) 6x6x2
  // -> unpool 12x12x2 (last)
  nets.emplace_back("reducer 2, unpool last", Network(5, 5).conv(2, 2, 4).maxpool().unpool()
                                                  .conv_transpose(3, 3, 2).unpool());
  // The same kinds with the activations that are not the defaults, the fused pair included.
  nets.emplace_back("activations", Network(7, 6).conv(2, 3, 3, Activation::Tanh)
                                       .conv_transpose(3, 2, 3, Activation::ReLU).unpool()
                                       .conv(3, 3, 2, Activation::Identity).maxpool()
                                       .conv(2, 2, 1, Activation::Sigmoid).dense(6)
                                       .reshape(2, 3, 1).unpool()
                                       .conv_transpose(4, 3, 1, Activation::Identity).unpool()
                                       .conv_transpose(2, 2, 1, Activation::Tanh));
  CHECK(nets[2].second.output_shape() == (Shape{7, 8, 1}));
  CHECK(nets[3].second.output_shape() == (Shape{12, 12, 2}));
  std::mt19937 gen(14);
  for (const auto& [name, net] : nets) {
    evoae::Workspace ws(net);
    double d = 0.0;
    for (int image_no = 0; image_no < 3; ++image_no) {
      const PerLane genomes = lanes::random_per_lane(gen, net.num_params());
      const std::vector<float> image = random_buffer(gen, net.input_shape().size(), 0.1f, 0.9f);
      const PerLane y = forward_lanes(net, genomes, image, ws);
      for (int l = 0; l < L; ++l) {
        const std::vector<float> want =
            evoae::reference::network_forward(net, genomes[l].data(), image.data());
        CHECK(want.size() == net.output_shape().size());
        const double dl = max_abs_diff(y[l], want);
        if (!(dl < 1e-5)) std::printf("  %s: lane %d off by %.3g\n", name, l, dl);
        d = std::max(d, dl);
      }
    }
    std::printf("  %s (%zu params): max |Network::forward lane - reference::network_forward| "
                "= %.3g\n", name, net.num_params(), d);
    CHECK(d < 1e-5);
  }
}

// The overload with an image of its own for each lane: lane l = (genome l, image l), against
// reference::network_forward; and it agrees bit for bit with the one-image overload when the
// lanes' images are equal, whether passed as one pointer or as eight copies.
TEST(forward_per_lane_images_equal_reference_network) {
  std::vector<std::pair<const char*, Network>> nets;
  nets.emplace_back("varadi", evoae::varadi_network());
  nets.emplace_back("every kind", Network(7, 6).conv(2, 3, 3).conv_transpose(3, 2, 3).unpool()
                                      .conv(3, 3, 2).maxpool().unpool().maxpool().dense(6)
                                      .reshape(2, 3, 1).unpool().conv_transpose(4, 3, 1));
  std::mt19937 gen(15);
  for (const auto& [name, net] : nets) {
    const std::size_t in_size = net.input_shape().size(), out_size = net.output_shape().size();
    evoae::Workspace ws(net);
    const PerLane genomes = lanes::random_per_lane(gen, net.num_params());
    const PerLane images = lanes::random_per_lane(gen, in_size, 0.1f, 0.9f);
    const std::vector<float> interleaved = lanes::interleave(genomes);
    const float* pointers[L];
    for (int l = 0; l < L; ++l) pointers[l] = images[l].data();
    const float* y = net.forward(interleaved.data(), pointers, ws);
    double d = 0.0;
    for (int l = 0; l < L; ++l) {
      const std::vector<float> want =
          evoae::reference::network_forward(net, genomes[l].data(), images[l].data());
      const double dl = max_abs_diff(lanes::lane(y, out_size, l), want);
      if (!(dl < 1e-5)) std::printf("  %s: lane %d off by %.3g\n", name, l, dl);
      d = std::max(d, dl);
    }
    std::printf("  %s, own image per lane: max |Network::forward lane - "
                "reference::network_forward| = %.3g\n", name, d);
    CHECK(d < 1e-5);

    // Equal images: one pointer, eight equal pointers, eight copies all give the same floats.
    const PerLane one = forward_lanes(net, genomes, images[3], ws);
    for (int l = 0; l < L; ++l) pointers[l] = images[3].data();
    y = net.forward(interleaved.data(), pointers, ws);
    for (int l = 0; l < L; ++l) CHECK(lanes::lane(y, out_size, l) == one[l]);
    const PerLane copies(L, images[3]);
    for (int l = 0; l < L; ++l) pointers[l] = copies[l].data();
    y = net.forward(interleaved.data(), pointers, ws);
    for (int l = 0; l < L; ++l) CHECK(lanes::lane(y, out_size, l) == one[l]);
  }
}

// Genome order, written out: conv(2, 2, 1) -> dense(2) on a 3x3 image.
// genome[0..4) = kernel (row-major), [4..12) = W[2][4] row-major, [12..14) = biases.
// The hand-worked genomes run in every lane; the general case gives each lane its own.
TEST(genome_order_conv_then_dense) {
  Network net(3, 3);
  net.conv(2, 2, 1).dense(2);
  CHECK(net.num_params() == 14u);
  const std::vector<float> image = {1, 2, 3,
                                    4, 5, 6,
                                    7, 8, 9};
  evoae::Workspace ws(net);
  const auto every_lane = [&](const std::vector<float>& g, double want0, double want1,
                              double tol) {
    const PerLane y = forward_lanes(net, PerLane(L, g), image, ws);
    for (int l = 0; l < L; ++l) {
      CHECK_NEAR(y[l][0], want0, tol);
      CHECK_NEAR(y[l][1], want1, tol);
    }
  };
  std::vector<float> g = {1, 0, 0, -1,                 // kernel: in[y][x] - in[y+1][x+1] = -4
                          0.5f, 0, 0, 0, 0, 0, 0, 0,   // W[0] = (0.5, 0, 0, 0); W[1] = 0
                          0, 0};                       // biases
  // The conv output is -4 everywhere -> ReLU 0, so only the biases matter: all 0.5.
  every_lane(g, 0.5, 0.5, 1e-7);
  // Only the second bias nonzero: unit 1 moves, unit 0 does not.
  g[13] = std::log(3.0f);
  every_lane(g, 0.5, 0.75, 1e-6);
  // A positive kernel: conv = in[y][x] + 2 in[y][x+1] -> (5, 8, 14, 17).
  g = {1, 2, 0, 0,
       1, 0, 0, 0,       // unit 0 reads conv output 0 (= 5)
       0, 0, 0, -0.25f,  // unit 1 reads conv output 3 (= 17) * -1/4
       -5, 4};
  every_lane(g, logistic(5 - 5), logistic(-17 / 4.0 + 4), 1e-6);
  // General case: every slot at its place, a different genome in every lane.
  std::mt19937 gen(13);
  const PerLane genomes = lanes::random_per_lane(gen, 14);
  const PerLane y = forward_lanes(net, genomes, image, ws);
  for (int l = 0; l < L; ++l) {
    const std::vector<float>& gl = genomes[l];
    double conv[4];
    for (int r = 0; r < 2; ++r)
      for (int c = 0; c < 2; ++c) {
        double s = 0;
        for (int a = 0; a < 2; ++a)
          for (int b = 0; b < 2; ++b) s += image[(r + a) * 3 + c + b] * gl[a * 2 + b];
        conv[r * 2 + c] = std::max(s, 0.0);
      }
    for (int i = 0; i < 2; ++i) {
      double s = gl[12 + i];
      for (int j = 0; j < 4; ++j) s += gl[4 + i * 4 + j] * conv[j];
      CHECK_NEAR(y[l][i], logistic(s), 1e-6);
    }
  }
}

// Only one bias of the Varadi network's dense(160) nonzero: the reshape puts value k at
// channel k/16, row (k%16)/4, column k%4, and the rest of the network follows from there.
// Every lane moves another unit, so each lane's change must land in its own square.
TEST(varadi_one_dense_bias_reaches_its_place) {
  const Network net = evoae::varadi_network();
  struct Unit { int channel, row, col; };
  const Unit units[L] = {{3, 1, 2}, {0, 0, 0}, {9, 3, 3}, {5, 2, 0},
                         {1, 0, 3}, {7, 3, 1}, {2, 1, 1}, {6, 2, 2}};
  PerLane base_genomes(L, std::vector<float>(1397, 0.0f)), moved_genomes;
  for (int l = 0; l < L; ++l) {
    // Last conv_transpose: kernel j (j < 10) is 5x5 at 1147 + 25j; set only the centre tap of
    // the unit's channel's kernel to 1; first conv_transpose: centre tap of its 5x5 kernel = 1.
    base_genomes[l][1147 + 25 * units[l].channel + 12] = 1.0f;
    base_genomes[l][1122 + 12] = 1.0f;
  }
  moved_genomes = base_genomes;
  for (int l = 0; l < L; ++l) {
    // Bias of dense(160) unit k at 162 + 800 + k.
    const int k = units[l].channel * 16 + units[l].row * 4 + units[l].col;
    moved_genomes[l][162 + 800 + k] = 5.0f;
  }
  const std::vector<float> image(784, 0.5f);
  evoae::Workspace ws(net);
  const PerLane base = forward_lanes(net, base_genomes, image, ws);
  const PerLane y = forward_lanes(net, moved_genomes, image, ws);
  for (int l = 0; l < L; ++l) {
    // Trace: unpool -> rows 2r..2r+1, cols 2c..2c+1 of 8x8; trconv centre tap shifts by
    // (2, 2) -> rows 2r+2..2r+3 of 12x12; unpool -> rows 4r+4..4r+7 of 24x24; last trconv
    // (reducer 10, only the unit's channel's kernel non-zero, centre tap) -> rows 4r+6..4r+9,
    // cols 4c+6..4c+9 of 28x28. (Unit (3, 1, 2): rows 10..13, cols 14..17.)
    const int r0 = 4 * units[l].row + 6, c0 = 4 * units[l].col + 6;
    int changed = 0, outside = 0;
    for (int r = 0; r < 28; ++r)
      for (int c = 0; c < 28; ++c) {
        const bool moved = y[l][r * 28 + c] != base[l][r * 28 + c];
        const bool inside = r >= r0 && r < r0 + 4 && c >= c0 && c < c0 + 4;
        changed += moved && inside;
        outside += moved && !inside;
        if (inside) CHECK(y[l][r * 28 + c] > base[l][r * 28 + c]);
      }
    if (changed != 16 || outside != 0)
      std::printf("  lane %d: %d changed inside, %d outside\n", l, changed, outside);
    CHECK(changed == 16);
    CHECK(outside == 0);
  }
}

TEST(builder_errors) {
  using std::invalid_argument;
  // reshape size mismatch (16 values into 8 or 32)
  CHECK_THROWS_AS(Network(4, 4).reshape(2, 2, 2), invalid_argument);
  CHECK_THROWS_AS(Network(4, 4).reshape(4, 4, 2), invalid_argument);
  CHECK_THROWS_AS(Network(4, 4).dense(6).reshape(2, 2, 1), invalid_argument);
  // conv kernel larger than its input, in either direction
  CHECK_THROWS_AS(Network(4, 4).conv(5, 1, 1), invalid_argument);
  CHECK_THROWS_AS(Network(4, 4).conv(1, 5, 1), invalid_argument);
  CHECK_THROWS_AS(Network(28, 28).conv(5, 5, 1).maxpool().conv(13, 5, 1), invalid_argument);
  // conv after dense without reshape: a dense output is 1x1xN
  CHECK_THROWS_AS(Network(4, 4).dense(4).conv(2, 2, 1), invalid_argument);
  // maxpool on 1x1 (and on 1xN)
  CHECK_THROWS_AS(Network(1, 1).maxpool(), invalid_argument);
  CHECK_THROWS_AS(Network(4, 4).dense(3).maxpool(), invalid_argument);
  CHECK_THROWS_AS(Network(1, 6).maxpool(), invalid_argument);
  // conv_transpose reducer not dividing the channels
  CHECK_THROWS_AS(Network(4, 4).conv(2, 2, 3).conv_transpose(2, 2, 2), invalid_argument);
  CHECK_THROWS_AS(Network(4, 4).conv_transpose(2, 2, 2), invalid_argument);
  // non-positive sizes
  CHECK_THROWS_AS(Network(0, 5), invalid_argument);
  CHECK_THROWS_AS(Network(5, -1), invalid_argument);
  CHECK_THROWS_AS(Network(4, 4).conv(0, 2, 1), invalid_argument);
  CHECK_THROWS_AS(Network(4, 4).conv(2, 2, 0), invalid_argument);
  CHECK_THROWS_AS(Network(4, 4).dense(0), invalid_argument);
  CHECK_THROWS_AS(Network(4, 4).reshape(0, 4, 4), invalid_argument);
  CHECK_THROWS_AS(Network(4, 4).conv_transpose(2, 2, 0), invalid_argument);
  CHECK_THROWS_AS(Network(4, 4).conv_transpose(0, 2, 1), invalid_argument);
}

// The message of the std::invalid_argument that build() throws ("" if none).
template <class F>
std::string refusal(F&& build) {
  try {
    build();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// Sizes that overflow int, or that leave a layer with no values, are refused by the builder
// call that makes them, which the message names (no layer of -2^31 rows, no 0 channels).
TEST(builder_refuses_overflowing_and_empty_shapes) {
  const std::string unpools = refusal([] {
    Network net(28, 28);
    for (int i = 0; i < 30; ++i) net.unpool();
  });
  CHECK(unpools.rfind("unpool(): the output would be ", 0) == 0);
  // 65536 x 65536 channels is 2^32, 0 as an int.
  const std::string channels =
      refusal([] { Network(1, 1).conv(1, 1, 65536).conv(1, 1, 65536); });
  CHECK(channels.rfind("conv(1, 1, 65536): the output would be 1x1x4294967296", 0) == 0);
  CHECK(!refusal([] { Network(28, 28).conv(1, 1, 65536).conv(1, 1, 65536); }).empty());
  // height 2 + 2^31 - 2 = 2^31, negative as an int
  CHECK(refusal([] { Network(2, 1).conv_transpose(2147483647, 1, 1); })
            .rfind("conv_transpose(2147483647, 1, 1): ", 0) == 0);
  // 2^21 x 2^21 x 2^22 = 2^64 values, 0 in a size_t
  CHECK(!refusal([] { Network(4, 4).reshape(1 << 21, 1 << 21, 1 << 22); }).empty());
  CHECK(!refusal([] { Network(65536, 65536); }).empty());
  CHECK(!refusal([] { Network(2, 2).dense(2147483647); }).empty());
  // 2^24 inputs x 2^8 units: a genome of 2^32 weights
  CHECK(refusal([] { Network(4096, 4096).dense(256); }).find("parameters") != std::string::npos);
  // the limits themselves are allowed
  CHECK(Network(4096, 4096).input_shape().size() == std::size_t{1} << 24);
  CHECK(Network(1, 1).conv(1, 1, 4096).conv(1, 1, 4096).output_shape().channels == 1 << 24);
}

TEST(builder_accepts_edge_cases) {
  // The counterparts of the errors above that must be accepted.
  const Network a = Network(4, 4).conv(4, 4, 1);  // kernel as large as the input -> 1x1
  CHECK(a.output_shape() == (Shape{1, 1, 1}));
  const Network b = Network(4, 4).dense(8).reshape(2, 2, 2).conv(2, 2, 1);
  CHECK(b.output_shape() == (Shape{1, 1, 2}));
  const Network c = Network(3, 5).maxpool();  // odd sizes: integer division
  CHECK(c.output_shape() == (Shape{1, 2, 1}));
  const Network d = Network(4, 4).conv(2, 2, 6).conv_transpose(3, 1, 3);
  CHECK(d.output_shape() == (Shape{5, 3, 2}));
  CHECK(d.num_params() == 2u * 2u * 6u + 3u * 1u * 3u);
  const Network e = Network(5, 7);
  CHECK(e.num_params() == 0u);
  CHECK(e.input_shape() == (Shape{5, 7, 1}));
}

// Conv and conv_transpose take an activation; calls write it only when it is not the default.
TEST(conv_activations_in_builder_and_calls) {
  Network net(8, 8);
  net.conv(3, 3, 2).conv(2, 2, 1, Activation::Tanh).conv_transpose(2, 2, 2)
      .conv_transpose(3, 3, 1, Activation::ReLU).conv(1, 1, 1, Activation::ReLU);
  const auto& l = net.layers();
  CHECK(l[1].call() == "conv(3, 3, 2)");
  CHECK(l[1].activation() == Activation::ReLU);
  CHECK(l[2].call() == "conv(2, 2, 1, \"tanh\")");
  CHECK(l[2].as<evoae::Conv>().activation == Activation::Tanh);
  CHECK(l[3].call() == "conv_transpose(2, 2, 2)");
  CHECK(l[3].activation() == Activation::Sigmoid);
  CHECK(l[4].call() == "conv_transpose(3, 3, 1, \"relu\")");
  CHECK(l[5].call() == "conv(1, 1, 1)");  // relu, the default, is not written
  CHECK(l[4].arguments() == (std::vector<int>{3, 3, 1}));
  CHECK(!l[0].activation() && !evoae::varadi_network().layers()[2].activation());
  CHECK(l[3].as<evoae::ConvTranspose>().reducer == 2 && l[1].as<evoae::Conv>().multiplier == 2);
}

namespace {

// The first `count` builder calls of varadi_network(), layer 0 (the input) not counted.
Network varadi_prefix(std::size_t count) {
  const std::vector<void (*)(Network&)> calls = {
      [](Network& n) { n.conv(5, 5, 1); },       [](Network& n) { n.maxpool(); },
      [](Network& n) { n.conv(5, 5, 1); },       [](Network& n) { n.maxpool(); },
      [](Network& n) { n.dense(5); },            [](Network& n) { n.dense(2); },
      [](Network& n) { n.dense(5); },            [](Network& n) { n.dense(160); },
      [](Network& n) { n.reshape(4, 4, 10); },   [](Network& n) { n.unpool(); },
      [](Network& n) { n.conv_transpose(5, 5, 1); }, [](Network& n) { n.unpool(); },
      [](Network& n) { n.conv_transpose(5, 5, 10); }};
  Network net(28, 28);
  for (std::size_t i = 0; i < count; ++i) calls[i](net);
  return net;
}

}  // namespace

// A workspace that keeps activations: after a forward pass its tape holds every layer's
// output, bit for bit what a network truncated after that layer gives (the unpools that run
// fused with a conv_transpose included), the last one what forward() gives; and the default
// workspace's results do not change.
TEST(tape_keeps_every_layer_output) {
  const Network net = evoae::varadi_network();
  CHECK(varadi_prefix(13).summary() == net.summary());
  std::mt19937 gen(21);
  const PerLane genomes = lanes::random_per_lane(gen, net.num_params());
  const PerLane images = lanes::random_per_lane(gen, net.input_shape().size(), 0.1f, 0.9f);
  const std::vector<float> g = lanes::interleave(genomes);
  const float* pointers[L];
  for (int l = 0; l < L; ++l) pointers[l] = images[l].data();
  evoae::Workspace plain(net), tape(net, 1, /*keep_activations=*/true);
  CHECK(!plain.keeps_activations() && tape.keeps_activations() && plain.tape.empty());
  const float* y = net.forward(g.data(), pointers, plain);
  const float* t = net.forward(g.data(), pointers, tape);
  const std::size_t last = net.layers().size() - 1, out = net.output_shape().size() * L;
  CHECK(t == tape.activation(last));
  CHECK(std::equal(y, y + out, tape.activation(last)));
  CHECK(tape.activation(9) == tape.activation(8));  // a reshape shares its input's buffer
  for (int l = 0; l < L; ++l)
    CHECK(lanes::lane(tape.activation(0), net.input_shape().size(), l) == images[l]);
  for (std::size_t i = 1; i <= last; ++i) {
    const Network head = varadi_prefix(i);
    evoae::Workspace ws(head);
    const float* want = head.forward(g.data(), pointers, ws);
    const std::size_t n = head.output_shape().size() * L;
    const bool same = std::equal(want, want + n, tape.activation(i));
    if (!same) std::printf("  layer %zu (%s): tape differs\n", i, net.layers()[i].call().c_str());
    CHECK(same);
  }
  // A batch of two images per lane: each image's entries as forward() gives them alone.
  evoae::Workspace batch(net, 2, true);
  const float* two[2 * L];
  for (int l = 0; l < L; ++l) two[l] = two[L + l] = images[(l + 1) % L].data();
  for (int l = 0; l < L; ++l) two[l] = images[l].data();
  net.forward_batch(g.data(), two, 2, batch);
  for (std::size_t i : {std::size_t{3}, std::size_t{10}, last}) {
    const std::size_t n = net.layers()[i].output.size() * L;
    CHECK(std::equal(tape.activation(i), tape.activation(i) + n, batch.activation(i)));
  }
  const float* second = batch.activation(last) + out;
  CHECK(std::equal(second, second + out, net.forward(g.data(), two + L, plain)));
}
