// Bindings of coevolution with pruning (coevo/): the Coevolution system, which the Python run
// loop drives as it drives a Trainer (the same advance() and properties), its settings table,
// and the neighbourhoods. Samples travel as (S, H, W) float32 arrays of the network's input.
#include "bindings.h"
#include "evoae/coevo/coevolution.h"
#include "evoae/coevo/topology.h"

namespace evoae::bindings {
namespace {

std::unique_ptr<Coevolution> make_coevolution(const Network& net, int encoder_layers,
                                              const FloatArray& samples,
                                              const std::map<std::string, SettingValue>& given) {
  require_images(net, samples, "samples");
  std::vector<float> inputs(samples.data(), samples.data() + samples.size());
  const CoevoSettings s = coevo_settings_from(given);
  py::gil_scoped_release release;  // measures the first centres
  return std::make_unique<Coevolution>(net, encoder_layers, std::move(inputs), s);
}

py::dict records_dict(const Coevolution& c) {
  std::vector<double> best_loss, best_kept, mean_kept;
  std::vector<long long> prunes;
  for (const EpochRecord& r : c.records()) {
    best_loss.push_back(r.best_loss);
    best_kept.push_back(r.best_kept);
    mean_kept.push_back(r.mean_kept);
    prunes.push_back(static_cast<long long>(r.prunes));
  }
  py::dict d;
  d["best_loss"] = array_of(best_loss);
  d["best_kept"] = array_of(best_kept);
  d["mean_kept"] = array_of(mean_kept);
  d["prunes"] = array_of(prunes);
  return d;
}

}  // namespace

void bind_coevo(py::module_& m) {
  m.def("coevo_setting_specs", [] {
    py::list specs;
    for (const SettingSpec& spec : coevo_setting_specs()) specs.append(spec_to_dict(spec));
    return specs;
  }, "The coevolution settings table: name, type, group, range, choices, default, help of "
     "each setting (as setting_specs()).");
  m.def("coevo_neighbourhood",
        [](const std::string& topology, std::size_t cells, int radius, int torus_rows,
           std::size_t cell) {
          return neighbourhood(topology_from_name(topology), cells, radius, torus_rows, cell);
        },
        py::arg("topology"), py::arg("cells"), py::arg("radius"), py::arg("torus_rows"),
        py::arg("cell"), "The cells of a cell's neighbourhood, the centre first.");

  // dynamic_attr: the run loop (evoae/run.py) sets stop_reason on what it drives.
  py::class_<Coevolution>(m, "Coevolution", py::dynamic_attr())
      .def(py::init(&make_coevolution), py::arg("network"), py::arg("encoder_layers"),
           py::arg("samples"), py::arg("settings"),
           "Coevolution (or canonical training) of the dense autoencoder `network` whose first "
           "`encoder_layers` dense layers are the encoder, on samples (S, H, W), each its own "
           "target.")
      .def("step", &Coevolution::step, py::call_guard<py::gil_scoped_release>(), "One epoch.")
      .def("advance", &advance<Coevolution>, py::arg("max_generations"),
           py::arg("max_seconds"), py::arg("target_metric") = -1.0, py::arg("patience") = 0,
           "Runs epochs until a stop condition holds; returns (epochs done, reason).")
      .def("genome", [](const Coevolution& c, std::size_t cell) { return array_of(c.genome(cell)); },
           py::arg("cell"), "A cell's centre, (num_params,) float32.")
      .def("best_genome", [](const Coevolution& c) { return array_of(c.genome(c.best_index())); },
           "The centre with the lowest loss on all training samples.")
      .def(
          "loss_on",
          [](Coevolution& c, const FloatArray& genome, const FloatArray& samples) {
            require_genomes(c.network(), genome, false);
            require_images(c.network(), samples, "samples");
            py::gil_scoped_release release;
            return c.loss_on(genome.data(), samples.data(),
                             static_cast<std::size_t>(samples.shape(0)));
          },
          py::arg("genome"), py::arg("samples"),
          "The mean L1 loss of a genome on samples (S, H, W), each its own target.")
      .def("records", &records_dict,
           "Per epoch, the start first: best_loss, best_kept, mean_kept, prunes.")
      .def_property_readonly("settings",
                             [](const Coevolution& c) { return coevo_settings_values(c.settings()); })
      .def_property_readonly("metric_name", &Coevolution::metric_name)
      .def_property_readonly("generation", &Coevolution::generation)
      .def_property_readonly("evaluations", &Coevolution::evaluations)
      .def_property_readonly("best_error", &Coevolution::best_error)
      .def_property_readonly("best_metric", &Coevolution::best_metric)
      .def_property_readonly("best_index", &Coevolution::best_index)
      .def_property_readonly("improved_at", &Coevolution::improved_at)
      .def_property_readonly("cells", &Coevolution::cells)
      .def_property_readonly("encoder_size", &Coevolution::encoder_size)
      .def_property_readonly("history", [](const Coevolution& c) { return array_of(c.history()); })
      .def_property_readonly("losses", [](const Coevolution& c) { return array_of(c.losses()); })
      .def_property_readonly("learning_rates",
                             [](const Coevolution& c) { return array_of(c.learning_rates()); });
}

}  // namespace evoae::bindings
