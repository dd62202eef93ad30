// (being written)
#include "bindings.h"
namespace evoae::bindings {
void bind_train(py::module_&) {}
}  // namespace evoae::bindings
