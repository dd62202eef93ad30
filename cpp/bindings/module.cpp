// The evoae._core module: only lists the binding files.
#include "bindings.h"
#include "evoae/core/simd.h"

namespace evoae::bindings {
void bind_network(py::module_& m);
void bind_evolution(py::module_& m);
void bind_train(py::module_& m);
void bind_islands(py::module_& m);
void bind_coevo(py::module_& m);
void bind_vae(py::module_& m);
void bind_gan(py::module_& m);

std::string shape_text(const std::vector<py::ssize_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

void require_shape(const FloatArray& array, const std::vector<py::ssize_t>& expected,
                   const char* what, const char* expected_text) {
  std::vector<py::ssize_t> got(array.shape(), array.shape() + array.ndim());
  bool ok = got.size() == expected.size();
  for (std::size_t i = 0; ok && i < got.size(); ++i)
    ok = expected[i] < 0 ? got[i] >= 1 : got[i] == expected[i];
  if (!ok)
    throw py::value_error(std::string(what) + " must have shape " + expected_text + ", got " +
                          shape_text(got));
}

void require_genomes(const Network& net, const FloatArray& genomes, bool population) {
  const auto G = static_cast<py::ssize_t>(net.num_params());
  if (population)
    require_shape(genomes, {-1, G}, "genomes", ("(P, " + std::to_string(G) + ")").c_str());
  else
    require_shape(genomes, {G}, "genome", ("(" + std::to_string(G) + ",)").c_str());
}

void require_images(const Network& net, const FloatArray& images, const char* what) {
  const Shape in = net.input_shape();
  const std::string text =
      "(S, " + std::to_string(in.height) + ", " + std::to_string(in.width) + ")";
  require_shape(images, {-1, in.height, in.width}, what, text.c_str());
}

FloatArray checked_targets(const Network& net, const FloatArray& images,
                           const py::object& targets_arg) {
  const Shape in = net.input_shape(), out = net.output_shape();
  if (targets_arg.is_none() && !(in == out))
    throw py::value_error("targets are needed: the network's output " + out.str() +
                          " differs from its input " + in.str());
  FloatArray targets = targets_arg.is_none() ? images : targets_arg.cast<FloatArray>();
  std::vector<py::ssize_t> tdims = output_dims(out);
  tdims.insert(tdims.begin(), images.shape(0));
  require_shape(targets, tdims, "targets", shape_text(tdims).c_str());
  return targets;
}

std::vector<py::ssize_t> output_dims(const Shape& shape) {
  if (shape.height == 1 && shape.width == 1) return {shape.channels};
  if (shape.channels == 1) return {shape.height, shape.width};
  return {shape.channels, shape.height, shape.width};
}
}  // namespace evoae::bindings

PYBIND11_MODULE(_core, m) {
  m.doc() = "evoae's C++ core: networks, population evaluation and evolution";
  m.def(
      "build_info",
      [] {
        py::dict info;
        info["lanes"] = evoae::kLanes;  // genomes per SIMD vector
        // fma: sums of dense layers and errors fused too (EVOAE_FMA), which changes results;
        // hardware_fma: fmadd (convolutions, exp) is one rounding.
        info["fma"] = evoae::kFmaSums;
        info["hardware_fma"] = evoae::kHardwareFma;
#if defined(__AVX512F__)
        info["isa"] = "avx512";
#elif defined(__AVX2__)
        info["isa"] = "avx2";
#else
        info["isa"] = "portable";
#endif
        return info;
      },
      "How this build computes: lanes (8 or 16), fma, hardware_fma, isa");
  evoae::bindings::bind_network(m);
  evoae::bindings::bind_evolution(m);
  evoae::bindings::bind_train(m);
  evoae::bindings::bind_islands(m);
  evoae::bindings::bind_coevo(m);
  evoae::bindings::bind_vae(m);
  evoae::bindings::bind_gan(m);
}
