// Bindings of the evolutionary GANs (gan/): EvolutionaryGan, driven a generation at a time
// by evoae.systems.gan, with its settings as keyword arguments and its record as a dict, and
// the generator losses by name.
#include "bindings.h"
#include "evoae/gan/evolutionary_gan.h"

namespace evoae::bindings {
namespace {

// GanSettings from keywords; ValueError naming an unknown one.
GanSettings settings_from(const py::kwargs& kwargs) {
  GanSettings s;
  for (const auto& [key_object, value] : kwargs) {
    const std::string key = key_object.cast<std::string>();
    if (key == "method") s.method = gan_method_from_name(value.cast<std::string>());
    else if (key == "parents") s.parents = value.cast<int>();
    else if (key == "mutations") {
      s.mutations.clear();
      for (const std::string& name : value.cast<std::vector<std::string>>())
        s.mutations.push_back(generator_loss_from_name(name));
    }
    else if (key == "batch") s.batch = value.cast<int>();
    else if (key == "eval_batch") s.eval_batch = value.cast<int>();
    else if (key == "d_steps") s.d_steps = value.cast<int>();
    else if (key == "g_learning_rate") s.g_learning_rate = value.cast<float>();
    else if (key == "d_learning_rate") s.d_learning_rate = value.cast<float>();
    else if (key == "beta1") s.beta1 = value.cast<float>();
    else if (key == "beta2") s.beta2 = value.cast<float>();
    else if (key == "diversity_weight") s.diversity_weight = value.cast<float>();
    else if (key == "crossovers") s.crossovers = value.cast<int>();
    else if (key == "comprehensive") s.comprehensive = value.cast<bool>();
    else if (key == "seed") s.seed = value.cast<std::uint64_t>();
    else if (key == "threads") s.threads = value.cast<int>();
    else throw py::value_error("unknown GAN setting \"" + key + "\"");
  }
  return s;
}

void check_parent(const EvolutionaryGan& e, std::size_t i) {
  if (i >= e.parents())
    throw py::index_error("parent " + std::to_string(i) + " of " + std::to_string(e.parents()));
}

py::array_t<float> vector_array(const float* values, std::size_t n) {
  py::array_t<float> out(static_cast<py::ssize_t>(n));
  std::copy(values, values + n, out.mutable_data());
  return out;
}

}  // namespace

void bind_gan(py::module_& m) {
  m.def("generator_loss_names", &generator_loss_names);
  m.def(
      "gan_losses",
      [](const std::string& name, const FloatArray& logits) {
        // (loss, slope) of each logit; "real" / "fake": the discriminator's.
        py::array_t<float> loss(logits.size()), slope(logits.size());
        for (py::ssize_t i = 0; i < logits.size(); ++i) {
          float* sl = slope.mutable_data() + i;
          const float d = logits.data()[i];
          loss.mutable_data()[i] = name == "real"   ? discriminator_loss(true, d, sl)
                                   : name == "fake" ? discriminator_loss(false, d, sl)
                                                    : generator_loss(generator_loss_from_name(name), d, sl);
        }
        return py::make_tuple(loss, slope);
      },
      py::arg("loss"), py::arg("logits"));

  py::class_<EvolutionaryGan>(m, "EvolutionaryGan")
      .def(py::init([](const Network& g, const Network& d, const FloatArray& real,
                       const FloatArray& g_genome, const FloatArray& d_genome,
                       const py::kwargs& kwargs) {
             if (real.ndim() < 2 || real.shape(0) == 0 ||
                 real.size() / real.shape(0) != static_cast<py::ssize_t>(d.input_shape().size()))
               throw py::value_error("real images must be (S, ...) of " +
                                     std::to_string(d.input_shape().size()) +
                                     " values each (S >= 1), the discriminator's input");
             require_genomes(g, g_genome, false);
             require_genomes(d, d_genome, false);
             const GanSettings s = settings_from(kwargs);
             py::gil_scoped_release release;
             return std::make_unique<EvolutionaryGan>(g, d, s, real.data(), real.shape(0),
                                                      g_genome.data(), d_genome.data());
           }),
           py::arg("generator"), py::arg("discriminator"), py::arg("real"),
           py::arg("generator_genome"), py::arg("discriminator_genome"),
           py::keep_alive<1, 2>(), py::keep_alive<1, 3>())
      .def(
          "step",
          [](EvolutionaryGan& e, int generations) {
            for (int i = 0; i < generations; ++i) e.step();
          },
          py::arg("generations") = 1, py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("generation", &EvolutionaryGan::generation)
      .def_property_readonly("parents", &EvolutionaryGan::parents)
      .def_property_readonly("evaluations", &EvolutionaryGan::evaluations)
      .def_property_readonly("selected", &EvolutionaryGan::selected)
      .def("generator_genome",
           [](const EvolutionaryGan& e, std::size_t i) {
             check_parent(e, i);
             return vector_array(e.generator_genome(i),
                                 e.adversarial().generator().num_params());
           })
      .def_property_readonly("discriminator_genome",
                             [](const EvolutionaryGan& e) {
                               return vector_array(e.discriminator_genome(),
                                                   e.adversarial().discriminator().num_params());
                             })
      .def_property_readonly("record",
                             [](const EvolutionaryGan& e) {
                               const GanRecord& r = e.record();
                               py::dict d;
                               d["quality"] = r.quality;
                               d["diversity"] = r.diversity;
                               d["fitness"] = r.fitness;
                               d["origin"] = r.origin;
                               d["generator_loss"] = r.generator_loss;
                               d["discriminator_loss"] = r.discriminator_loss;
                               d["fake_score"] = r.fake_score;
                               return d;
                             })
      .def(
          "generate",
          [](const EvolutionaryGan& e, std::size_t i, const FloatArray& noise) {
            const std::size_t nz = e.adversarial().noise_size(),
                              out = e.adversarial().sample_size();
            check_parent(e, i);
            require_shape(noise, {-1, static_cast<py::ssize_t>(nz)}, "noise",
                          ("(n, " + std::to_string(nz) + ")").c_str());
            py::array_t<float> samples({static_cast<std::size_t>(noise.shape(0)), out});
            {
              py::gil_scoped_release release;
              e.generate(i, noise.data(), noise.shape(0), samples.mutable_data());
            }
            return samples;
          },
          py::arg("parent"), py::arg("noise"));
}

}  // namespace evoae::bindings
