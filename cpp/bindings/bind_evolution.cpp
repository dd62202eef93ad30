// Bindings of the C++ Evolution; the Python class evoae.Evolution wraps it. Operators are
// passed by name (operators.h); a saved state travels as a dict of NumPy arrays.
#include "bindings.h"
#include "evoae/evolution.h"
#include "evoae/operators.h"

namespace evoae::bindings {
namespace {

py::array_t<float> genome_array(const Evolution& e, std::size_t agent) {
  const std::size_t G = e.network().num_params();
  py::array_t<float> out(static_cast<py::ssize_t>(G));
  std::copy(e.genome(agent), e.genome(agent) + G, out.mutable_data());
  return out;
}

template <class T>
py::array_t<T> array_of(const std::vector<T>& v) {
  py::array_t<T> out(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

template <class T>
std::vector<T> vector_of(const py::dict& state, const char* key) {
  if (!state.contains(key)) throw py::value_error(std::string("the state has no '") + key + "'");
  auto a = state[key].cast<py::array_t<T, py::array::c_style | py::array::forcecast>>();
  return std::vector<T>(a.data(), a.data() + a.size());
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
  return s;
}

py::dict state_to_dict(const Evolution& e) {
  const EvolutionState s = e.state();
  py::dict d;
  const std::size_t P = e.settings().population, G = e.network().num_params();
  py::array_t<float> genomes({P, G});
  std::copy(s.genomes.begin(), s.genomes.end(), genomes.mutable_data());
  d["generation"] = s.generation;
  d["genomes"] = genomes;
  d["errors"] = array_of(s.errors);
  d["sigmas"] = array_of(s.sigmas);
  d["sigma"] = s.sigma;
  d["history"] = array_of(s.history);
  d["evaluations"] = s.evaluations;
  return d;
}

py::dict settings_to_dict(const EvolutionSettings& s) {
  py::dict d;
  d["population"] = s.population;
  d["mutations"] = s.mutations;
  d["seed"] = s.seed;
  d["mutation"] = name(s.mutation);
  d["sigma"] = s.sigma;
  d["step_control"] = name(s.step_control);
  d["sigma_end"] = s.sigma_end;
  d["mutations_end"] = s.mutations_end;
  d["schedule_generations"] = s.schedule_generations;
  d["tau"] = s.tau;
  d["crossover"] = name(s.crossover);
  d["selection"] = name(s.selection);
  d["truncation"] = s.truncation;
  d["tournament_size"] = s.tournament_size;
  d["elites"] = s.elites;
  d["fitness"] = name(s.fitness);
  d["batch"] = s.batch;
  return d;
}

const char* reason_name(StopReason r) {
  switch (r) {
    case StopReason::Generations: return "generations";
    case StopReason::Seconds: return "seconds";
    case StopReason::Target: return "target";
    case StopReason::Patience: return "patience";
  }
  return "";
}

}  // namespace

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

  py::class_<Evolution>(m, "Evolution")
      .def(py::init([](const Network& net, const FloatArray& images, int population,
                       int mutations, std::uint64_t seed, int threads,
                       const std::string& mutation, double sigma, const std::string& step_control,
                       double sigma_end, int mutations_end, long schedule_generations, double tau,
                       const std::string& crossover, const std::string& selection,
                       int truncation, int tournament_size, int elites,
                       const std::string& fitness, int batch, const py::object& state) {
             const Shape in = net.input_shape();
             require_shape(images, {-1, in.height, in.width}, "images",
                           ("(S, " + std::to_string(in.height) + ", " +
                            std::to_string(in.width) + ")").c_str());
             EvolutionSettings s;
             s.population = population;
             s.mutations = mutations;
             s.seed = seed;
             s.threads = threads;
             s.mutation = parse_mutation(mutation);
             s.sigma = sigma;
             s.step_control = parse_step_control(step_control);
             s.sigma_end = sigma_end;
             s.mutations_end = mutations_end;
             s.schedule_generations = schedule_generations;
             s.tau = tau;
             s.crossover = parse_crossover(crossover);
             s.selection = parse_selection(selection);
             s.truncation = truncation;
             s.tournament_size = tournament_size;
             s.elites = elites;
             s.fitness = parse_fitness(fitness);
             s.batch = batch;
             std::vector<float> data(images.data(), images.data() + images.size());
             const std::size_t S = images.shape(0);
             if (state.is_none()) {
               py::gil_scoped_release release;  // evaluates the first population
               return std::make_unique<Evolution>(net, std::move(data), S, s);
             }
             EvolutionState st = state_from_dict(state.cast<py::dict>());
             py::gil_scoped_release release;
             return std::make_unique<Evolution>(net, std::move(data), S, s, std::move(st));
           }),
           py::arg("network"), py::arg("images"), py::arg("population"), py::arg("mutations"),
           py::arg("seed"), py::arg("threads"), py::arg("mutation") = "original",
           py::arg("sigma") = 1.0, py::arg("step_control") = "fixed", py::arg("sigma_end") = 0.0,
           py::arg("mutations_end") = -1, py::arg("schedule_generations") = 0,
           py::arg("tau") = 0.0, py::arg("crossover") = "none",
           py::arg("selection") = "copy-best", py::arg("truncation") = 0,
           py::arg("tournament_size") = 0, py::arg("elites") = 1, py::arg("fitness") = "sae",
           py::arg("batch") = 0, py::arg("state") = py::none())
      .def("step", &Evolution::step, py::call_guard<py::gil_scoped_release>())
      .def("advance", py::overload_cast<long, double, double>(&Evolution::advance),
           py::arg("max_generations"), py::arg("max_seconds"), py::arg("target_error"),
           py::call_guard<py::gil_scoped_release>())
      .def(
          "advance_until",
          [](Evolution& e, long max_generations, double max_seconds, double target_error,
             double target_mae, long patience) {
            StopConditions stop;
            stop.max_generations = max_generations;
            stop.max_seconds = max_seconds;
            stop.target_error = target_error;
            stop.target_mae = target_mae;
            stop.patience = patience;
            Advanced done;
            {
              py::gil_scoped_release release;
              done = e.advance(stop);
            }
            return py::make_tuple(done.generations, reason_name(done.reason));
          },
          py::arg("max_generations"), py::arg("max_seconds"), py::arg("target_error") = -1.0,
          py::arg("target_mae") = -1.0, py::arg("patience") = 0,
          "Runs until a stop condition holds; returns (generations done, reason).")
      .def("state", &state_to_dict, "The state to restore the run from (a dict of arrays).")
      .def_property_readonly("settings",
                             [](const Evolution& e) { return settings_to_dict(e.settings()); })
      .def_property_readonly("generation", &Evolution::generation)
      .def_property_readonly("best_error", &Evolution::best_error)
      .def_property_readonly("best_index", &Evolution::best_index)
      .def_property_readonly("best_mae", [](Evolution& e) {
        py::gil_scoped_release release;
        return e.best_mae();
      })
      .def("evaluate_best_on_all_images", [](Evolution& e) {
        FullEvaluation f;
        {
          py::gil_scoped_release release;
          f = e.evaluate_best_on_all_images();
        }
        return py::make_tuple(f.error, f.mae);
      }, "(fitness, mean |error| per pixel) of the best agent on all images.")
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
      .def_property_readonly("errors", [](const Evolution& e) { return array_of(e.errors()); })
      .def_property_readonly("history", [](const Evolution& e) { return array_of(e.history()); })
      .def_property_readonly("sigmas", [](const Evolution& e) { return array_of(e.sigmas()); })
      .def_property_readonly("sigma", &Evolution::sigma)
      .def_property_readonly("improved_at", &Evolution::improved_at)
      .def_property_readonly("batch", [](const Evolution& e) {
        std::vector<long> b(e.batch().begin(), e.batch().end());
        return array_of(b);
      })
      .def_property_readonly("images_per_generation", &Evolution::images_per_generation)
      .def_property_readonly("evaluations", &Evolution::evaluations)
      .def_property_readonly("num_images", &Evolution::num_images)
      .def_property_readonly("threads", [](const Evolution& e) { return e.settings().threads; });
}

}  // namespace evoae::bindings
