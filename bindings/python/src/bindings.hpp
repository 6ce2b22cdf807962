// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <constellation/result.hpp>

#include <pybind11/pybind11.h>

namespace constellation::python {

namespace py = pybind11;

/// Raises the constellation.errors class for e's code with e's message.
[[noreturn]] void raise(const Error& e);

/// The value of r, or raises its error.
template <class T>
T unwrap(Result<T> r) {
  if (!r) raise(r.error());
  return std::move(*r);
}
inline void unwrap(Result<void> r) {
  if (!r) raise(r.error());
}

void bind_json(py::module_& m);
void bind_agent(py::module_& m);
void bind_dns(py::module_& m);
void bind_provider(py::module_& m);
void bind_services(py::module_& m);
void bind_raft(py::module_& m);
void bind_gossip(py::module_& m);

}  // namespace constellation::python
