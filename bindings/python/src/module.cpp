// SPDX-License-Identifier: Apache-2.0
// The private extension module constellation._constellation. One binder per area; errors become
// the exception classes of constellation.errors.
#include "bindings.hpp"

#include <constellation/version.hpp>

PYBIND11_MODULE(_constellation, m) {
  m.doc() = "Private extension module of the constellation package; import constellation instead.";
  m.def("version", [] { return std::string(constellation::version()); },
        "The library's version, \"major.minor.patch\".");
  m.def("version_number", &constellation::version_number,
        "The library's version as major * 1000000 + minor * 1000 + patch.");
  constellation::python::bind_json(m);
  constellation::python::bind_agent(m);
  constellation::python::bind_dns(m);
  constellation::python::bind_provider(m);
  constellation::python::bind_services(m);
  constellation::python::bind_raft(m);
  constellation::python::bind_gossip(m);
}
