// SPDX-License-Identifier: Apache-2.0
#include "bindings.hpp"

#include <constellation/dns.hpp>

#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <optional>

namespace constellation::python {

namespace {

class PyDnsEngine {
 public:
  explicit PyDnsEngine(std::string_view config_json) : engine_(unwrap(dns::Engine::open(config_json))) {}

  py::dict run(std::string_view snapshot_json, bool apply, std::uint64_t fencing_token, std::optional<py::function> fence,
               std::string state, double settle_seconds) {
    dns::RunOptions o;
    o.apply = apply;
    o.fencing_token = fencing_token;
    o.state_json = std::move(state);
    o.settle = std::chrono::milliseconds(static_cast<std::int64_t>(settle_seconds * 1000));
    // An exception in the Python fence must not unwind through the engine: it counts as "not
    // the holder" (the run stops before writing) and is raised again once the run returns.
    auto raised = std::make_shared<std::optional<py::error_already_set>>();
    if (fence) {
      py::function fn = *fence;
      o.fence = [fn, raised]() -> std::uint64_t {
        py::gil_scoped_acquire gil;
        if (raised->has_value()) return 0;
        try {
          return fn().cast<std::uint64_t>();
        } catch (py::error_already_set& e) {
          raised->emplace(std::move(e));
        } catch (const py::cast_error&) {
          PyErr_SetString(PyExc_TypeError, "fence must return an int (the fencing token, 0 when not the holder)");
          raised->emplace();  // fetches the error just set
        }
        return 0;
      };
    }
    Result<dns::RunReport> r = Error(Code::Internal, "not run");
    {
      py::gil_scoped_release release;
      r = engine_->run(snapshot_json, o);
    }
    if (raised->has_value()) throw std::move(**raised);
    dns::RunReport rep = unwrap(std::move(r));
    py::dict d;
    d["plan_text"] = rep.plan_text;
    d["plan_json"] = rep.plan_json;
    d["state_json"] = rep.state_json;
    d["creates"] = rep.creates;
    d["updates"] = rep.updates;
    d["deletes"] = rep.deletes;
    d["held"] = rep.held;
    d["conflicts"] = rep.conflicts;
    d["applied"] = rep.applied;
    d["aborted"] = rep.aborted;
    d["abort_reason"] = rep.abort_reason;
    d["requests"] = rep.requests;
    return d;
  }

 private:
  std::unique_ptr<dns::Engine> engine_;
};

}  // namespace

void bind_dns(py::module_& m) {
  py::class_<PyDnsEngine>(m, "DnsEngine",
                          "The DNS writer: plans (and applies) the record changes that keep public DNS\n"
                          "pointing at the cluster's healthy nodes. See docs/dns.md.")
      .def(py::init<std::string_view>(), py::arg("config_json"),
           "Parses the DNS configuration JSON and builds the providers (nothing is contacted).\n"
           "Raises InvalidArgumentError (naming the bad field) or IoError.")
      .def("run", &PyDnsEngine::run, py::arg("snapshot_json"), py::kw_only(), py::arg("apply") = false,
           py::arg("fencing_token") = 1, py::arg("fence") = py::none(), py::arg("state_json") = "",
           py::arg("settle_seconds") = 0.0,
           "Lists the zones, plans against the snapshot JSON and, with apply=True, writes the changes.\n"
           "fence: optional callable returning the current fencing token (0 = not the holder), called\n"
           "before every write. Returns a dict (plan_text, plan_json, state_json, creates, updates,\n"
           "deletes, held, conflicts, applied, aborted, abort_reason, requests). The GIL is released\n"
           "while the providers are contacted. Raises InvalidArgumentError for a bad snapshot.");
  m.def("normalize_hostname", [](std::string_view name) { return unwrap(dns::normalize_hostname(name)); }, py::arg("name"),
        "The canonical form of a host name: lower case, IDNA A-labels (Punycode), no trailing dot.");
  m.def("hostnames_from_rule", [](std::string_view rule) { return unwrap(dns::hostnames_from_rule(rule)); }, py::arg("rule"),
        "The host names a Traefik router rule matches (v2 and v3 syntax).");
}

}  // namespace constellation::python
