// Bindings of the C++ engine; the Python class evoae.Evolution wraps it. Settings travel as
// a dict checked against the one settings table (evo/settings.h), which is exported too; a
// saved state travels as a dict of NumPy arrays.
#include "bindings.h"
#include "evoae/evo/evolution.h"
#include "evoae/evo/operators.h"

namespace evoae::bindings {
namespace {

// The best agent's weights as measured (under Baldwinian learning, the learned ones).
py::array_t<float> best_genome_array(const Evolution& e) {
  const std::size_t G = e.network().num_params();
  py::array_t<float> out(static_cast<py::ssize_t>(G));
  std::copy(e.best_genome(), e.best_genome() + G, out.mutable_data());
  return out;
}

EvolutionState state_from_dict(const py::dict& d) {
  EvolutionState s;
  for (const char* key : {"generation", "sigma", "evaluations"})
    if (!d.contains(key)) throw py::value_error(std::string("the state has no '") + key + "'");
  s.generation = d["generation"].cast<long>();
  s.genomes = vector_of<float>(d, "genomes");
  s.errors = vector_of<double>(d, "errors");
  s.sigmas = vector_of<double>(d, "sigmas");
  s.sigma = d["sigma"].cast<double>();
  s.history = vector_of<double>(d, "history");
  s.evaluations = d["evaluations"].cast<std::uint64_t>();
  s.strategy = vector_of<double>(d, "strategy");
  return s;
}

py::dict state_to_dict(const Evolution& e) {
  const EvolutionState s = e.state();
  py::dict d;
  const std::size_t P = e.population(), G = e.network().num_params();
  py::array_t<float> genomes({P, G});
  std::copy(s.genomes.begin(), s.genomes.end(), genomes.mutable_data());
  d["generation"] = s.generation;
  d["genomes"] = genomes;
  d["errors"] = array_of(s.errors);
  d["sigmas"] = array_of(s.sigmas);
  d["sigma"] = s.sigma;
  d["history"] = array_of(s.history);
  d["evaluations"] = s.evaluations;
  d["strategy"] = array_of(s.strategy);  // an evolution strategy's own state; empty for the GA
  return d;
}

}  // namespace

py::dict spec_to_dict(const SettingSpec& spec) {
  static const char* types[] = {"int", "float", "choice"};
  py::dict d;
  d["name"] = spec.name;
  d["type"] = types[static_cast<int>(spec.type)];
  d["group"] = spec.group;
  d["min"] = spec.min;
  d["min_exclusive"] = spec.min_exclusive;
  d["max"] = spec.max;
  d["choices"] = spec.choices;
  d["default"] = spec.default_value;
  d["metavar"] = spec.metavar;
  d["command_line"] = spec.command_line;
  d["help"] = spec.help;
  return d;
}

// The objective's data from NumPy arrays: images (S, H, W) of the network's input shape,
// targets (S, ...) of its output size, labels (S,) of classes.
ObjectiveData objective_data(const Network& net, const FloatArray& images,
                             const py::object& targets, const py::object& labels) {
  const Shape in = net.input_shape();
  require_shape(images, {-1, in.height, in.width}, "images",
                ("(S, " + std::to_string(in.height) + ", " + std::to_string(in.width) + ")")
                    .c_str());
  ObjectiveData data;
  data.inputs.assign(images.data(), images.data() + images.size());
  data.num_samples = images.shape(0);
  if (!targets.is_none()) {
    const auto t = targets.cast<FloatArray>();
    if (t.ndim() < 1 || static_cast<std::size_t>(t.shape(0)) != data.num_samples)
      throw py::value_error("targets must hold one row per image (" +
                            std::to_string(data.num_samples) + "), got shape " +
                            shape_text({t.shape(), t.shape() + t.ndim()}));
    data.targets.assign(t.data(), t.data() + t.size());
  }
  if (!labels.is_none()) {
    const auto l = labels.cast<py::array_t<int, py::array::c_style | py::array::forcecast>>();
    if (l.ndim() != 1)
      throw py::value_error("labels must be one class per image, shape (S,), got " +
                            shape_text({l.shape(), l.shape() + l.ndim()}));
    data.labels.assign(l.data(), l.data() + l.size());
  }
  return data;
}

void bind_evolution(py::module_& m) {
  m.def("operator_names", [] {
    py::dict d;
    d["mutation"] = mutation_names();
    d["step_control"] = step_control_names();
    d["crossover"] = crossover_names();
    d["selection"] = selection_names();
    d["fitness"] = fitness_names();
    return d;
  }, "The valid names of each kind of operator, the default first.");
  m.def("setting_specs", [] {
    py::list specs;
    for (const SettingSpec& spec : setting_specs()) specs.append(spec_to_dict(spec));
    return specs;
  }, "The settings table: name, type, group, range, choices, default, help of each setting.");
  m.def("default_sigma", [](const std::string& mutation) {
    return default_sigma(parse_mutation(mutation));
  }, py::arg("mutation"), "sigma when none is given, for a mutation kind.");

  py::class_<Evolution>(m, "Evolution")
      .def(py::init([](const Network& net, const FloatArray& images,
                       const std::map<std::string, SettingValue>& settings,
                       const py::object& targets, const py::object& labels,
                       const py::object& state) {
             ObjectiveData data = objective_data(net, images, targets, labels);
             const EvolutionSettings s = settings_from(settings);
             if (state.is_none()) {
               py::gil_scoped_release release;  // evaluates the first population
               return std::make_unique<Evolution>(net, std::move(data), s);
             }
             EvolutionState st = state_from_dict(state.cast<py::dict>());
             py::gil_scoped_release release;
             return std::make_unique<Evolution>(net, std::move(data), s, std::move(st));
           }),
           py::arg("network"), py::arg("images"), py::arg("settings"),
           py::arg("targets") = py::none(), py::arg("labels") = py::none(),
           py::arg("state") = py::none())
      .def(py::init([](const std::string& function, std::size_t num_params,
                       const std::map<std::string, SettingValue>& settings,
                       const py::object& state) {
             const TestFunction f = parse_test_function(function);
             const EvolutionSettings s = settings_from(settings);
             if (state.is_none()) {
               py::gil_scoped_release release;
               return std::make_unique<Evolution>(f, num_params, s);
             }
             EvolutionState st = state_from_dict(state.cast<py::dict>());
             py::gil_scoped_release release;
             return std::make_unique<Evolution>(f, num_params, s, std::move(st));
           }),
           py::arg("function"), py::arg("num_params"), py::arg("settings"),
           py::arg("state") = py::none(),
           "A test function (sphere, ellipsoid, rosenbrock, rastrigin) of num_params "
           "parameters in place of a network and images.")
      .def("step", &Evolution::step, py::call_guard<py::gil_scoped_release>())
      .def("advance", &advance<Evolution>, py::arg("max_generations"), py::arg("max_seconds"),
           py::arg("target_metric") = -1.0, py::arg("patience") = 0,
           "Runs until a stop condition holds; returns (generations done, reason).")
      .def("state", &state_to_dict, "The state to restore the run from (a dict of arrays).")
      .def_property_readonly("settings",
                             [](const Evolution& e) { return settings_values(e.settings()); })
      .def_property_readonly("metric_name",
                             [](const Evolution& e) { return e.objective().metric_name(); })
      .def_property_readonly("generation", &Evolution::generation)
      .def_property_readonly("best_error", &Evolution::best_error)
      .def_property_readonly("best_index", &Evolution::best_index)
      .def_property_readonly("best_metric", [](Evolution& e) {
        py::gil_scoped_release release;
        return e.best_metric();
      })
      .def("evaluate_best_on_all_images", [](Evolution& e) {
        Measure m;
        {
          py::gil_scoped_release release;
          m = e.evaluate_best_on_all_images();
        }
        return py::make_tuple(m.fitness, m.metric);
      }, "(fitness, metric) of the best agent on all samples.")
      .def_property_readonly("best_genome",
                             [](const Evolution& e) { return best_genome_array(e); })
      .def_property_readonly("population",
                             [](const Evolution& e) {
                               const std::size_t P = e.population(),
                                                 G = e.network().num_params();
                               py::array_t<float> out({P, G});
                               for (std::size_t a = 0; a < P; ++a)
                                 std::copy(e.genome(a), e.genome(a) + G,
                                           out.mutable_data() + a * G);
                               return out;
                             })
      .def_property_readonly("errors", [](const Evolution& e) { return array_of(e.errors()); })
      .def_property_readonly("history", [](const Evolution& e) { return array_of(e.history()); })
      .def_property_readonly("sigmas", [](const Evolution& e) { return array_of(e.sigmas()); })
      .def_property_readonly("sigma", &Evolution::sigma)
      .def_property_readonly("mean", [](const Evolution& e) -> py::object {
        if (e.mean().empty()) return py::none();
        py::array_t<float> out(static_cast<py::ssize_t>(e.mean().size()));
        std::copy(e.mean().begin(), e.mean().end(), out.mutable_data());
        return out;
      })
      .def_property_readonly("improved_at", &Evolution::improved_at)
      .def_property_readonly("batch", [](const Evolution& e) {
        std::vector<long> b(e.batch().begin(), e.batch().end());
        return array_of(b);
      })
      .def_property_readonly("images_per_generation", &Evolution::images_per_generation)
      .def_property_readonly("evaluations", &Evolution::evaluations)
      .def_property_readonly("gradient_evaluations", &Evolution::gradient_evaluations,
                             "(genome, sample) forward and backward passes of memetic learning")
      .def_property_readonly("num_images", &Evolution::num_images);
}

}  // namespace evoae::bindings
