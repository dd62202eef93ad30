// Bindings of the VAE population (vae/elbo_population.h): evoae._core.VaePopulation, which
// python/evoae/systems/evae.py drives (every method that sets the members' betas lives there),
// and the variational layer's ops on one network's values (for tests against NumPy).
#include "bindings.h"
#include "evoae/vae/elbo_population.h"
#include "evoae/vae/variational.h"

namespace evoae::bindings {
namespace {

using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

std::unique_ptr<VaePopulation> make_population(const Network& encoder, const Network& decoder,
                                               const FloatArray& images,
                                               std::size_t train_count,
                                               const std::string& reconstruction,
                                               float learning_rate, int batch,
                                               std::uint64_t seed, int threads,
                                               const FloatArray& genomes) {
  require_images(encoder, images, "images");
  const auto G = static_cast<py::ssize_t>(encoder.num_params() + decoder.num_params());
  require_shape(genomes, {-1, G}, "genomes", ("(members, " + std::to_string(G) + ")").c_str());
  VaeSettings s;
  s.members = static_cast<std::size_t>(genomes.shape(0));
  s.reconstruction = loss_from_name(reconstruction);
  s.learning_rate = learning_rate;
  s.batch = batch;
  s.seed = seed;
  s.threads = threads;
  std::vector<float> data(images.data(), images.data() + images.size());
  std::vector<float> start(genomes.data(), genomes.data() + genomes.size());
  return std::make_unique<VaePopulation>(encoder, decoder, std::move(data), train_count, s,
                                         start);
}

std::vector<double> checked_betas(const VaePopulation& p, const DoubleArray& betas) {
  require_shape(betas, {static_cast<py::ssize_t>(p.members())}, "betas",
                ("(" + std::to_string(p.members()) + ",)").c_str());
  return std::vector<double>(betas.data(), betas.data() + betas.size());
}

}  // namespace

void bind_vae(py::module_& m) {
  py::class_<VaePopulation>(m, "VaePopulation")
      .def(py::init(&make_population), py::arg("encoder"), py::arg("decoder"),
           py::arg("images"), py::arg("train_count"), py::arg("reconstruction") = "bce",
           py::arg("learning_rate") = 1e-3f, py::arg("batch") = 64, py::arg("seed") = 0,
           py::arg("threads") = 0, py::arg("genomes"),
           "A population of VAEs, one per lane (encoder 1x1x2k out, decoder 1 x k in), "
           "trained by Adam on the first train_count images (S, H, W); genomes (members, "
           "encoder params + decoder params).")
      .def("step",
           [](VaePopulation& p, const DoubleArray& betas) {
             const std::vector<double> b = checked_betas(p, betas);
             std::vector<double> recon(p.members()), kl(p.members());
             {
               py::gil_scoped_release release;
               p.step(b.data(), recon.data(), kl.data());
             }
             return py::make_tuple(array_of(recon), array_of(kl));
           },
           py::arg("betas"),
           "One Adam step of every member with its beta; returns (reconstruction, KL), the "
           "batch means of each member before the step.")
      .def("evaluate",
           [](const VaePopulation& p, const FloatArray& images, std::uint64_t noise_key) {
             const auto n = static_cast<py::ssize_t>(p.members());
             if (images.ndim() != 3 ||
                 static_cast<std::size_t>(images.shape(1) * images.shape(2)) != p.pixels())
               throw py::value_error("images must be (S, H, W) of " +
                                     std::to_string(p.pixels()) + " pixels each, got " +
                                     shape_text({images.shape(), images.shape() +
                                                                     images.ndim()}));
             const auto S = images.shape(0);
             py::array_t<double> recon({n, S}), kl({n, S});
             {
               py::gil_scoped_release release;
               p.evaluate(images.data(), static_cast<std::size_t>(S), noise_key,
                          recon.mutable_data(), kl.mutable_data());
             }
             return py::make_tuple(recon, kl);
           },
           py::arg("images"), py::arg("noise_key"),
           "Each member's reconstruction and KL of each image, (members, S) each; the noise "
           "of image i is keyed (seed, noise_key, i).")
      .def("copy_member", &VaePopulation::copy_member, py::arg("source"), py::arg("target"),
           "Member target becomes a copy of member source: weights and Adam moments.")
      .def("genomes",
           [](const VaePopulation& p) {
             const std::vector<float> g = p.genomes();
             py::array_t<float> out({p.members(), p.num_params()});
             std::copy(g.begin(), g.end(), out.mutable_data());
             return out;
           })
      .def_property_readonly("members", &VaePopulation::members)
      .def_property_readonly("latent", &VaePopulation::latent)
      .def_property_readonly("steps", &VaePopulation::steps)
      .def_property_readonly("evaluations", &VaePopulation::evaluations)
      .def_property_readonly("blocks", &VaePopulation::blocks);
}

}  // namespace evoae::bindings
