// SPDX-License-Identifier: Apache-2.0
//
// The Traefik endpoint as a library object: it takes cluster snapshots from whoever owns the
// catalog (the agent's control loop, a test, the public API), renders them on its own thread
// (debounced, provider::Renderer), serves the cached bytes on GET /v1/traefik from the Asio
// static server, and writes them atomically to a file for Traefik's file provider.
//
// Endpoint contract (docs/traefik.md):
//   GET|HEAD /v1/traefik[?version=v2|v3][&format=json|yaml]   also /v1/traefik/v2, /v1/traefik/v3
//     200 + body + ETag when the node has a complete cluster view; 304 on a matching
//     If-None-Match; 503 (Retry-After: 1) before that — never a 200 with an empty config, which
//     would remove every route Traefik has from this provider; 401 without the shared token
//     (when one is configured); 400 for a bad version/format; 404 for a version not rendered.
//   GET|HEAD /v1/traefik/diagnostics   the diagnostics of the current render, as JSON.
#pragma once

#include <constellation/result.hpp>

#include "catalog/model.hpp"
#include "core/metrics.hpp"
#include "core/time.hpp"
#include "io/http/static_server.hpp"
#include "provider/render.hpp"

#include <memory>
#include <string>
#include <vector>

namespace constellation::traefik {

struct ServeOptions {
  /// Listener, threads, limits and TLS/mTLS of the HTTP endpoint.
  io::http::StaticServerOptions http;
  /// Serve HTTP at all (false: file output only). Default true.
  bool serve_http = true;
  /// When non-empty, every request must carry `token_header: token` (compared in constant time).
  std::string token;
  /// Default "X-Constellation-Token" (Traefik v3 sends it via providers.http.headers).
  std::string token_header = "X-Constellation-Token";
  /// Versions rendered on every change (others answer 404). Default both.
  std::vector<provider::TraefikVersion> versions{provider::TraefikVersion::V2, provider::TraefikVersion::V3};
  /// What GET /v1/traefik answers without a selector. Default v3, YAML.
  provider::TraefikVersion default_version = provider::TraefikVersion::V3;
  provider::Format default_format = provider::Format::Yaml;
  /// When non-empty, the configuration is also written here (atomically, mode 0644) for Traefik's
  /// file provider, whenever it changes and the view is complete.
  std::string file_output;
  provider::TraefikVersion file_version = provider::TraefikVersion::V3;
  provider::Format file_format = provider::Format::Yaml;
  /// Debounce of renders (provider::Renderer::Settings). Defaults 20 ms / 200 ms.
  core::Duration debounce_quiet = std::chrono::milliseconds(20);
  core::Duration debounce_max = std::chrono::milliseconds(200);
};

class ProviderServer {
 public:
  /// Validates the options, starts the render thread and, unless serve_http is off, the HTTP
  /// endpoint. Until the first complete snapshot is published the endpoint answers 503 and no
  /// file is written. `metrics` (optional) must outlive the server; `clock` too.
  /// Errors: InvalidArgument (bad options), Io (cannot listen).
  static Result<std::unique_ptr<ProviderServer>> start(provider::Options options, ServeOptions serve,
                                                        core::metrics::Registry* metrics = nullptr,
                                                        const core::Clock& clock = core::SystemClock::instance());

  ~ProviderServer();
  ProviderServer(const ProviderServer&) = delete;
  ProviderServer& operator=(const ProviderServer&) = delete;

  /// Hands over a new cluster state. Thread-safe and non-blocking: rendering happens on the
  /// server's thread after the debounce.
  void publish(std::shared_ptr<const catalog::Snapshot> snapshot);

  /// Blocks until every snapshot published before the call has been rendered, served and (if
  /// configured) written, skipping the debounce. For tests, the CLI and shutdown.
  void sync();

  /// The render being served (nullptr before the first).
  std::shared_ptr<const provider::Rendered> current() const;

  /// The bound HTTP port, 0 when not serving HTTP.
  int port() const;

  /// Answers one request exactly as the endpoint does (the contract above), for a server that
  /// mounts /v1/traefik among other routes (the agent's API). Thread-safe, non-blocking; the
  /// request's views must stay valid during the call.
  void handle(const io::http::StaticRequest& request, io::http::StaticResponse& response) const;

  struct Status {
    std::uint64_t renders = 0;
    std::uint64_t file_writes = 0;
    /// The last file-output error, "" after a successful write.
    std::string file_error;
  };
  Status status() const;

  /// Stops serving and rendering; idempotent (also done by the destructor).
  void stop();

  struct Impl;

 private:
  explicit ProviderServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace constellation::traefik
