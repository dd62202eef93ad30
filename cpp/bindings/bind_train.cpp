// Bindings of training (train/): the Trainer, which the Python run loop drives as it drives
// an Evolution (the same advance() and properties), its settings table, and the gradients of
// a Network over images as two more methods of the Network class. Settings travel as a dict
// checked against the table (train/settings.h), per-network settings as numbers or lists; a
// saved state travels as a dict of NumPy arrays.
#include "bindings.h"
#include "evoae/train/trainer.h"

namespace evoae::bindings {
namespace {

using TrainSettingsDict = std::map<std::string, TrainSettingValue>;

// (rows, G) float32 from rows * G values.
py::array_t<float> matrix(const std::vector<float>& values, std::size_t rows, std::size_t G) {
  py::array_t<float> out({rows, G});
  std::copy(values.begin(), values.end(), out.mutable_data());
  return out;
}

TrainerState state_from_dict(const py::dict& d) {
  for (const char* key : {"generation", "evaluations"})
    if (!d.contains(key)) throw py::value_error(std::string("the state has no '") + key + "'");
  TrainerState s;
  s.step = d["generation"].cast<long>();
  s.evaluations = d["evaluations"].cast<std::uint64_t>();
  s.genomes = vector_of<float>(d, "genomes");
  s.history = vector_of<double>(d, "history");
  s.first = vector_of<float>(d, "first");
  s.second = vector_of<float>(d, "second");
  return s;
}

py::dict state_to_dict(const Trainer& t) {
  const TrainerState s = t.state();
  const std::size_t N = t.networks(), G = t.network().num_params();
  py::dict d;
  d["generation"] = s.step;  // optimiser steps done
  d["evaluations"] = s.evaluations;
  d["genomes"] = matrix(s.genomes, N, G);
  d["history"] = array_of(s.history);
  d["first"] = matrix(s.first, N, G);  // the optimiser's moments: Adam's m, SGD's velocity
  d["second"] = matrix(s.second, s.second.empty() ? 0 : N, G);  // Adam's v; none for SGD
  return d;
}

std::unique_ptr<Trainer> make_trainer(const Network& net, const FloatArray& images,
                                      const TrainSettingsDict& settings,
                                      const py::object& targets, const py::object& labels,
                                      const py::object& genomes, const py::object& state) {
  ObjectiveData data = objective_data(net, images, targets, labels);
  const TrainSettings s = train_settings_from(settings);
  if (!genomes.is_none() && !state.is_none())
    throw py::value_error("give genomes or state, not both: a state holds its genomes");
  if (!state.is_none()) {
    TrainerState st = state_from_dict(state.cast<py::dict>());
    py::gil_scoped_release release;  // measures the first step
    return std::make_unique<Trainer>(net, std::move(data), s, std::move(st));
  }
  std::vector<float> start;
  if (!genomes.is_none()) {
    const auto g = genomes.cast<FloatArray>();
    const auto G = static_cast<py::ssize_t>(net.num_params());
    require_shape(g, {s.networks, G},
                  "genomes", ("(networks, " + std::to_string(G) + ") = (" +
                              std::to_string(s.networks) + ", " + std::to_string(G) + ")")
                                 .c_str());
    start.assign(g.data(), g.data() + g.size());
  }
  py::gil_scoped_release release;
  return std::make_unique<Trainer>(net, std::move(data), s, std::move(start));
}

// The mean loss over the images and its gradient: per genome of (P, G) genomes in population
// mode, or of one genome (G) with the images across the lanes.
py::tuple gradients(const Network& net, const FloatArray& genomes, const FloatArray& images,
                    const py::object& targets_arg, const std::string& loss, int threads,
                    bool population) {
  require_genomes(net, genomes, population);
  require_images(net, images, "images");
  const FloatArray targets = checked_targets(net, images, targets_arg);
  const Loss kind = loss_from_name(loss);
  const std::size_t P = population ? genomes.shape(0) : 1, G = net.num_params();
  py::array_t<double> losses(static_cast<py::ssize_t>(P));
  py::array_t<float> grads = population ? py::array_t<float>({P, G}) : py::array_t<float>(G);
  const float* g = genomes.data();
  const ImageSet set{images.data(), targets.data(), nullptr,
                     static_cast<std::size_t>(images.shape(0))};
  double* l = losses.mutable_data();
  float* d = grads.mutable_data();
  {
    py::gil_scoped_release release;
    GradientEvaluator evaluator(net, kind, Metric::MeanAbsoluteError, threads);
    std::vector<double> metrics(P);
    if (population) evaluator.population(g, P, set, l, metrics.data(), d);
    else evaluator.one_network(g, set, l, metrics.data(), d);
  }
  if (population) return py::make_tuple(losses, grads);
  return py::make_tuple(losses.at(0), grads);
}

}  // namespace

void bind_train(py::module_& m) {
  m.def("train_setting_specs", [] {
    py::list specs;
    for (const SettingSpec& spec : train_setting_specs()) specs.append(spec_to_dict(spec));
    return specs;
  }, "The training settings table: name, type, group, range, choices, default, help of each "
     "setting (as setting_specs()).");
  m.def("train_per_network_settings", [] {
    std::vector<std::string> names;
    for (const SettingSpec& spec : train_setting_specs())
      if (is_per_network_setting(spec.name)) names.push_back(spec.name);
    return names;
  }, "The training settings that take a list of one value per network.");
  m.def("loss_names", &loss_names, "The valid loss names, the default (\"mae\") first.");

  auto network = py::reinterpret_borrow<py::class_<Network>>(py::type::of<Network>());
  network
      .def("gradients",
           [](const Network& net, const FloatArray& genomes, const FloatArray& images,
              const py::object& targets, const std::string& loss, int threads) {
             return gradients(net, genomes, images, targets, loss, threads, true);
           },
           py::arg("genomes"), py::arg("images"),
           py::arg("targets") = py::none(), py::arg("loss") = "mae", py::arg("threads") = 0,
           "Population mode: genomes (P, num_params) on images (S, H, W) against targets "
           "(S, ...output; default the images). Returns (losses (P,) float64, grads (P, "
           "num_params) float32): each genome's loss and its gradient, means over the images.")
      .def("gradient",
           [](const Network& net, const FloatArray& genome, const FloatArray& images,
              const py::object& targets, const std::string& loss, int threads) {
             return gradients(net, genome, images, targets, loss, threads, false);
           },
           py::arg("genome"), py::arg("images"),
           py::arg("targets") = py::none(), py::arg("loss") = "mae", py::arg("threads") = 0,
           "One network: genome (num_params,) on images (S, H, W) spread across the SIMD "
           "lanes. Returns (loss, grad (num_params,) float32), means over the images.");

  py::class_<Trainer>(m, "Trainer")
      .def(py::init(&make_trainer), py::arg("network"), py::arg("images"),
           py::arg("settings"), py::arg("targets") = py::none(), py::arg("labels") = py::none(),
           py::arg("genomes") = py::none(), py::arg("state") = py::none(),
           "Training by backpropagation of `settings[\"networks\"]` networks on images (S, H, "
           "W), against targets (default: the images) or labels (a classifier); genomes "
           "(networks, num_params) to start from (default: settings init), or a saved state.")
      .def("step", &Trainer::step, py::call_guard<py::gil_scoped_release>())
      .def("advance", &advance<Trainer>, py::arg("max_generations"), py::arg("max_seconds"),
           py::arg("target_metric") = -1.0, py::arg("patience") = 0,
           "Runs steps until a stop condition holds; returns (steps done, reason).")
      .def("state", &state_to_dict, "The state to restore the run from (a dict of arrays).")
      .def("genomes", [](const Trainer& t) {
        return matrix(t.genomes(), t.networks(), t.network().num_params());
      }, "Every network's parameters, (networks, num_params) float32.")
      .def("best_genome", [](const Trainer& t) { return array_of(t.genome(t.best_index())); },
           "The parameters of the network with the lowest loss on the last step's images.")
      .def(
          "evaluate",
          [](Trainer& t, const py::object& genome, const std::string& part) {
            const DataPart which = data_part_from_name(part);
            std::vector<float> g = t.genome(t.best_index());
            if (!genome.is_none()) {
              const auto a = genome.cast<FloatArray>();
              require_genomes(t.network(), a, false);
              g.assign(a.data(), a.data() + a.size());
            }
            Measure m;
            {
              py::gil_scoped_release release;
              m = t.evaluate(g.data(), which);
            }
            return py::make_tuple(m.fitness, m.metric);
          },
          py::arg("genome") = py::none(), py::arg("part") = "all",
          "(mean loss, metric) of a genome (default: the best) on \"train\", \"holdout\" or "
          "\"all\" images.")
      .def_property_readonly("settings",
                             [](const Trainer& t) { return train_settings_values(t.settings()); })
      .def_property_readonly("metric_name", &Trainer::metric_name)
      .def_property_readonly("generation", &Trainer::generation)
      .def_property_readonly("evaluations", &Trainer::evaluations)
      .def_property_readonly("best_error", &Trainer::best_error)
      .def_property_readonly("best_metric", &Trainer::best_metric)
      .def_property_readonly("best_index", &Trainer::best_index)
      .def_property_readonly("losses", [](const Trainer& t) { return array_of(t.losses()); })
      .def_property_readonly("metrics", [](const Trainer& t) { return array_of(t.metrics()); })
      .def_property_readonly("history", [](const Trainer& t) { return array_of(t.history()); })
      .def_property_readonly("improved_at", &Trainer::improved_at)
      .def_property_readonly("networks", &Trainer::networks)
      .def_property_readonly("num_train", &Trainer::num_train)
      .def_property_readonly("num_holdout", &Trainer::num_holdout);
}

}  // namespace evoae::bindings
