// SPDX-License-Identifier: Apache-2.0
#include "bindings.hpp"

#include <constellation/provider.hpp>

#include <pybind11/chrono.h>
#include <pybind11/stl.h>

#include <optional>

namespace constellation::python {

namespace {

TraefikVersion parse_version(const std::string& s) {
  if (s == "v2" || s == "2") return TraefikVersion::V2;
  if (s == "v3" || s == "3") return TraefikVersion::V3;
  raise(Error(Code::InvalidArgument, "version: '" + s + "' is not v2 or v3"));
}

TraefikFormat parse_format(const std::string& s) {
  if (s == "json") return TraefikFormat::Json;
  if (s == "yaml" || s == "yml") return TraefikFormat::Yaml;
  raise(Error(Code::InvalidArgument, "format: '" + s + "' is not json or yaml"));
}

ProviderOptions make_options(bool exposed_by_default, const std::optional<std::string>& default_rule,
                             const std::string& network, const std::string& health, const std::string& empty_services,
                             const std::vector<std::string>& entry_points) {
  ProviderOptions o;
  o.exposed_by_default = exposed_by_default;
  if (default_rule) o.default_rule = *default_rule;
  o.network = network;
  if (health == "passing") o.health = HealthPolicy::PassingOnly;
  else if (health == "warning") o.health = HealthPolicy::PassingOrWarning;
  else raise(Error(Code::InvalidArgument, "health: '" + health + "' is not passing or warning"));
  if (empty_services == "keep") o.empty_services = EmptyServicePolicy::Keep;
  else if (empty_services == "drop") o.empty_services = EmptyServicePolicy::Drop;
  else raise(Error(Code::InvalidArgument, "empty_services: '" + empty_services + "' is not keep or drop"));
  o.entry_points = entry_points;
  return o;
}

py::dict diagnostic_dict(const ProviderDiagnostic& d) {
  py::dict out;
  out["severity"] = d.error ? "error" : "warning";
  out["node"] = d.node;
  out["instance"] = d.instance;
  out["service"] = d.service;
  out["resource"] = d.resource;
  out["label"] = d.label;
  out["message"] = d.message;
  out["text"] = d.to_string();
  return out;
}

py::list diagnostics_list(const std::vector<ProviderDiagnostic>& ds) {
  py::list out;
  for (const auto& d : ds) out.append(diagnostic_dict(d));
  return out;
}

class PyProviderServer {
 public:
  PyProviderServer(bool exposed_by_default, std::optional<std::string> default_rule, std::string network,
                   std::string health, std::string empty_services, std::vector<std::string> entry_points,
                   std::string address, int port, std::size_t threads, std::string token, std::string token_header,
                   std::string tls_cert_file, std::string tls_key_file, std::string tls_client_ca_file,
                   std::string default_version, std::string default_format, std::string file_output,
                   std::string file_version, std::string file_format, std::chrono::milliseconds debounce,
                   std::chrono::milliseconds max_delay) {
    ProviderOptions o = make_options(exposed_by_default, default_rule, network, health, empty_services, entry_points);
    ProviderServerOptions s;
    s.address = std::move(address);
    s.port = port;
    s.threads = threads;
    s.token = std::move(token);
    s.token_header = std::move(token_header);
    s.tls_cert_file = std::move(tls_cert_file);
    s.tls_key_file = std::move(tls_key_file);
    s.tls_client_ca_file = std::move(tls_client_ca_file);
    s.default_version = parse_version(default_version);
    s.default_format = parse_format(default_format);
    s.file_output = std::move(file_output);
    s.file_version = parse_version(file_version);
    s.file_format = parse_format(file_format);
    s.debounce = debounce;
    s.max_delay = max_delay;
    Result<std::unique_ptr<ProviderServer>> r = Error(Code::Internal, "not started");
    {
      py::gil_scoped_release release;
      r = ProviderServer::start(std::move(o), std::move(s));
    }
    server_ = unwrap(std::move(r));
  }

  void update(const std::string& state) {
    Result<void> r;
    {
      py::gil_scoped_release release;
      r = server_->update(state);
    }
    unwrap(std::move(r));
  }

  void sync() {
    py::gil_scoped_release release;
    server_->sync();
  }

  void stop() {
    py::gil_scoped_release release;
    server_->stop();
  }

  ProviderServer& server() { return *server_; }

 private:
  std::unique_ptr<ProviderServer> server_;
};

}  // namespace

void bind_provider(py::module_& m) {
  m.def(
      "render_traefik",
      [](const std::string& state, const std::string& version, const std::string& format, bool exposed_by_default,
         std::optional<std::string> default_rule, const std::string& network, const std::string& health,
         const std::string& empty_services, const std::vector<std::string>& entry_points) {
        ProviderOptions o = make_options(exposed_by_default, default_rule, network, health, empty_services, entry_points);
        TraefikVersion v = parse_version(version);
        TraefikFormat f = parse_format(format);
        Result<TraefikConfig> r = Error(Code::Internal, "not rendered");
        {
          py::gil_scoped_release release;
          r = render_traefik(state, v, f, o);
        }
        TraefikConfig c = unwrap(std::move(r));
        py::dict out;
        out["body"] = c.body;
        out["etag"] = c.etag;
        out["diagnostics"] = diagnostics_list(c.diagnostics);
        return out;
      },
      py::arg("state"), py::arg("version") = "v3", py::arg("format") = "yaml", py::kw_only(),
      py::arg("exposed_by_default") = true, py::arg("default_rule") = py::none(), py::arg("network") = "",
      py::arg("health") = "passing", py::arg("empty_services") = "keep",
      py::arg("entry_points") = std::vector<std::string>{},
      "Renders Traefik's dynamic configuration for a cluster state (a JSON state document, see\n"
      "docs/traefik.md). Returns {'body': str, 'etag': str, 'diagnostics': [dict]}; bad labels are\n"
      "diagnostics, not exceptions. Raises InvalidArgumentError for a malformed state or option.");

  py::class_<PyProviderServer>(m, "ProviderServer",
                               "The Traefik endpoint (GET /v1/traefik) and file output, fed with cluster\n"
                               "states through update(). Answers 503 until the first complete state.\n"
                               "Use it as a context manager, or call stop().")
      .def(py::init<bool, std::optional<std::string>, std::string, std::string, std::string, std::vector<std::string>,
                    std::string, int, std::size_t, std::string, std::string, std::string, std::string, std::string,
                    std::string, std::string, std::string, std::string, std::string, std::chrono::milliseconds,
                    std::chrono::milliseconds>(),
           py::kw_only(), py::arg("exposed_by_default") = true, py::arg("default_rule") = py::none(),
           py::arg("network") = "", py::arg("health") = "passing", py::arg("empty_services") = "keep",
           py::arg("entry_points") = std::vector<std::string>{}, py::arg("address") = "127.0.0.1", py::arg("port") = 0,
           py::arg("threads") = 1, py::arg("token") = "", py::arg("token_header") = "X-Constellation-Token",
           py::arg("tls_cert_file") = "", py::arg("tls_key_file") = "", py::arg("tls_client_ca_file") = "",
           py::arg("default_version") = "v3", py::arg("default_format") = "yaml", py::arg("file_output") = "",
           py::arg("file_version") = "v3", py::arg("file_format") = "yaml",
           py::arg("debounce") = std::chrono::milliseconds(20), py::arg("max_delay") = std::chrono::milliseconds(200),
           "Starts serving. Raises InvalidArgumentError (bad option) or IoError (cannot listen).")
      .def("update", &PyProviderServer::update, py::arg("state"),
           "Replaces the cluster state (a JSON state document); rendered in the background.")
      .def("sync", &PyProviderServer::sync, "Waits until every update so far is rendered and served.")
      .def("stop", &PyProviderServer::stop, "Stops serving; idempotent.")
      .def_property_readonly("port", [](PyProviderServer& s) { return s.server().port(); })
      .def_property_readonly("url", [](PyProviderServer& s) { return s.server().url(); })
      .def(
          "etag",
          [](PyProviderServer& s, const std::string& version, const std::string& format) {
            return s.server().etag(parse_version(version), parse_format(format));
          },
          py::arg("version") = "v3", py::arg("format") = "yaml", "The ETag served now, '' before the first render.")
      .def(
          "diagnostics",
          [](PyProviderServer& s, const std::string& version) {
            return diagnostics_list(s.server().diagnostics(parse_version(version)));
          },
          py::arg("version") = "v3", "Diagnostics of the current render.")
      .def("__enter__", [](PyProviderServer& s) -> PyProviderServer& { return s; }, py::return_value_policy::reference)
      .def("__exit__", [](PyProviderServer& s, py::args) {
        s.stop();
        return false;
      });
}

}  // namespace constellation::python
