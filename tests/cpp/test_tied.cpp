// Dense layers with a choice of activation and their tied (transposed) form: the vector
// activations against the C library, each op on a hand-worked case for every activation, fast
// ops (8 lanes, batches of images) against their one-genome reference twins, the builder's
// checks, and whole tied networks fast vs reference, batched vs one image at a time.
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "evoae/nn/network.h"
#include "evoae/nn/ops.h"
#include "evoae/nn/reference_ops.h"
#include "evoae/core/simd.h"

using evoae::Activation;
using lanes::L;

namespace {

const Activation kAll[] = {Activation::Sigmoid, Activation::ReLU, Activation::Tanh,
                           Activation::Identity};

// The hand-worked case. A dense layer 3 -> 2:
//   W = [[1, -2, 0.5], [0, 1, -1]], b = [0.5, -0.25], x = [1, 0.5, 2]
//   W x + b = [1 - 1 + 1 + 0.5, 0 + 0.5 - 2 - 0.25] = [1.5, -1.75]
// and its tied form 2 -> 3 with biases c = [0, 0.5, -0.5] on y = [2, -1]:
//   W^T y + c = [2 + 0 + 0, -4 - 1 + 0.5, 1 + 1 - 0.5] = [2, -4.5, 1.5]
const std::vector<float> kW = {1, -2, 0.5f, 0, 1, -1}, kB = {0.5f, -0.25f}, kX = {1, 0.5f, 2};
const std::vector<float> kC = {0, 0.5f, -0.5f}, kY = {2, -1};

// The expected outputs, activation by activation (tanh and logistic values to 9 digits).
std::vector<double> dense_expected(Activation a) {
  switch (a) {
    case Activation::Sigmoid: return {0.817574476, 0.148047198};
    case Activation::ReLU: return {1.5, 0.0};
    case Activation::Tanh: return {0.905148254, -0.941375805};
    case Activation::Identity: return {1.5, -1.75};
  }
  return {};
}

std::vector<double> tied_expected(Activation a) {
  switch (a) {
    case Activation::Sigmoid: return {0.880797078, 0.010986943, 0.817574476};
    case Activation::ReLU: return {2.0, 0.0, 1.5};
    case Activation::Tanh: return {0.964027580, -0.999753211, 0.905148254};
    case Activation::Identity: return {2.0, -4.5, 1.5};
  }
  return {};
}

// B copies of a one-image lane buffer (n, L) -> (B, n, L).
std::vector<float> repeat(const std::vector<float>& one, int B) {
  std::vector<float> v;
  for (int b = 0; b < B; ++b) v.insert(v.end(), one.begin(), one.end());
  return v;
}

}  // namespace

// ---------------------------------------------------------------- vector activations

TEST(vector_tanh_and_relu_match_the_c_library) {
  double worst_tanh = 0.0;
  for (int i = -20000; i <= 20000; i += 8) {
    evoae::vfloat x;
    for (int l = 0; l < L; ++l) x[l] = (i + l) * 0.001f;  // -20 .. 20 in steps of 0.001
    const evoae::vfloat t = evoae::vtanh(x), r = evoae::vrelu(x);
    for (int l = 0; l < L; ++l) {
      worst_tanh = std::max(worst_tanh, std::fabs(t[l] - std::tanh(static_cast<double>(x[l]))));
      CHECK(r[l] == (x[l] > 0 ? x[l] : 0.0f));
    }
  }
  std::printf("  max |vtanh - tanh| on [-20, 20] = %.3g\n", worst_tanh);
  CHECK(worst_tanh < 1e-6);
  // Far out and at zero: exact limits, no NaN.
  const evoae::vfloat x = {-1e30f, -100.0f, -0.0f, 0.0f, 1e-30f, 100.0f, 1e30f, 88.0f};
  const evoae::vfloat t = evoae::vtanh(x);
  const float want[L] = {-1, -1, 0, 0, 1e-30f, 1, 1, 1};
  for (int l = 0; l < L; ++l) CHECK_NEAR(t[l], want[l], 1e-7);
}

// ---------------------------------------------------------------- hand-worked cases

TEST(dense_each_activation_hand_worked) {
  for (Activation a : kAll) {
    for (int B : {1, 3}) {  // the same image B times: each copy gives the hand-worked numbers
      std::vector<float> out(static_cast<std::size_t>(B) * 2 * L, NAN);
      evoae::dense_forward(out.data(), repeat(lanes::broadcast(kX), B).data(),
                           lanes::broadcast(kW).data(), lanes::broadcast(kB).data(), 3, 2, a, B);
      for (int b = 0; b < B; ++b)
        for (int l = 0; l < L; ++l)
          check_values(lanes::lane(out.data() + b * 2 * L, 2, l), dense_expected(a), 1e-6,
                      evoae::activation_name(a));
    }
    std::vector<float> ref(2, NAN);
    evoae::reference::dense_forward(ref.data(), kX.data(), kW.data(), kB.data(), 3, 2, a);
    check_values(ref, dense_expected(a), 1e-6, "reference dense");
  }
}

TEST(dense_tied_each_activation_hand_worked) {
  for (Activation a : kAll) {
    for (int B : {1, 2, 5}) {
      std::vector<float> out(static_cast<std::size_t>(B) * 3 * L, NAN);
      evoae::dense_transposed_forward(out.data(), repeat(lanes::broadcast(kY), B).data(),
                                      lanes::broadcast(kW).data(), lanes::broadcast(kC).data(),
                                      2, 3, a, B);
      for (int b = 0; b < B; ++b)
        for (int l = 0; l < L; ++l)
          check_values(lanes::lane(out.data() + b * 3 * L, 3, l), tied_expected(a), 1e-6,
                      evoae::activation_name(a));
    }
    std::vector<float> ref(3, NAN);
    evoae::reference::dense_transposed_forward(ref.data(), kY.data(), kW.data(), kC.data(), 2, 3,
                                               a);
    check_values(ref, tied_expected(a), 1e-6, "reference dense_tied");
  }
}

TEST(scale_multiplies_the_sum_before_the_activation_hand_worked) {
  // scale 0.5: act(0.5 * [1.5, -1.75]) = act([0.75, -0.875]) and act(0.5 * [2, -4.5, 1.5]).
  const std::vector<double> dense_relu = {0.75, 0.0}, dense_tanh = {0.635148952, -0.703905604};
  const std::vector<double> tied_identity = {1.0, -2.25, 0.75};
  std::vector<float> out(2 * L), tout(3 * L);
  evoae::dense_forward(out.data(), lanes::broadcast(kX).data(), lanes::broadcast(kW).data(),
                       lanes::broadcast(kB).data(), 3, 2, Activation::ReLU, 1, 0.5f);
  check_values(lanes::lane(out.data(), 2, 5), dense_relu, 1e-6, "dense relu scale 0.5");
  evoae::dense_forward(out.data(), lanes::broadcast(kX).data(), lanes::broadcast(kW).data(),
                       lanes::broadcast(kB).data(), 3, 2, Activation::Tanh, 1, 0.5f);
  check_values(lanes::lane(out.data(), 2, 0), dense_tanh, 1e-6, "dense tanh scale 0.5");
  evoae::dense_transposed_forward(tout.data(), lanes::broadcast(kY).data(),
                                  lanes::broadcast(kW).data(), lanes::broadcast(kC).data(), 2, 3,
                                  Activation::Identity, 1, 0.5f);
  check_values(lanes::lane(tout.data(), 3, 7), tied_identity, 1e-6, "tied identity scale 0.5");
  std::vector<float> ref(3);
  evoae::reference::dense_transposed_forward(ref.data(), kY.data(), kW.data(), kC.data(), 2, 3,
                                             Activation::Identity, 0.5f);
  check_values(ref, tied_identity, 1e-6, "reference tied identity scale 0.5");
}

TEST(activation_names_round_trip_and_unknown_refused) {
  for (Activation a : kAll) CHECK(evoae::activation_from_name(evoae::activation_name(a)) == a);
  CHECK_THROWS_AS(evoae::activation_from_name("softmax"), std::invalid_argument);
}

// ---------------------------------------------------------------- fast vs reference

TEST(dense_and_tied_fast_vs_reference_random) {
  std::mt19937 gen(11);
  struct Case { int k, n, B; };
  for (const Case c : {Case{3, 2, 1}, Case{784, 50, 4}, Case{50, 9, 3}, Case{17, 33, 8},
                       Case{1, 1, 2}, Case{100, 250, 5}, Case{9, 7, 7}}) {
    for (Activation a : kAll) {
      const float scale = c.B % 2 ? 1.0f : 0.37f;
      const PerLane w = lanes::random_per_lane(gen, static_cast<std::size_t>(c.k) * c.n);
      const PerLane b = lanes::random_per_lane(gen, c.n), tb = lanes::random_per_lane(gen, c.k);
      std::vector<PerLane> x, y;  // per image: inputs of the dense and of the tied layer
      std::vector<float> xs, ys;
      for (int i = 0; i < c.B; ++i) {
        x.push_back(lanes::random_per_lane(gen, c.k, 0.0f, 1.0f));
        y.push_back(lanes::random_per_lane(gen, c.n, 0.0f, 1.0f));
        const std::vector<float> xi = lanes::interleave(x.back()), yi = lanes::interleave(y.back());
        xs.insert(xs.end(), xi.begin(), xi.end());
        ys.insert(ys.end(), yi.begin(), yi.end());
      }
      std::vector<float> out(static_cast<std::size_t>(c.B) * c.n * L + 64, NAN);
      std::vector<float> tout(static_cast<std::size_t>(c.B) * c.k * L + 64, NAN);
      const std::vector<float> wi = lanes::interleave(w);
      evoae::dense_forward(out.data(), xs.data(), wi.data(), lanes::interleave(b).data(), c.k,
                           c.n, a, c.B, scale);
      evoae::dense_transposed_forward(tout.data(), ys.data(), wi.data(),
                                      lanes::interleave(tb).data(), c.n, c.k, a, c.B, scale);
      double d = 0.0, td = 0.0;
      for (int i = 0; i < c.B; ++i)
        for (int l = 0; l < L; ++l) {
          std::vector<float> ref(c.n), tref(c.k);
          evoae::reference::dense_forward(ref.data(), x[i][l].data(), w[l].data(), b[l].data(),
                                          c.k, c.n, a, scale);
          evoae::reference::dense_transposed_forward(tref.data(), y[i][l].data(), w[l].data(),
                                                     tb[l].data(), c.n, c.k, a, scale);
          d = std::max(d, max_abs_diff(lanes::lane(out.data() + i * c.n * L, c.n, l), ref));
          td = std::max(td, max_abs_diff(lanes::lane(tout.data() + i * c.k * L, c.k, l), tref));
        }
      // Identity and ReLU outputs grow with k: compare relative to the sum's size.
      const double tol = 1e-5 * std::max(1.0, std::sqrt(static_cast<double>(std::max(c.k, c.n))));
      std::printf("  k=%d n=%d B=%d %s scale %g: max |fast - reference| dense %.3g, tied %.3g\n",
                  c.k, c.n, c.B, evoae::activation_name(a), scale, d, td);
      CHECK(d < tol);
      CHECK(td < tol);
      for (std::size_t i = c.B * c.n * L; i < out.size(); ++i) CHECK(std::isnan(out[i]));
      for (std::size_t i = c.B * c.k * L; i < tout.size(); ++i) CHECK(std::isnan(tout[i]));
    }
  }
}

TEST(sigmoid_dense_forward_is_dense_sigmoid_forward_bit_for_bit) {
  // The default dense layer must stay exactly what it was.
  std::mt19937 gen(12);
  for (const int k : {1, 5, 16, 160, 784})
    for (const int n : {1, 2, 5, 13, 160}) {
      const std::vector<float> x = lanes::interleave(lanes::random_per_lane(gen, k));
      const std::vector<float> w = lanes::interleave(lanes::random_per_lane(gen, k * n));
      const std::vector<float> b = lanes::interleave(lanes::random_per_lane(gen, n));
      std::vector<float> old(n * L), now(n * L);
      evoae::dense_sigmoid_forward(old.data(), x.data(), w.data(), b.data(), k, n);
      evoae::dense_forward(now.data(), x.data(), w.data(), b.data(), k, n, Activation::Sigmoid);
      CHECK(old == now);
    }
}

TEST(batched_ops_equal_one_image_at_a_time_bit_for_bit) {
  std::mt19937 gen(13);
  const int k = 37, n = 11;
  const std::vector<float> w = lanes::interleave(lanes::random_per_lane(gen, k * n));
  const std::vector<float> b = lanes::interleave(lanes::random_per_lane(gen, n));
  const std::vector<float> c = lanes::interleave(lanes::random_per_lane(gen, k));
  for (int B = 1; B <= 9; ++B) {
    const std::vector<float> xs = lanes::interleave(lanes::random_per_lane(gen, B * k));
    const std::vector<float> ys = lanes::interleave(lanes::random_per_lane(gen, B * n));
    // interleave() of B*k values per lane is B images of k values, image-major.
    std::vector<float> out(B * n * L), tout(B * k * L);
    evoae::dense_forward(out.data(), xs.data(), w.data(), b.data(), k, n, Activation::Tanh, B);
    evoae::dense_transposed_forward(tout.data(), ys.data(), w.data(), c.data(), n, k,
                                    Activation::ReLU, B);
    for (int i = 0; i < B; ++i) {
      std::vector<float> one(n * L), tone(k * L);
      evoae::dense_forward(one.data(), xs.data() + i * k * L, w.data(), b.data(), k, n,
                           Activation::Tanh);
      evoae::dense_transposed_forward(tone.data(), ys.data() + i * n * L, w.data(), c.data(), n,
                                      k, Activation::ReLU);
      CHECK(std::vector<float>(out.begin() + i * n * L, out.begin() + (i + 1) * n * L) == one);
      CHECK(std::vector<float>(tout.begin() + i * k * L, tout.begin() + (i + 1) * k * L) == tone);
    }
  }
}

// ---------------------------------------------------------------- the builder

TEST(dense_tied_builder_shapes_params_and_calls) {
  evoae::Network net(28, 28);
  net.dense(20, Activation::ReLU).dense(7, Activation::Tanh);
  net.dense_tied(2, Activation::ReLU).dense_tied(1).reshape(28, 28, 1);
  const auto& layers = net.layers();
  CHECK(layers.size() == 6);
  CHECK(layers[3].is<evoae::DenseTied>());
  CHECK(layers[3].as<evoae::DenseTied>().source == 2);
  CHECK(layers[3].output == (evoae::Shape{1, 1, 20}));
  CHECK(layers[4].output == (evoae::Shape{1, 1, 784}));
  // Each tied weight once: the tied layers bring only their biases.
  CHECK(layers[3].num_weights == 0 && layers[3].num_biases == 20);
  CHECK(layers[4].num_weights == 0 && layers[4].num_biases == 784);
  CHECK(net.num_params() == (784 * 20 + 20) + (20 * 7 + 7) + 20 + 784);
  CHECK(layers[4].offset == (784 * 20 + 20) + (20 * 7 + 7) + 20);
  CHECK(layers[3].multiply_adds() == 7 * 20);
  CHECK(layers[1].call() == "dense(20, \"relu\")");
  CHECK(layers[3].call() == "dense_tied(2, \"relu\")");
  CHECK(layers[4].call() == "dense_tied(1)");  // sigmoid, the default, is not written
  CHECK(layers[4].activation() == Activation::Sigmoid);
  CHECK(layers[3].arguments() == std::vector<int>{2});
  CHECK(std::string(evoae::layer_kind_name(layers[3].kind)) == "dense_tied");
  CHECK(evoae::varadi_network().layers()[5].call() == "dense(5)");
  CHECK(layers[1].as<evoae::Dense>().scale == 1.0f);
}

TEST(dense_scale_is_checked_written_and_inherited_by_tied_layers) {
  evoae::Network net(4, 4);
  net.dense(3, Activation::Sigmoid, 0.25f).dense_tied(1, Activation::ReLU);
  CHECK(net.layers()[1].call() == "dense(3, \"sigmoid\", 0.25)");
  const int source = net.layers()[2].as<evoae::DenseTied>().source;
  CHECK(net.layers()[source].as<evoae::Dense>().scale == 0.25f);
  CHECK(net.layers()[2].call() == "dense_tied(1, \"relu\")");  // the scale is the source's
  CHECK(net.num_params() == 16 * 3 + 3 + 16);
  for (float bad : {0.0f, -1.0f, std::numeric_limits<float>::quiet_NaN(),
                    std::numeric_limits<float>::infinity()})
    CHECK_THROWS_AS(evoae::Network(4, 4).dense(3, Activation::ReLU, bad), std::invalid_argument);
}

TEST(dense_tied_refuses_bad_sources) {
  evoae::Network net(6, 6);
  net.conv(3, 3, 1).dense(5, Activation::ReLU);  // layers: input, conv 4x4, dense 16 -> 5
  CHECK_THROWS_AS(evoae::Network(net).dense_tied(0), std::invalid_argument);   // the input
  CHECK_THROWS_AS(evoae::Network(net).dense_tied(3), std::invalid_argument);   // no such layer
  CHECK_THROWS_AS(evoae::Network(net).dense_tied(-1), std::invalid_argument);
  CHECK_THROWS_AS(evoae::Network(net).dense_tied(1), std::invalid_argument);   // a conv layer
  evoae::Network ok(net);
  ok.dense_tied(2);  // 5 -> 16, the mirror of layer 2
  CHECK(ok.output_shape() == (evoae::Shape{1, 1, 16}));
  CHECK_THROWS_AS(evoae::Network(ok).dense_tied(3), std::invalid_argument);  // tied, not dense
  // The input must have as many values as the source has outputs (5 here, 16 given).
  CHECK_THROWS_AS(evoae::Network(ok).dense_tied(2), std::invalid_argument);
  try {
    evoae::Network(ok).dense_tied(2);
  } catch (const std::invalid_argument& e) {
    std::printf("  message: %s\n", e.what());
    CHECK(std::string(e.what()).find("5 outputs") != std::string::npos);
  }
  // A conv straight after a tied layer asks for a reshape, as after a dense one.
  CHECK_THROWS_AS(evoae::Network(ok).conv(2, 2, 1), std::invalid_argument);
}

// ---------------------------------------------------------------- whole networks

namespace {

// Every lane's output of net.forward_batch against reference::network_forward, with
// different genomes per lane and different images per lane and batch slot.
double network_fast_vs_reference(const evoae::Network& net, int B, std::mt19937& gen,
                                 bool* batch_equals_single) {
  const std::size_t G = net.num_params(), in = net.input_shape().size(),
                    out = net.output_shape().size();
  const PerLane genomes = lanes::random_per_lane(gen, G, -0.3f, 0.3f);
  const std::vector<float> packed = lanes::interleave(genomes);
  std::vector<std::vector<float>> images(B * L);
  std::vector<const float*> pointers(B * L);
  for (int i = 0; i < B * L; ++i) {
    images[i] = random_buffer(gen, in, 0.1f, 0.9f);
    pointers[i] = images[i].data();
  }
  evoae::Workspace ws(net, B), one(net);
  const float* y = net.forward_batch(packed.data(), pointers.data(), B, ws);
  const std::vector<float> batch(y, y + B * out * L);
  double d = 0.0;
  *batch_equals_single = true;
  for (int b = 0; b < B; ++b) {
    const float* y1 = net.forward(packed.data(), pointers.data() + b * L, one);
    *batch_equals_single &= std::equal(y1, y1 + out * L, batch.begin() + b * out * L);
    for (int l = 0; l < L; ++l) {
      const std::vector<float> ref =
          evoae::reference::network_forward(net, genomes[l].data(), images[b * L + l].data());
      d = std::max(d, max_abs_diff(lanes::lane(batch.data() + b * out * L, out, l), ref));
    }
  }
  return d;
}

}  // namespace

TEST(tied_networks_fast_vs_reference_and_batch_vs_single) {
  std::mt19937 gen(14);
  std::vector<evoae::Network> nets;
  nets.push_back(evoae::Network(28, 28)
                     .dense(30, Activation::ReLU)
                     .dense(6, Activation::Tanh)
                     .dense_tied(2, Activation::ReLU)
                     .dense_tied(1, Activation::Sigmoid)
                     .reshape(28, 28, 1));
  nets.push_back(evoae::Network(1, 40)
                     .dense(13, Activation::Identity, 0.3f)
                     .dense_tied(1, Activation::Tanh)
                     .reshape(1, 40, 1));
  // Conv and pooling layers run image by image inside a batch.
  nets.push_back(evoae::Network(12, 12)
                     .conv(3, 3, 2)
                     .maxpool()
                     .dense(9, Activation::ReLU)
                     .dense_tied(3)
                     .reshape(5, 5, 2)
                     .unpool()
                     .conv_transpose(3, 3, 2));
  nets.push_back(evoae::varadi_network());
  for (const evoae::Network& net : nets)
    for (int B : {1, 3, 4, 6}) {
      bool same = false;
      const double d = network_fast_vs_reference(net, B, gen, &same);
      std::printf("  %zu layers, %zu params, B=%d: max |fast - reference| = %.3g\n",
                  net.layers().size(), net.num_params(), B, d);
      CHECK(d < 2e-5);
      CHECK(same);
    }
}

TEST(forward_batch_refuses_more_images_than_the_workspace_holds) {
  const evoae::Network net = evoae::Network(1, 4).dense(2).dense_tied(1).reshape(1, 4, 1);
  evoae::Workspace ws(net, 2);
  const std::vector<float> genomes(net.num_params() * L, 0.0f), image(4, 0.5f);
  std::vector<const float*> images(3 * L, image.data());
  CHECK_THROWS_AS(net.forward_batch(genomes.data(), images.data(), 3, ws),
                  std::invalid_argument);
  CHECK_THROWS_AS(net.forward_batch(genomes.data(), images.data(), 0, ws),
                  std::invalid_argument);
  const float* y = net.forward_batch(genomes.data(), images.data(), 2, ws);
  for (int i = 0; i < 2 * 4 * L; ++i) CHECK(y[i] == 0.5f);  // zero weights, biases: sigmoid(0)
}

TEST(forward_images_equals_forward_per_image_for_any_thread_count) {
  std::mt19937 gen(15);
  std::vector<evoae::Network> nets;
  nets.push_back(evoae::Network(7, 5).dense(9, Activation::Tanh).dense_tied(1, Activation::ReLU)
                     .reshape(7, 5, 1));
  nets.push_back(evoae::varadi_network());
  for (const evoae::Network& net : nets)
    for (std::size_t S : {1, 7, 8, 33, 70}) {
      const std::size_t G = net.num_params(), in = net.input_shape().size(),
                        out = net.output_shape().size();
      const std::vector<float> genome = lanes::random_per_lane(gen, G, -0.5f, 0.5f)[0];
      const std::vector<float> images = lanes::random_per_lane(gen, S * in, 0.1f, 0.9f)[0];
      std::vector<float> want(S * out);
      const std::vector<float> packed = lanes::broadcast(genome);
      evoae::Workspace ws(net);
      for (std::size_t s = 0; s < S; ++s) {
        const float* y = net.forward(packed.data(), images.data() + s * in, ws);
        for (std::size_t p = 0; p < out; ++p) want[s * out + p] = y[p * L];
      }
      for (int threads : {1, 2, 3}) {
        std::vector<float> got(S * out + 16, NAN);
        net.forward_images(genome.data(), images.data(), S, got.data(), threads);
        CHECK(std::equal(want.begin(), want.end(), got.begin()));
        for (std::size_t i = S * out; i < got.size(); ++i) CHECK(std::isnan(got[i]));
      }
    }
}

TEST(preferred_batch_is_4_for_dense_networks_and_1_for_the_paper_network) {
  CHECK(evoae::Network(28, 28).dense(50).dense_tied(1).preferred_batch() == 4);
  CHECK(evoae::varadi_network().preferred_batch() == 1);
}
