// Shared by the binding files: pybind11 includes and the checks that turn wrong array
// shapes into ValueError messages naming the expected shape.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

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

// The NumPy shape of one network output: (n,) for 1x1xn, (h, w) for one channel,
// (c, h, w) otherwise.
std::vector<py::ssize_t> output_dims(const Shape& shape);

}  // namespace evoae::bindings
