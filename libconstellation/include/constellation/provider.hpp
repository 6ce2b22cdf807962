// SPDX-License-Identifier: Apache-2.0
//
// The Traefik provider on its own: turn a cluster state (services with their Traefik labels,
// where they run, whether they are healthy) into Traefik's dynamic configuration, once
// (render_traefik) or continuously behind an HTTP endpoint and a file (ProviderServer).
//
// The cluster state is a JSON document, the "state file" of docs/traefik.md:
//   {"complete": true, "nodes": [{"name": "edge-1", "addresses": {"backend": "10.0.0.1"},
//     "instances": [{"id": "web-1", "service": "web", "project": "shop",
//                    "labels": {"traefik.http.routers.web.rule": "Host(`web.example.com`)"},
//                    "ports": [{"target": 80, "published": 8080}], "networks": ["backend"],
//                    "health": "passing"}]}]}
#pragma once

#include <constellation/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace constellation {

/// The Traefik major version to render for.
enum class TraefikVersion { V2 = 2, V3 = 3 };

/// Output syntax; Traefik's HTTP provider reads both (JSON is YAML).
enum class TraefikFormat { Json, Yaml };

/// Which instance health is routed to.
enum class HealthPolicy {
  /// Only passing instances. The default.
  PassingOnly,
  /// Passing and warning instances.
  PassingOrWarning,
};

/// What happens to a service with no routable server.
enum class EmptyServicePolicy {
  /// Emitted with `servers: []`: its routers answer 503 (Traefik 2.9.1+ and 3.x). The default.
  Keep,
  /// Removed with the routers that use it.
  Drop,
};

/// How labels become configuration. The defaults are Traefik's Docker-provider defaults.
struct ProviderOptions {
  /// Instances without `traefik.enable` are routed. Default true.
  bool exposed_by_default = true;
  /// Rule of routers that have none: a Go-template subset (docs/traefik.md). Default
  /// "Host(`{{ normalize .Name }}`)".
  std::string default_rule = "Host(`{{ normalize .Name }}`)";
  /// Cluster network whose node addresses go into server URLs when an instance is on several
  /// networks and has no `traefik.constellation.network` label. Default "" (the instance's only
  /// network, or the node's only address).
  std::string network;
  /// Default PassingOnly.
  HealthPolicy health = HealthPolicy::PassingOnly;
  /// Default Keep.
  EmptyServicePolicy empty_services = EmptyServicePolicy::Keep;
  /// When non-empty, only routers on at least one of these entry points (or on all, i.e. without
  /// entryPoints) are emitted: per-node filtering for a Traefik with only some entry points.
  std::vector<std::string> entry_points;
};

/// A problem found while rendering. Bad labels never make rendering fail: the affected router,
/// service or middleware is left out and a diagnostic says which label and why.
struct ProviderDiagnostic {
  /// True for an error (something was dropped), false for a warning.
  bool error = true;
  /// Node name, "" for cluster-wide problems (conflicting definitions).
  std::string node;
  /// Instance id on that node, or "".
  std::string instance;
  /// The instance's compose service, "<project>/<service>", or "".
  std::string service;
  /// The resource, e.g. "http.routers.web", or "".
  std::string resource;
  /// The label key, or "".
  std::string label;
  /// What is wrong.
  std::string message;

  /// "error: node edge-1, instance web-1, service shop/web, http.routers.web, label ...: <message>".
  std::string to_string() const;
};

/// A rendered configuration.
struct TraefikConfig {
  /// The configuration, byte-for-byte the same for the same state and options.
  std::string body;
  /// Strong ETag of body, e.g. "\"0123456789abcdef\"" (quotes included).
  std::string etag;
  /// Sorted; empty when every label was understood.
  std::vector<ProviderDiagnostic> diagnostics;
};

/// Renders the configuration for a cluster state given as a JSON state document. Thread-safe.
/// An incomplete state is rendered with a warning (the endpoint would answer 503 for it).
/// Errors: InvalidArgument — the state document is malformed (the message names the path) or
/// an option is invalid (the message names the option).
CST_API Result<TraefikConfig> render_traefik(std::string_view state_json, TraefikVersion version,
                                             TraefikFormat format, const ProviderOptions& options = {});

/// Where and how a ProviderServer serves.
struct ProviderServerOptions {
  /// Listen address (IPv4 or IPv6 literal). Default "127.0.0.1".
  std::string address = "127.0.0.1";
  /// TCP port; 0 picks a free one (see port()). Default 0.
  int port = 0;
  /// Event-loop threads of the HTTP endpoint. Default 1.
  std::size_t threads = 1;
  /// Serve HTTP at all; false writes only file_output. Default true.
  bool serve_http = true;
  /// When set, requests must carry `<token_header>: <token>`; others get 401.
  std::string token;
  /// Default "X-Constellation-Token".
  std::string token_header = "X-Constellation-Token";
  /// PEM certificate chain and key for HTTPS (both or neither).
  std::string tls_cert_file;
  std::string tls_key_file;
  /// PEM CA bundle: clients must present a certificate it signed (mTLS). Needs the two above.
  std::string tls_client_ca_file;
  /// What /v1/traefik answers without ?version= / ?format=. Default v3, YAML.
  TraefikVersion default_version = TraefikVersion::V3;
  TraefikFormat default_format = TraefikFormat::Yaml;
  /// When set, the configuration is also written to this file (atomically) for Traefik's file
  /// provider, on every change, once the state is complete.
  std::string file_output;
  TraefikVersion file_version = TraefikVersion::V3;
  TraefikFormat file_format = TraefikFormat::Yaml;
  /// A burst of updates renders once, this long after the last one... Default 20 ms.
  std::chrono::milliseconds debounce{20};
  /// ...and never later than this after the first. Default 200 ms.
  std::chrono::milliseconds max_delay{200};
};

/// The Traefik endpoint (GET /v1/traefik, docs/traefik.md) and file output, fed with cluster
/// states. Renders happen on a background thread; requests are served from cached bytes. Until
/// the first complete state the endpoint answers 503, never an empty configuration. Thread-safe.
class CST_API ProviderServer {
 public:
  /// Starts the render thread and the HTTP endpoint. Errors: InvalidArgument (an option, naming
  /// it; unreadable TLS files), Io (cannot listen on address:port).
  static Result<std::unique_ptr<ProviderServer>> start(ProviderOptions options, ProviderServerOptions serve);

  ~ProviderServer();
  ProviderServer(const ProviderServer&) = delete;
  ProviderServer& operator=(const ProviderServer&) = delete;

  /// Replaces the cluster state (a JSON state document); rendered after the debounce. Errors:
  /// InvalidArgument (malformed document, naming the path); the previous state stays served.
  Result<void> update(std::string_view state_json);

  /// Blocks until every update made before the call is rendered, served and written.
  void sync();

  /// The bound HTTP port (0 when serve_http is off).
  int port() const;

  /// "http://<address>:<port>" or "https://..." (IPv6 in brackets); "" when not serving HTTP.
  std::string url() const;

  /// The ETag currently served for (version, format), "" when nothing is served yet.
  std::string etag(TraefikVersion version, TraefikFormat format) const;

  /// Diagnostics of the current render for `version` (empty before the first render).
  std::vector<ProviderDiagnostic> diagnostics(TraefikVersion version) const;

  /// Stops serving and rendering. Idempotent; also done by the destructor.
  void stop();

 private:
  struct Impl;
  explicit ProviderServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace constellation
