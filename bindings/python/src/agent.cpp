// SPDX-License-Identifier: Apache-2.0
#include "bindings.hpp"

#include <constellation/agent.hpp>

#include <pybind11/stl.h>

#include <optional>

namespace constellation::python {

namespace {

class PyAgent {
 public:
  PyAgent(std::optional<std::string> node_name, std::string data_dir, std::string api_address, int api_port,
          std::string log_level) {
    AgentOptions o;
    if (node_name) o.node_name = *node_name;
    o.data_dir = std::move(data_dir);
    o.api_address = std::move(api_address);
    o.api_port = api_port;
    o.log_level = std::move(log_level);
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
      .def(py::init<std::optional<std::string>, std::string, std::string, int, std::string>(), py::kw_only(),
           py::arg("node_name") = py::none(), py::arg("data_dir") = "constellation-data",
           py::arg("api_address") = "127.0.0.1", py::arg("api_port") = 7400, py::arg("log_level") = "info",
           "Opens an agent (creates the data directory, loads the node identity); nothing listens\n"
           "until start(). Raises InvalidArgumentError, IoError, UnavailableError or CorruptError.")
      .def("start", &PyAgent::start, "Starts the listeners in background threads.")
      .def("stop", &PyAgent::stop, "Stops the agent; idempotent.")
      .def_property_readonly("node_id", [](PyAgent& a) { return a.agent().node_id(); })
      .def_property_readonly("node_name", [](PyAgent& a) { return a.agent().node_name(); })
      .def_property_readonly("api_port", [](PyAgent& a) { return a.agent().api_port(); })
      .def_property_readonly("api_url", [](PyAgent& a) { return a.agent().api_url(); })
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
