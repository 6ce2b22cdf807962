// SPDX-License-Identifier: Apache-2.0
// Services: compose validation, the catalog, health checks and the service host.
#include "bindings.hpp"

#include <constellation/catalog.hpp>
#include <constellation/health.hpp>
#include <constellation/services.hpp>

#include <pybind11/chrono.h>
#include <pybind11/functional.h>
#include <pybind11/stl.h>

namespace constellation::python {

namespace {

std::string node_repr(const CatalogNode& n) {
  return "<CatalogNode " + n.name + " " + n.id + " v" + std::to_string(n.entry_version) + ", " +
         std::to_string(n.instances.size()) + " instance(s)>";
}

// The host owns threads that call back into Python: keep the callback's lifetime with the host.
class PyServiceHost {
 public:
  explicit PyServiceHost(ServiceHostOptions o) : host_(unwrap(ServiceHost::open(std::move(o)))) {}
  ~PyServiceHost() {
    py::gil_scoped_release release;
    host_->stop();
  }

  void on_event(py::function fn) {
    callbacks_.push_back(fn);
    host_->on_event([fn](const ServiceEvent& e) {
      py::gil_scoped_acquire gil;
      try {
        fn(e);
      } catch (py::error_already_set& err) {
        err.discard_as_unraisable("constellation.ServiceHost event callback");
      }
    });
  }
  void start() {
    Result<void> r;
    {
      py::gil_scoped_release release;
      r = host_->start();
    }
    unwrap(std::move(r));
  }
  void stop() {
    py::gil_scoped_release release;
    host_->stop();
  }
  ServiceHost& host() { return *host_; }

 private:
  std::unique_ptr<ServiceHost> host_;
  std::vector<py::function> callbacks_;
};

}  // namespace

void bind_services(py::module_& m) {
  py::enum_<HealthStatus>(m, "HealthStatus", "Health of a check or an instance.")
      .value("PASSING", HealthStatus::Passing)
      .value("WARNING", HealthStatus::Warning)
      .value("CRITICAL", HealthStatus::Critical)
      .value("MAINTENANCE", HealthStatus::Maintenance);
  py::enum_<NodeState>(m, "NodeState", "Membership's verdict on a node.")
      .value("ALIVE", NodeState::Alive)
      .value("SUSPECT", NodeState::Suspect)
      .value("FAILED", NodeState::Failed)
      .value("LEFT", NodeState::Left);
  py::enum_<MergeResult>(m, "MergeResult", "What Catalog.merge() did with an entry.")
      .value("APPLIED", MergeResult::Applied)
      .value("STALE", MergeResult::Stale)
      .value("DUPLICATE", MergeResult::Duplicate)
      .value("REJECTED", MergeResult::Rejected);

  // --- validation --------------------------------------------------------------------------
  py::class_<ServiceDiagnostic>(m, "ServiceDiagnostic", "One finding about a compose file.")
      .def_readonly("error", &ServiceDiagnostic::error)
      .def_readonly("file", &ServiceDiagnostic::file)
      .def_readonly("line", &ServiceDiagnostic::line)
      .def_readonly("column", &ServiceDiagnostic::column)
      .def_readonly("field", &ServiceDiagnostic::field)
      .def_readonly("message", &ServiceDiagnostic::message)
      .def("__str__", &ServiceDiagnostic::to_string)
      .def("__repr__", [](const ServiceDiagnostic& d) { return "<ServiceDiagnostic " + d.to_string() + ">"; });
  py::class_<ServiceValidation>(m, "ServiceValidation", "What validate_services() found.")
      .def_readonly("diagnostics", &ServiceValidation::diagnostics)
      .def_readonly("services", &ServiceValidation::services)
      .def_readonly("files", &ServiceValidation::files)
      .def_readonly("json", &ServiceValidation::json)
      .def_property_readonly("ok", &ServiceValidation::ok);
  m.def(
      "validate_services",
      [](const std::string& directory, bool use_process_environment, std::map<std::string, std::string> variables) {
        ServiceValidationOptions o;
        o.use_process_environment = use_process_environment;
        o.variables = std::move(variables);
        Result<ServiceValidation> r = Error(Code::Internal, "");
        {
          py::gil_scoped_release release;
          r = validate_services(directory, o);
        }
        return unwrap(std::move(r));
      },
      py::arg("directory"), py::kw_only(), py::arg("use_process_environment") = true,
      py::arg("variables") = std::map<std::string, std::string>{},
      "Checks every compose file at the top of `directory`. Problems in the files are diagnostics;\n"
      "raises NotFoundError / InvalidArgumentError when the directory is missing or holds no file.");
  m.def("validate_compose", &validate_compose, py::arg("contents"), py::arg("file_name"),
        py::arg("variables") = std::map<std::string, std::string>{}, "Checks one compose file given as text.");

  // --- catalog -----------------------------------------------------------------------------
  py::class_<CatalogPort>(m, "CatalogPort")
      .def(py::init<>())
      .def(py::init([](int target, int published, std::string protocol, std::string host_ip) {
             return CatalogPort{static_cast<std::uint16_t>(target), static_cast<std::uint16_t>(published),
                                std::move(protocol), std::move(host_ip)};
           }),
           py::arg("target"), py::arg("published") = 0, py::arg("protocol") = "tcp", py::arg("host_ip") = "")
      .def_readwrite("target", &CatalogPort::target)
      .def_readwrite("published", &CatalogPort::published)
      .def_readwrite("protocol", &CatalogPort::protocol)
      .def_readwrite("host_ip", &CatalogPort::host_ip);
  py::class_<CatalogCheck>(m, "CatalogCheck")
      .def(py::init<>())
      .def_readwrite("name", &CatalogCheck::name)
      .def_readwrite("status", &CatalogCheck::status)
      .def_readwrite("output", &CatalogCheck::output);
  py::class_<CatalogInstance>(m, "CatalogInstance")
      .def(py::init<>())
      .def_readwrite("id", &CatalogInstance::id)
      .def_readwrite("service", &CatalogInstance::service)
      .def_readwrite("project", &CatalogInstance::project)
      .def_readwrite("runtime", &CatalogInstance::runtime)
      .def_readwrite("runtime_id", &CatalogInstance::runtime_id)
      .def_readwrite("labels", &CatalogInstance::labels)
      .def_readwrite("ports", &CatalogInstance::ports)
      .def_readwrite("networks", &CatalogInstance::networks)
      .def_readwrite("health", &CatalogInstance::health)
      .def_readwrite("checks", &CatalogInstance::checks)
      .def("__repr__", [](const CatalogInstance& i) {
        return "<CatalogInstance " + i.id + " " + std::string(health_status_name(i.health)) + ">";
      });
  py::class_<CatalogNode>(m, "CatalogNode")
      .def(py::init<>())
      .def_readwrite("id", &CatalogNode::id)
      .def_readwrite("name", &CatalogNode::name)
      .def_readwrite("roles", &CatalogNode::roles)
      .def_readwrite("tags", &CatalogNode::tags)
      .def_readwrite("version", &CatalogNode::version)
      .def_readwrite("addresses", &CatalogNode::addresses)
      .def_readwrite("entry_version", &CatalogNode::entry_version)
      .def_readwrite("state", &CatalogNode::state)
      .def_readwrite("instances", &CatalogNode::instances)
      .def("__repr__", &node_repr);
  py::class_<CatalogEndpoint>(m, "CatalogEndpoint")
      .def_readonly("node_id", &CatalogEndpoint::node_id)
      .def_readonly("node_name", &CatalogEndpoint::node_name)
      .def_readonly("address", &CatalogEndpoint::address)
      .def_readonly("network", &CatalogEndpoint::network)
      .def_readonly("instance", &CatalogEndpoint::instance);
  py::class_<CatalogSnapshot, std::shared_ptr<CatalogSnapshot>>(m, "CatalogSnapshot",
                                                                "An immutable view of the cluster.")
      .def_readonly("generation", &CatalogSnapshot::generation)
      .def_readonly("complete", &CatalogSnapshot::complete)
      .def_readonly("nodes", &CatalogSnapshot::nodes)
      .def("healthy", &CatalogSnapshot::healthy, py::arg("service"), py::arg("network") = "",
           py::arg("include_warning") = false, "Healthy instances of `service`, optionally on one network.")
      .def("services", &CatalogSnapshot::services);
  py::class_<Catalog>(m, "Catalog", "The merged cluster view (not thread-safe).")
      .def(py::init<>())
      .def("merge", &Catalog::merge, py::arg("node"))
      .def("merge_encoded", [](Catalog& c, py::bytes b) {
        std::string s = b;
        return unwrap(c.merge_encoded(std::vector<std::uint8_t>(s.begin(), s.end())));
      }, py::arg("data"))
      .def("set_state", [](Catalog& c, const std::string& id, NodeState s) { return c.set_state(id, s); },
           py::arg("node_id"), py::arg("state"))
      .def("remove", [](Catalog& c, const std::string& id) { return c.remove(id); }, py::arg("node_id"))
      .def("set_complete", &Catalog::set_complete, py::arg("complete"))
      .def("publish", [](Catalog& c) { return std::const_pointer_cast<CatalogSnapshot>(c.publish()); })
      .def("snapshot", [](const Catalog& c) { return std::const_pointer_cast<CatalogSnapshot>(c.snapshot()); })
      .def("subscribe", [](Catalog& c, py::function fn) {
        return c.subscribe([fn](const std::shared_ptr<const CatalogSnapshot>& s) {
          fn(std::const_pointer_cast<CatalogSnapshot>(s));
        });
      }, py::arg("callback"))
      .def("unsubscribe", &Catalog::unsubscribe, py::arg("handle"))
      .def_static("encode", [](const CatalogNode& n) {
        auto b = unwrap(Catalog::encode(n));
        return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
      }, py::arg("node"))
      .def_static("decode", [](py::bytes b) {
        std::string s = b;
        return unwrap(Catalog::decode(std::vector<std::uint8_t>(s.begin(), s.end())));
      }, py::arg("data"));

  // --- health ------------------------------------------------------------------------------
  py::enum_<HealthCheckKind>(m, "HealthCheckKind")
      .value("HTTP", HealthCheckKind::Http)
      .value("TCP", HealthCheckKind::Tcp)
      .value("EXEC", HealthCheckKind::Exec);
  py::class_<HealthCheck>(m, "HealthCheck", "One health check (see docs/services.md).")
      .def(py::init<>())
      .def_readwrite("name", &HealthCheck::name)
      .def_readwrite("kind", &HealthCheck::kind)
      .def_readwrite("target", &HealthCheck::target)
      .def_readwrite("command", &HealthCheck::command)
      .def_readwrite("method", &HealthCheck::method)
      .def_readwrite("expect_status", &HealthCheck::expect_status)
      .def_readwrite("expect_body", &HealthCheck::expect_body)
      .def_readwrite("timeout", &HealthCheck::timeout)
      .def_readwrite("interval", &HealthCheck::interval)
      .def_readwrite("rise", &HealthCheck::rise)
      .def_readwrite("fall", &HealthCheck::fall)
      .def_readwrite("start_period", &HealthCheck::start_period);
  py::class_<HealthCheckResult>(m, "HealthCheckResult")
      .def_readonly("status", &HealthCheckResult::status)
      .def_readonly("output", &HealthCheckResult::output)
      .def_readonly("elapsed", &HealthCheckResult::elapsed);
  m.def("run_health_check", [](const HealthCheck& c) {
    py::gil_scoped_release release;
    return run_health_check(c);
  }, py::arg("check"), "Runs one check now and waits for it (at most its timeout).");
  py::class_<RestartSettings>(m, "RestartSettings")
      .def(py::init<>())
      .def_readwrite("on_success", &RestartSettings::on_success)
      .def_readwrite("on_failure", &RestartSettings::on_failure)
      .def_readwrite("on_unhealthy", &RestartSettings::on_unhealthy)
      .def_readwrite("backoff", &RestartSettings::backoff)
      .def_readwrite("max_backoff", &RestartSettings::max_backoff)
      .def_readwrite("limit", &RestartSettings::limit)
      .def_readwrite("reset_after", &RestartSettings::reset_after);
  py::class_<HealthEvent> ev(m, "HealthEvent");
  py::enum_<HealthEvent::Kind>(ev, "Kind")
      .value("RUN_CHECK", HealthEvent::Kind::RunCheck)
      .value("CHECK_CHANGED", HealthEvent::Kind::CheckChanged)
      .value("HEALTH_CHANGED", HealthEvent::Kind::HealthChanged)
      .value("RESTART_SCHEDULED", HealthEvent::Kind::RestartScheduled)
      .value("RESTART", HealthEvent::Kind::Restart)
      .value("GAVE_UP", HealthEvent::Kind::GaveUp);
  ev.def_readonly("kind", &HealthEvent::kind)
      .def_readonly("instance", &HealthEvent::instance)
      .def_readonly("check", &HealthEvent::check)
      .def_readonly("run_id", &HealthEvent::run_id)
      .def_readonly("from_", &HealthEvent::from)
      .def_readonly("to", &HealthEvent::to)
      .def_readonly("output", &HealthEvent::output)
      .def_readonly("attempt", &HealthEvent::attempt)
      .def_readonly("delay", &HealthEvent::delay)
      .def_readonly("reason", &HealthEvent::reason);
  py::class_<HealthMonitor>(m, "HealthMonitor",
                            "Schedules checks and derives health on the caller's clock (nanoseconds).")
      .def(py::init<std::uint64_t>(), py::arg("seed") = 1)
      .def("add", [](HealthMonitor& h, const std::string& i, const std::vector<HealthCheck>& c,
                     const RestartSettings& r, std::int64_t now) {
        unwrap(h.add(i, c, r, std::chrono::nanoseconds(now)));
      }, py::arg("instance"), py::arg("checks"), py::arg("restart") = RestartSettings{}, py::arg("now"))
      .def("remove", &HealthMonitor::remove, py::arg("instance"))
      .def("started", [](HealthMonitor& h, const std::string& i, std::int64_t now) {
        h.started(i, std::chrono::nanoseconds(now));
      }, py::arg("instance"), py::arg("now"))
      .def("exited", [](HealthMonitor& h, const std::string& i, int code, std::int64_t now) {
        h.exited(i, code, std::chrono::nanoseconds(now));
      }, py::arg("instance"), py::arg("exit_code"), py::arg("now"))
      .def("set_maintenance", [](HealthMonitor& h, const std::string& i, bool on, std::int64_t now) {
        h.set_maintenance(i, on, std::chrono::nanoseconds(now));
      }, py::arg("instance"), py::arg("on"), py::arg("now"))
      .def("poll", [](HealthMonitor& h, std::int64_t now) { return h.poll(std::chrono::nanoseconds(now)); },
           py::arg("now"))
      .def("report", [](HealthMonitor& h, std::uint64_t run, HealthStatus s, const std::string& out, std::int64_t now) {
        return h.report(run, s, out, std::chrono::nanoseconds(now));
      }, py::arg("run_id"), py::arg("result"), py::arg("output"), py::arg("now"))
      .def("take_events", &HealthMonitor::take_events)
      .def("next_deadline", [](const HealthMonitor& h) -> std::optional<std::int64_t> {
        auto d = h.next_deadline();
        if (d == std::chrono::nanoseconds::max()) return std::nullopt;
        return d.count();
      })
      .def("health", &HealthMonitor::health, py::arg("instance"))
      .def("checks", &HealthMonitor::checks, py::arg("instance"))
      .def("restart_attempts", &HealthMonitor::restart_attempts, py::arg("instance"));

  // --- service host ------------------------------------------------------------------------
  py::class_<ServiceInstanceStatus>(m, "ServiceInstanceStatus")
      .def_readonly("id", &ServiceInstanceStatus::id)
      .def_readonly("service", &ServiceInstanceStatus::service)
      .def_readonly("project", &ServiceInstanceStatus::project)
      .def_readonly("runtime", &ServiceInstanceStatus::runtime)
      .def_readonly("runtime_id", &ServiceInstanceStatus::runtime_id)
      .def_readonly("state", &ServiceInstanceStatus::state)
      .def_readonly("health", &ServiceInstanceStatus::health)
      .def_readonly("phase", &ServiceInstanceStatus::phase)
      .def_readonly("restarts", &ServiceInstanceStatus::restarts)
      .def_readonly("adopted", &ServiceInstanceStatus::adopted)
      .def_readonly("checks", &ServiceInstanceStatus::checks)
      .def_readonly("error", &ServiceInstanceStatus::error);
  py::class_<ServiceEvent>(m, "ServiceEvent")
      .def_readonly("kind", &ServiceEvent::kind)
      .def_readonly("instance", &ServiceEvent::instance)
      .def_readonly("fields_json", &ServiceEvent::fields_json);
  py::class_<PyServiceHost>(m, "ServiceHost",
                            "Runs this node's services from a compose directory (processes and containers),\n"
                            "checks and restarts them, and publishes them to the catalog.")
      .def(py::init([](std::string services_dir, std::string data_dir, std::string node_name,
                       std::vector<std::string> tags, std::map<std::string, std::string> addresses,
                       std::string docker_socket, bool stop_on_exit, bool use_process_environment,
                       std::uint64_t seed, std::string log_level) {
             ServiceHostOptions o;
             o.services_dir = std::move(services_dir);
             o.data_dir = std::move(data_dir);
             o.node_name = std::move(node_name);
             o.tags = std::move(tags);
             o.addresses = std::move(addresses);
             o.docker_socket = std::move(docker_socket);
             o.stop_on_exit = stop_on_exit;
             o.use_process_environment = use_process_environment;
             o.seed = seed;
             o.log_level = std::move(log_level);
             return std::make_unique<PyServiceHost>(std::move(o));
           }),
           py::kw_only(), py::arg("services_dir") = "", py::arg("data_dir") = "constellation-data",
           py::arg("node_name") = "", py::arg("tags") = std::vector<std::string>{},
           py::arg("addresses") = std::map<std::string, std::string>{}, py::arg("docker_socket") = "",
           py::arg("stop_on_exit") = true, py::arg("use_process_environment") = true, py::arg("seed") = 0,
           py::arg("log_level") = "warn")
      .def("on_event", &PyServiceHost::on_event, py::arg("callback"),
           "Calls callback(ServiceEvent) for every event, from the host's thread. Register before start().")
      .def("start", &PyServiceHost::start)
      .def("stop", &PyServiceHost::stop)
      .def("reload", [](PyServiceHost& h) {
        Result<ServiceValidation> r = Error(Code::Internal, "");
        {
          py::gil_scoped_release release;
          r = h.host().reload();
        }
        return unwrap(std::move(r));
      })
      .def("set_maintenance", [](PyServiceHost& h, const std::string& i, bool on) {
        Result<void> r;
        {
          py::gil_scoped_release release;
          r = h.host().set_maintenance(i, on);
        }
        unwrap(std::move(r));
      }, py::arg("instance"), py::arg("on"))
      .def("instances", [](PyServiceHost& h) { return h.host().instances(); })
      .def("snapshot", [](PyServiceHost& h) { return std::const_pointer_cast<CatalogSnapshot>(h.host().snapshot()); })
      .def("status_json", [](PyServiceHost& h) { return h.host().status_json(); })
      .def_property_readonly("node_id", [](PyServiceHost& h) { return h.host().node_id(); })
      .def_property_readonly("node_name", [](PyServiceHost& h) { return h.host().node_name(); })
      .def("__enter__", [](PyServiceHost& h) -> PyServiceHost& {
        h.start();
        return h;
      }, py::return_value_policy::reference)
      .def("__exit__", [](PyServiceHost& h, py::args) {
        h.stop();
        return false;
      });
}

}  // namespace constellation::python
