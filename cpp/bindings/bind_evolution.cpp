// Bindings of the C++ Evolution; the Python class evoae.Evolution wraps it.
#include "bindings.h"
#include "evoae/evolution.h"

namespace evoae::bindings {
namespace {

py::array_t<float> genome_array(const Evolution& e, std::size_t agent) {
  const std::size_t G = e.network().num_params();
  py::array_t<float> out(static_cast<py::ssize_t>(G));
  std::copy(e.genome(agent), e.genome(agent) + G, out.mutable_data());
  return out;
}

}  // namespace

void bind_evolution(py::module_& m) {
  py::class_<Evolution>(m, "Evolution")
      .def(py::init([](const Network& net, const FloatArray& images, int population,
                       int mutations, std::uint64_t seed, int threads) {
             const Shape in = net.input_shape();
             require_shape(images, {-1, in.height, in.width}, "images",
                           ("(S, " + std::to_string(in.height) + ", " +
                            std::to_string(in.width) + ")").c_str());
             std::vector<float> data(images.data(), images.data() + images.size());
             return std::make_unique<Evolution>(
                 net, std::move(data), images.shape(0),
                 EvolutionSettings{population, mutations, seed, threads});
           }),
           py::arg("network"), py::arg("images"), py::arg("population"), py::arg("mutations"),
           py::arg("seed"), py::arg("threads"))
      .def("step", &Evolution::step, py::call_guard<py::gil_scoped_release>())
      .def("advance", &Evolution::advance, py::arg("max_generations"), py::arg("max_seconds"),
           py::arg("target_error"), py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("generation", &Evolution::generation)
      .def_property_readonly("best_error", &Evolution::best_error)
      .def_property_readonly("best_index", &Evolution::best_index)
      .def_property_readonly("best_genome",
                             [](const Evolution& e) { return genome_array(e, e.best_index()); })
      .def_property_readonly("population",
                             [](const Evolution& e) {
                               const std::size_t P = e.settings().population,
                                                 G = e.network().num_params();
                               py::array_t<float> out({P, G});
                               for (std::size_t a = 0; a < P; ++a)
                                 std::copy(e.genome(a), e.genome(a) + G,
                                           out.mutable_data() + a * G);
                               return out;
                             })
      .def_property_readonly("errors", [](const Evolution& e) { return py::array(py::cast(e.errors())); })
      .def_property_readonly("history", [](const Evolution& e) { return py::array(py::cast(e.history())); })
      .def_property_readonly("evaluations", &Evolution::evaluations)
      .def_property_readonly("num_images", &Evolution::num_images)
      .def_property_readonly("threads", [](const Evolution& e) { return e.settings().threads; });
}

}  // namespace evoae::bindings
