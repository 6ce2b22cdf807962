// SPDX-License-Identifier: Apache-2.0
#include "bindings.hpp"

#include <constellation/agent.hpp>

#include <pybind11/stl.h>

#include <optional>

namespace constellation::python {

namespace {

class PyAgent {
 public:
  PyAgent(std::optional<std::string> config_file, std::optional<std::string> config_yaml, bool use_environment,
          std::optional<std::string> node_name, std::optional<std::string> data_dir,
          std::optional<std::string> api_address, std::optional<int> api_port, std::optional<std::string> log_level,
          std::optional<std::string> services_dir) {
    AgentOptions o;
    o.config_file = config_file.value_or("");
    o.config_yaml = config_yaml.value_or("");
    o.use_environment = use_environment;
    o.node_name = node_name.value_or("");
    o.data_dir = data_dir.value_or("");
    o.api_address = api_address.value_or("");
    if (api_port) {
      if (*api_port < 0) raise(Error(Code::InvalidArgument, "api_port: " + std::to_string(*api_port) + " is not a TCP port (0-65535)"));
      o.api_port = *api_port;
    }
    o.log_level = log_level.value_or("");
    o.services_dir = services_dir.value_or("");
    agent_ = unwrap(Agent::open(std::move(o)));
  }

  void start() {
    Result<void> r;
    {
      py::gil_scoped_release release;
      r = agent_->start();
    }
    unwrap(std::move(r));
  }

  void stop() {
    py::gil_scoped_release release;
    agent_->stop();
  }

  Agent& agent() { return *agent_; }

 private:
  std::unique_ptr<Agent> agent_;
};

}  // namespace

void bind_agent(py::module_& m) {
  py::class_<PyAgent>(m, "Agent",
                      "A Constellation agent embedded in this process. Use it as a context manager,\n"
                      "or call start() and stop().")
      .def(py::init<std::optional<std::string>, std::optional<std::string>, bool, std::optional<std::string>,
                    std::optional<std::string>, std::optional<std::string>, std::optional<int>,
                    std::optional<std::string>, std::optional<std::string>>(),
           py::kw_only(), py::arg("config_file") = py::none(), py::arg("config_yaml") = py::none(),
           py::arg("use_environment") = true, py::arg("node_name") = py::none(), py::arg("data_dir") = py::none(),
           py::arg("api_address") = py::none(), py::arg("api_port") = py::none(), py::arg("log_level") = py::none(),
           py::arg("services_dir") = py::none(),
           "Opens an agent: reads the configuration (defaults, then config_file or config_yaml, then\n"
           "CONSTELLATION_* variables, then these keyword overrides), locks the data directory and loads\n"
           "the node identity; nothing listens until start(). Raises InvalidArgumentError, IoError,\n"
           "UnavailableError or CorruptError.")
      .def("start", &PyAgent::start, "Starts the listeners in background threads.")
      .def("stop", &PyAgent::stop, "Stops the agent; idempotent.")
      .def_property_readonly("node_id", [](PyAgent& a) { return a.agent().node_id(); })
      .def_property_readonly("node_name", [](PyAgent& a) { return a.agent().node_name(); })
      .def_property_readonly("api_port", [](PyAgent& a) { return a.agent().api_port(); })
      .def_property_readonly("api_url", [](PyAgent& a) { return a.agent().api_url(); })
      .def_property_readonly("warnings", [](PyAgent& a) { return a.agent().warnings(); })
      .def("__enter__", [](PyAgent& a) -> PyAgent& {
        a.start();
        return a;
      }, py::return_value_policy::reference)
      .def("__exit__", [](PyAgent& a, py::args) {
        a.stop();
        return false;
      });
}

}  // namespace constellation::python
