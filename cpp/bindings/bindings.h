// Shared by the binding files: pybind11 includes and the checks that turn wrong array
// shapes into ValueError messages naming the expected shape.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <string>
#include <vector>

#include "evoae/core/settings_table.h"
#include "evoae/core/stopping.h"
#include "evoae/eval/objective.h"
#include "evoae/nn/network.h"

namespace py = pybind11;

namespace evoae::bindings {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

// "(10, 28, 28)", or "(1397,)" for one dimension.
std::string shape_text(const std::vector<py::ssize_t>& shape);

// Raises ValueError unless `array` has exactly the expected dimensions; an expected
// dimension of -1 accepts any size >= 1. `what` names the argument, e.g. "images".
void require_shape(const FloatArray& array, const std::vector<py::ssize_t>& expected,
                   const char* what, const char* expected_text);

// ValueError unless genomes are (P, num_params) (population) or one genome (num_params,).
void require_genomes(const Network& net, const FloatArray& genomes, bool population);
// ValueError unless images are (S, H, W) of the network's input; `what` names them.
void require_images(const Network& net, const FloatArray& images, const char* what);
// The targets of images (S, H, W): (S, ...output) as given, or the images themselves when
// none are given and the output shape is the input's; ValueError otherwise.
FloatArray checked_targets(const Network& net, const FloatArray& images,
                           const py::object& targets);

// The NumPy shape of one network output: (n,) for 1x1xn, (h, w) for one channel,
// (c, h, w) otherwise.
std::vector<py::ssize_t> output_dims(const Shape& shape);

// A setting's spec as a dict: name, type ("int", "float", "choice"), group, min,
// min_exclusive, max, choices, default, metavar, command_line, help.
py::dict spec_to_dict(const SettingSpec& spec);

// An objective's data from NumPy arrays: images (S, H, W) of the network's input shape,
// targets (S, ...) of its output size, labels (S,) of classes (None: not given).
ObjectiveData objective_data(const Network& net, const FloatArray& images,
                             const py::object& targets, const py::object& labels);

// A vector as a 1-D array, and back from a dict's entry (ValueError when it is missing).
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

// A system's advance(StopConditions) as Python calls it (evoae/run.py): (max_generations,
// max_seconds, target_metric, patience) -> (generations done, reason), the GIL released.
template <class System>
py::tuple advance(System& system, long max_generations, double max_seconds,
                  double target_metric, long patience) {
  StopConditions stop;
  stop.max_generations = max_generations;
  stop.max_seconds = max_seconds;
  stop.target_metric = target_metric;
  stop.patience = patience;
  Advanced done;
  {
    py::gil_scoped_release release;
    done = system.advance(stop);
  }
  return py::make_tuple(done.generations, name(done.reason));
}

}  // namespace evoae::bindings
