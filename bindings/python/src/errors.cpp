// SPDX-License-Identifier: Apache-2.0
#include "bindings.hpp"

namespace constellation::python {

void raise(const Error& e) {
  py::object errors = py::module_::import("constellation.errors");
  py::object cls = errors.attr("BY_CODE").attr("get")(std::string(code_name(e.code())), errors.attr("Error"));
  PyErr_SetObject(cls.ptr(), py::str(e.message()).ptr());
  throw py::error_already_set();
}

}  // namespace constellation::python
