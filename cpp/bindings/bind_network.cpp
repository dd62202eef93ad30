// Bindings of Network: the builder, its description, forward passes over numpy arrays.
#include <algorithm>
#include <climits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings.h"
#include "evoae/eval/population.h"
#include "evoae/core/simd.h"

namespace evoae::bindings {
namespace {

// A builder's size argument: any Python integer (numpy's too) is taken, and one beyond int's
// range is refused as the builder refuses any bad size (ValueError naming the call), not as a
// type mismatch; a non-integer is a TypeError, as Python's own.
int size_arg(const py::object& argument, const char* call, const char* name) {
  PyObject* index = PyNumber_Index(argument.ptr());
  if (index == nullptr) throw py::error_already_set();
  const auto value = py::reinterpret_steal<py::int_>(index);
  long long x = LLONG_MAX;
  try {
    x = value.cast<long long>();
  } catch (const py::cast_error&) {  // beyond 64 bits
  }
  if (x < INT_MIN || x > INT_MAX)
    throw std::invalid_argument(std::string(call) + ": " + name + " = " +
                                std::string(py::str(value)) + " is not a 32-bit integer");
  return static_cast<int>(x);
}

py::tuple shape_tuple(const Shape& s) { return py::make_tuple(s.height, s.width, s.channels); }

py::array_t<float> forward_population(const Network& net, const FloatArray& genomes,
                                      const FloatArray& images, int threads, bool population) {
  require_genomes(net, genomes, population);
  require_images(net, images, "images");
  const std::size_t P = population ? genomes.shape(0) : 1, S = images.shape(0);
  std::vector<py::ssize_t> dims = output_dims(net.output_shape());
  dims.insert(dims.begin(), static_cast<py::ssize_t>(S));
  if (population) dims.insert(dims.begin(), static_cast<py::ssize_t>(P));
  py::array_t<float> out(dims);
  const float* g = genomes.data();
  const float* x = images.data();
  float* y = out.mutable_data();
  {
    py::gil_scoped_release release;
    if (population)
      PopulationEvaluator(net, threads).forward(g, P, x, S, y);
    else  // one genome: laid into the lanes once, not once per 8 images
      net.forward_images(g, x, S, y, threads);
  }
  return out;
}

py::array_t<double> errors(const Network& net, const FloatArray& genomes,
                           const FloatArray& images, const py::object& targets_arg,
                           int threads) {
  require_genomes(net, genomes, true);
  require_images(net, images, "images");
  const FloatArray targets = checked_targets(net, images, targets_arg);
  const std::size_t P = genomes.shape(0), S = images.shape(0);
  py::array_t<double> result(static_cast<py::ssize_t>(P));
  const float* g = genomes.data();
  const float* x = images.data();
  const float* t = targets.data();
  double* e = result.mutable_data();
  {
    py::gil_scoped_release release;
    PopulationEvaluator(net, threads).errors(g, P, x, t, S, e);
  }
  return result;
}

py::dict layer_info(const Network& net, const Layer& l) {
  py::dict d;
  d["kind"] = l.name();
  d["call"] = l.call();
  d["arguments"] = l.arguments();
  d["input_shape"] = shape_tuple(l.input);
  d["output_shape"] = shape_tuple(l.output);
  d["offset"] = l.offset;
  d["num_weights"] = l.num_weights;
  d["num_biases"] = l.num_biases;
  d["num_params"] = l.num_params();
  const std::optional<Activation> activation = l.activation();
  d["activation"] = activation ? py::object(py::str(activation_name(*activation))) : py::none();
  const LayerOptions o = l.options();
  py::list options;  // the trailing builder arguments, as call() writes them
  if (o.activation) options.append(activation_name(*o.activation));
  if (o.scale) options.append(*o.scale);
  d["options"] = options;
  d["source"] = py::none();
  d["scale"] = py::none();
  if (l.is<Dense>()) d["scale"] = l.as<Dense>().scale;
  if (l.is<DenseTied>()) {
    const int source = l.as<DenseTied>().source;
    d["source"] = source;
    d["scale"] = net.layers()[source].as<Dense>().scale;
  }
  return d;
}

// Every layer's output for one genome on images (S, H, W): a list of float32 arrays
// (S, ...layer output), read from a workspace that keeps activations.
py::list activations(const Network& net, const FloatArray& genome, const FloatArray& images) {
  require_genomes(net, genome, false);
  require_images(net, images, "images");
  const std::size_t G = net.num_params(), S = images.shape(0), in = net.input_shape().size();
  const std::vector<Layer>& layers = net.layers();
  std::vector<py::array_t<float>> out;
  for (const Layer& l : layers) {
    std::vector<py::ssize_t> dims = output_dims(l.output);
    dims.insert(dims.begin(), static_cast<py::ssize_t>(S));
    out.emplace_back(dims);
  }
  std::vector<float*> outputs;
  for (auto& a : out) outputs.push_back(a.mutable_data());
  const float* g = genome.data();
  const float* x = images.data();
  {
    py::gil_scoped_release release;
    std::vector<float> lanes(G * kLanes);
    for (std::size_t i = 0; i < G; ++i) std::fill_n(&lanes[i * kLanes], kLanes, g[i]);
    Workspace ws(net, 1, /*keep_activations=*/true);
    const float* pointers[kLanes];
    for (std::size_t first = 0; first < S; first += kLanes) {
      const std::size_t n = std::min<std::size_t>(kLanes, S - first);
      for (std::size_t k = 0; k < kLanes; ++k) pointers[k] = x + (first + std::min(k, n - 1)) * in;
      net.forward(lanes.data(), pointers, ws);
      for (std::size_t i = 0; i < layers.size(); ++i) {
        const std::size_t size = layers[i].output.size();
        const float* y = ws.activation(i);
        for (std::size_t k = 0; k < n; ++k)
          for (std::size_t p = 0; p < size; ++p)
            outputs[i][(first + k) * size + p] = y[p * kLanes + k];
      }
    }
  }
  py::list result;
  for (auto& a : out) result.append(a);
  return result;
}

}  // namespace

void bind_network(py::module_& m) {
  auto self = py::return_value_policy::reference_internal;
  py::class_<Network> net(m, "Network", R"doc(
A sequential network; each builder call adds a layer and infers its shape.

    net = Network(28, 28).conv(5, 5, 1).maxpool().dense(2).dense(784).reshape(28, 28, 1)

Shapes are (height, width, channels). Parameters live in a flat float32 genome of
length num_params, layer by layer from the input, weights then biases.)doc");
  net.def(py::init([](const py::object& h, const py::object& w) {
            return Network(size_arg(h, "Network", "height"), size_arg(w, "Network", "width"));
          }),
          py::arg("height") = 28, py::arg("width") = 28)
      .def(
          "conv",
          [](Network& n, const py::object& kh, const py::object& kw, const py::object& m,
             const std::string& activation) -> Network& {
            return n.conv(size_arg(kh, "conv", "kernel_height"),
                          size_arg(kw, "conv", "kernel_width"),
                          size_arg(m, "conv", "multiplier"), activation_from_name(activation));
          },
          self, py::arg("kernel_height"), py::arg("kernel_width"), py::arg("multiplier") = 1,
          py::arg("activation") = "relu",
          "Valid cross-correlation, stride 1, no bias, then an activation: \"relu\" (the "
          "original's), \"sigmoid\", \"tanh\" or \"identity\". Output channel i*m+j is input "
          "channel i correlated with kernel j (m = multiplier).")
      .def("maxpool", &Network::maxpool, self, "2x2 max pooling, stride 2.")
      .def(
          "dense",
          [](Network& n, const py::object& units, const std::string& activation,
             float scale) -> Network& {
            return n.dense(size_arg(units, "dense", "units"), activation_from_name(activation),
                           scale);
          },
          self, py::arg("units"), py::arg("activation") = "sigmoid", py::arg("scale") = 1.0f,
          "Fully connected over the flattened input, with bias, then an activation: "
          "\"sigmoid\" (the original's), \"relu\", \"tanh\" or \"identity\". Output "
          "1x1xunits: activation(scale * (W x + b)). The genome holds W and b in units of "
          "scale (> 0): with scale = sqrt(6 / (inputs + units)) the initial U(-1, 1) genome "
          "is Glorot's uniform initialisation, and mutation steps shrink alike; 1 is the "
          "original layer.")
      .def(
          "dense_tied",
          [](Network& n, const py::object& source, const std::string& activation) -> Network& {
            return n.dense_tied(size_arg(source, "dense_tied", "source"),
                                activation_from_name(activation));
          },
          self, py::arg("source"), py::arg("activation") = "sigmoid",
          "A dense layer using the weights of the dense layer layers[source], transposed "
          "(tied: stored once in the genome; only this layer's biases are its own). The "
          "source maps k -> n values, this layer n -> k, output 1x1xk; the source's scale "
          "applies.")
      .def(
          "reshape",
          [](Network& n, const py::object& h, const py::object& w, const py::object& c) -> Network& {
            return n.reshape(size_arg(h, "reshape", "height"), size_arg(w, "reshape", "width"),
                             size_arg(c, "reshape", "channels"));
          },
          self, py::arg("height"), py::arg("width"), py::arg("channels"),
          "Reinterpret the buffer; the size must match.")
      .def("unpool", &Network::unpool, self, "Nearest-neighbour 2x upsampling.")
      .def(
          "conv_transpose",
          [](Network& n, const py::object& kh, const py::object& kw, const py::object& r,
             const std::string& activation) -> Network& {
            return n.conv_transpose(size_arg(kh, "conv_transpose", "kernel_height"),
                                    size_arg(kw, "conv_transpose", "kernel_width"),
                                    size_arg(r, "conv_transpose", "reducer"),
                                    activation_from_name(activation));
          },
          self, py::arg("kernel_height"), py::arg("kernel_width"), py::arg("reducer") = 1,
          py::arg("activation") = "sigmoid",
          "Full transposed convolution, stride 1, no bias, then an activation: \"sigmoid\" "
          "(the original's), \"relu\", \"tanh\" or \"identity\". Output channel i is the sum "
          "over j < reducer of input channel i*reducer+j with kernel j.")
      .def_property_readonly("num_params", &Network::num_params)
      .def_property_readonly("input_shape",
                             [](const Network& n) { return shape_tuple(n.input_shape()); })
      .def_property_readonly("output_shape",
                             [](const Network& n) { return shape_tuple(n.output_shape()); })
      .def_property_readonly(
          "layers",
          [](const Network& n) {
            py::list out;
            for (const Layer& l : n.layers()) out.append(layer_info(n, l));
            return out;
          },
          "One dict per layer: kind, call, arguments, options (the activation and scale a "
          "call writes after the arguments: those that are not the defaults), shapes, offset, "
          "parameter counts, activation (conv, conv_transpose, dense and tied layers, else "
          "None), scale (dense and tied layers, else None) and source (tied layers, else "
          "None).")
      .def("summary", &Network::summary, "A table of layers, output shapes and parameters.")
      .def(
          "forward",
          [](const Network& n, const FloatArray& genome, const FloatArray& images, int threads) {
            return forward_population(n, genome, images, threads, false);
          },
          py::arg("genome"), py::arg("images"), py::arg("threads") = 0,
          "Run images (S, H, W) through the network with one genome (num_params,).")
      .def("activations", &activations, py::arg("genome"), py::arg("images"),
           "Every layer's output for one genome (num_params,) on images (S, H, W): a list of "
           "arrays (S, ...), one per layer, the input first and the output (what forward() "
           "gives) last.")
      .def(
          "forward_population",
          [](const Network& n, const FloatArray& genomes, const FloatArray& images,
             int threads) { return forward_population(n, genomes, images, threads, true); },
          py::arg("genomes"), py::arg("images"), py::arg("threads") = 0,
          "Run images (S, H, W) through P genomes (P, num_params); returns (P, S, ...).")
      .def("errors", &errors, py::arg("genomes"), py::arg("images"),
           py::arg("targets") = py::none(), py::arg("threads") = 0,
           "Sum of |output - target| over images and pixels for each of P genomes; targets "
           "default to the images (autoencoder).")
      .def("__repr__", [](const Network& n) {
        std::string s = "Network(" + std::to_string(n.input_shape().height) + ", " +
                        std::to_string(n.input_shape().width) + ")";
        for (std::size_t i = 1; i < n.layers().size(); ++i) s += "." + n.layers()[i].call();
        return s;
      });
  // The names of the reference page and of the original C++ code, as aliases.
  net.attr("sigm") = net.attr("dense");
  net.attr("trconv") = net.attr("conv_transpose");
  net.attr("addConvLayer") = net.attr("conv");
  net.attr("addMaxPoolLayer") = net.attr("maxpool");
  net.attr("addSigmLayer") = net.attr("dense");
  net.attr("addReshapeLayer") = net.attr("reshape");
  net.attr("addUnpoolLayer") = net.attr("unpool");
  net.attr("addTrConvLayer") = net.attr("conv_transpose");

  m.def("varadi_network", &varadi_network,
        "The network of Varadi (2021): 28x28 -> 2-D code -> 28x28, 1397 parameters.");
}

}  // namespace evoae::bindings
