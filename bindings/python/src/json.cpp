// SPDX-License-Identifier: Apache-2.0
#include "bindings.hpp"

#include <constellation/json.hpp>

namespace constellation::python {

void bind_json(py::module_& m) {
  m.def(
      "canonical_json",
      [](std::string_view text, bool sort_keys, bool ascii_only, int indent, std::size_t max_depth) {
        CanonicalJsonOptions o;
        o.sort_keys = sort_keys;
        o.ascii_only = ascii_only;
        o.indent = indent;
        o.max_depth = max_depth;
        return unwrap(canonical_json(text, o));
      },
      py::arg("text"), py::kw_only(), py::arg("sort_keys") = true, py::arg("ascii_only") = false,
      py::arg("indent") = 0, py::arg("max_depth") = 64,
      "Parses JSON text and returns it in the library's deterministic form (the same value always\n"
      "gives the same string). Raises InvalidArgumentError saying what is wrong and where.");
}

}  // namespace constellation::python
