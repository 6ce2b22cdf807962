// SPDX-License-Identifier: Apache-2.0
//
// Service definitions: checking a directory of Docker Compose files the way the agent reads
// them (see docs/services.md for the supported keys and the x-constellation extension).
#pragma once

#include <constellation/catalog.hpp>
#include <constellation/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace constellation {

/// One finding about a compose file.
struct ServiceDiagnostic {
  /// True for an error (the file is rejected), false for a warning.
  bool error = true;
  /// File name relative to the directory (or as passed to validate_compose()).
  std::string file;
  /// 1-based line and column; 0 when the finding concerns the whole file.
  int line = 0;
  int column = 0;
  /// Path of the field, e.g. "services.web.ports[1]"; empty for file-level findings.
  std::string field;
  std::string message;

  /// "<file>:<line>:<column>: error: <field>: <message>".
  CST_API std::string to_string() const;
};

/// What validation found.
struct ServiceValidation {
  /// Every error and warning, sorted by file, line and column.
  std::vector<ServiceDiagnostic> diagnostics;
  /// Names of the services defined without errors, sorted.
  std::vector<std::string> services;
  /// Compose files read.
  int files = 0;
  /// The services as JSON: {"projects":[...],"diagnostics":[...]} with every field of every
  /// service (durations as text, maps sorted). Byte-for-byte deterministic.
  std::string json;

  /// True when no diagnostic is an error.
  bool ok() const {
    for (const auto& d : diagnostics) {
      if (d.error) return false;
    }
    return true;
  }
};

struct ServiceValidationOptions {
  /// Interpolate with the process environment over the directory's .env (as compose does).
  /// Default true; false makes the result depend on the files alone.
  bool use_process_environment = true;
  /// Extra variables, overriding the environment and .env.
  std::map<std::string, std::string> variables;
};

/// Reads and checks every compose file (*.yaml, *.yml) at the top of `directory`, with its .env
/// and env_file references, as one namespace of services (names unique across files,
/// depends_on across files, no cycles). Problems in the files are diagnostics, not errors.
/// Thread-safe. Errors: NotFound (no such directory), InvalidArgument (not a directory, or no
/// compose file in it), Io (cannot be listed).
CST_API Result<ServiceValidation> validate_services(const std::string& directory,
                                                    const ServiceValidationOptions& options = {});

/// Checks one compose file given as text; `file_name` is used in messages and (without its
/// extension) as the default project name. Variables come from `variables` only; env_file
/// references are reported as missing. Never fails: problems are diagnostics.
CST_API ServiceValidation validate_compose(std::string_view contents, std::string_view file_name,
                                           const std::map<std::string, std::string>& variables = {});

/// Options of a ServiceHost.
struct ServiceHostOptions {
  /// Directory of compose files (see validate_services()). Empty: no services.
  std::string services_dir;
  /// Process state and logs go to <data_dir>/services. Created.
  std::string data_dir = "constellation-data";
  /// This node's name. Empty: the host name.
  std::string node_name;
  /// This node's identity (32 hex digits). Empty: <data_dir>/node-id, created if missing.
  std::string node_id;
  std::vector<std::string> roles;
  /// Placement tags of this node (x-constellation.placement.tags match them).
  std::vector<std::string> tags;
  /// Configured addresses per cluster network (a literal or "iface:<name>"); the others are
  /// detected from the interfaces and `tailscale ip`.
  std::map<std::string, std::string> addresses;
  /// Docker Engine socket. Empty: /var/run/docker.sock when it exists.
  std::string docker_socket;
  /// Threads running checks in parallel. Default 4.
  int check_threads = 4;
  /// Stop every instance when the host stops (default). False leaves them running; the next
  /// host on the same data directory adopts them.
  bool stop_on_exit = true;
  /// Interpolate compose files with the process environment (over .env). Default true.
  bool use_process_environment = true;
  /// Seed of the check jitter; 0 draws one.
  std::uint64_t seed = 0;
  /// Minimum level of the JSON log lines on stderr: debug, info, warn, error. Default "warn".
  std::string log_level = "warn";
};

/// One local instance.
struct ServiceInstanceStatus {
  /// "<service>-<replica>".
  std::string id;
  std::string service;
  std::string project;
  /// "docker" or "process".
  std::string runtime;
  /// Process id or container id.
  std::string runtime_id;
  /// pending, starting, running, stopping, exited.
  std::string state;
  HealthStatus health = HealthStatus::Critical;
  /// The health monitor's phase: running, backing-off, restarting, stopped ("" before start).
  std::string phase;
  /// Consecutive restarts (reset after a stable period).
  int restarts = 0;
  /// Taken over from before the host's own restart rather than started by it.
  bool adopted = false;
  std::vector<CatalogCheck> checks;
  /// Why it could not start, if it could not.
  std::string error;
};

/// Something that happened to an instance.
struct ServiceEvent {
  /// started, adopted, exited, stopped, replaced, removed, start-failed, check, health,
  /// restart-scheduled, restarting, gave-up, reloaded, load-failed.
  std::string kind;
  std::string instance;
  /// Kind-specific fields as a JSON object, e.g. {"from":"passing","to":"warning"}.
  std::string fields_json;
};

/// Runs this node's services: reads the compose directory, places replicas, starts them as
/// processes (libuv supervisor) or containers (Docker Engine API), checks them, restarts failing
/// ones with backoff, and publishes the node's catalog entry. Reconciliation adopts what already
/// runs after a restart instead of duplicating it. Thread-safe.
class CST_API ServiceHost {
 public:
  /// Loads (or creates) the node identity, detects addresses, adopts running processes. Nothing
  /// new starts before start(). Errors: InvalidArgument (bad option), Io, Corrupt (node-id).
  static Result<std::unique_ptr<ServiceHost>> open(ServiceHostOptions options);
  ~ServiceHost();
  ServiceHost(const ServiceHost&) = delete;
  ServiceHost& operator=(const ServiceHost&) = delete;

  /// Calls `fn` for every event, on the host's control thread (do not block, do not call back).
  /// Register before start().
  void on_event(std::function<void(const ServiceEvent&)> fn);

  /// Loads the services and starts reconciling and checking in background threads. A directory
  /// with errors starts nothing (see reload()). Errors: NotFound, InvalidArgument (twice).
  Result<void> start();
  /// Re-reads the directory and reconciles; with errors the running services are left as they
  /// are. Returns what validation found. Errors: NotFound, Io.
  Result<ServiceValidation> reload();
  /// Stops the host (and its instances unless stop_on_exit is false). Idempotent; also done by
  /// the destructor.
  void stop();

  /// Maintenance on or off for a local instance. Errors: NotFound.
  Result<void> set_maintenance(const std::string& instance, bool on);

  std::vector<ServiceInstanceStatus> instances() const;
  /// The catalog as this node sees it.
  std::shared_ptr<const CatalogSnapshot> snapshot() const;
  /// {"node":{...},"instances":[...]}.
  std::string status_json() const;
  std::string node_id() const;
  std::string node_name() const;

 private:
  struct Impl;
  explicit ServiceHost(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace constellation
