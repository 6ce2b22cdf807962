// SPDX-License-Identifier: Apache-2.0
//
// Service definitions as the rest of Constellation sees them, read from Docker Compose files
// (compose.cpp). A ServiceSpec says what to run (image or command), how (environment, ports,
// volumes, networks, restart), how to check it (the compose healthcheck plus the checks of the
// x-constellation extension), and where (placement). Durations are core::Duration; ports are
// validated numbers; labels are kept verbatim.
#pragma once

#include "core/time.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace constellation::spec {

using namespace std::chrono_literals;

enum class Severity { Warning, Error };

/// One finding about an input file. Errors make the file (or the directory) invalid; warnings
/// (unknown keys, unsupported features, unset variables) do not.
struct Diagnostic {
  Severity severity = Severity::Error;
  std::string file;
  /// 1-based; 0 when the finding is about the whole file.
  int line = 0;
  /// 1-based; 0 when unknown.
  int column = 0;
  /// Path of the field, e.g. "services.web.ports[1]".
  std::string field;
  std::string message;

  /// "<file>:<line>:<column>: error: <field>: <message>" (line/column omitted when 0).
  std::string to_string() const;
  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

/// True if any diagnostic is an error.
bool has_errors(const std::vector<Diagnostic>& diagnostics);

enum class Runtime { Docker, Process };
/// "docker" or "process".
std::string_view runtime_name(Runtime r);

/// A port mapping, possibly a range. Short syntax "[host_ip:][published[-end]:]target[-end][/proto]"
/// and the long syntax both end up here.
struct PortSpec {
  std::uint16_t target = 0;
  /// Last port of a target range; equal to target for a single port.
  std::uint16_t target_end = 0;
  /// First host port; 0 when not published (or published on an ephemeral port).
  std::uint16_t published = 0;
  std::uint16_t published_end = 0;
  /// "tcp", "udp" or "sctp".
  std::string protocol = "tcp";
  /// Host address to bind; empty for all.
  std::string host_ip;
  /// "ingress" (default) or "host" (long syntax only).
  std::string mode;
  /// Long syntax extras, kept for consumers.
  std::string name;
  std::string app_protocol;
  friend bool operator==(const PortSpec&, const PortSpec&) = default;
};

struct VolumeSpec {
  /// "bind", "volume" or "tmpfs".
  std::string type;
  /// Host path (bind, as written: relative paths are relative to the compose file) or volume
  /// name; empty for anonymous volumes and tmpfs.
  std::string source;
  /// Path inside the container.
  std::string target;
  bool read_only = false;
  /// Remaining short-syntax mode flags ("z", "Z", "cached", ...), comma-separated, as written.
  std::string mode;
  friend bool operator==(const VolumeSpec&, const VolumeSpec&) = default;
};

/// A service's attachment to a compose network.
struct NetworkAttachment {
  std::vector<std::string> aliases;
  std::string ipv4_address;
  std::string ipv6_address;
  friend bool operator==(const NetworkAttachment&, const NetworkAttachment&) = default;
};

/// The compose `healthcheck` block.
struct Healthcheck {
  /// Normalised test: {"CMD", args...} or {"CMD-SHELL", command}. Empty when disabled.
  std::vector<std::string> test;
  bool disabled = false;
  core::Duration interval = 30s;
  core::Duration timeout = 30s;
  core::Duration start_period = 0s;
  core::Duration start_interval = 5s;
  int retries = 3;
  friend bool operator==(const Healthcheck&, const Healthcheck&) = default;
};

enum class CheckKind {
  /// HTTP request; passes on the expected status (any 2xx by default) and body substring.
  Http,
  /// TCP connect.
  Tcp,
  /// A command; exit 0 passes, 1 warns, anything else fails.
  Exec,
  /// The container engine's own healthcheck status (docker runtime).
  Container,
};
std::string_view check_kind_name(CheckKind k);

/// One health check of a service. Derived from the compose healthcheck (name "healthcheck") or
/// declared under x-constellation.checks.
struct CheckSpec {
  std::string name;
  CheckKind kind = CheckKind::Http;
  /// Http: URL; Tcp: host:port.
  std::string target;
  /// Exec: argv.
  std::vector<std::string> command;
  std::string method = "GET";
  /// Http: required status; 0 means any 2xx.
  int expect_status = 0;
  /// Http: required substring of the body; empty for none.
  std::string expect_body;
  core::Duration interval = 10s;
  core::Duration timeout = 5s;
  /// Failures during this time after a start do not count.
  core::Duration start_period = 0s;
  /// Consecutive passes needed to become passing.
  int rise = 1;
  /// Consecutive failures that make the check critical.
  int fall = 3;
  friend bool operator==(const CheckSpec&, const CheckSpec&) = default;
};

enum class RestartCondition { No, Always, OnFailure, UnlessStopped };
std::string_view restart_condition_name(RestartCondition c);

struct RestartSpec {
  RestartCondition condition = RestartCondition::No;
  /// on-failure:N or deploy.restart_policy.max_attempts; 0 = unlimited (until `limit`).
  int max_attempts = 0;
  /// Restart an instance whose health is critical (x-constellation.restart.on_unhealthy).
  /// Default: true unless condition is No.
  bool on_unhealthy = false;
  /// First delay; doubles on each consecutive restart up to max_backoff.
  core::Duration backoff = 1s;
  core::Duration max_backoff = 60s;
  /// Restarts without a stable period in between before giving up (reported critical).
  int limit = 5;
  /// Running (and not critical) this long resets the count.
  core::Duration reset_after = 600s;
  friend bool operator==(const RestartSpec&, const RestartSpec&) = default;
};

enum class DependencyCondition { Started, Healthy, CompletedSuccessfully };
std::string_view dependency_condition_name(DependencyCondition c);

struct Dependency {
  std::string service;
  DependencyCondition condition = DependencyCondition::Started;
  bool required = true;
  bool restart = false;
  /// Where it was written, for cross-file errors.
  int line = 0;
  int column = 0;
  friend bool operator==(const Dependency&, const Dependency&) = default;
};

struct Placement {
  /// Only these nodes (by name); empty: any.
  std::vector<std::string> nodes;
  /// Only nodes carrying every one of these tags.
  std::vector<std::string> tags;
  /// Replicas go to distinct nodes while there are enough (default true).
  bool spread = true;
  /// Exactly one instance cluster-wide, held by a lease named "service/<project>/<name>".
  bool singleton = false;
  /// deploy.mode: global — one instance on every eligible node.
  bool global = false;
  friend bool operator==(const Placement&, const Placement&) = default;
};

struct LogSpec {
  /// Rotate a log file when it exceeds this size.
  std::uint64_t max_bytes = 10u << 20;
  /// Rotated files kept (name.log.1 ... name.log.N).
  int max_files = 3;
  friend bool operator==(const LogSpec&, const LogSpec&) = default;
};

struct ServiceSpec {
  std::string project;
  std::string name;
  /// Where the service is defined.
  std::string file;
  int line = 0;
  Runtime runtime = Runtime::Docker;
  std::string image;
  std::vector<std::string> entrypoint;
  std::vector<std::string> command;
  /// Final environment (env_file entries overlaid by `environment`), interpolated.
  std::map<std::string, std::string> environment;
  /// env_file paths as written (relative to the compose file); the loader reads them.
  std::vector<std::string> env_files;
  std::string working_dir;
  std::string user;
  std::string hostname;
  std::string container_name;
  std::vector<PortSpec> ports;
  std::vector<PortSpec> expose;
  std::vector<VolumeSpec> volumes;
  /// Compose networks (not cluster networks); "default" when none is given.
  std::map<std::string, NetworkAttachment> networks;
  std::string network_mode;
  /// Verbatim (after compose interpolation), Traefik's included; deploy.labels merged in.
  std::map<std::string, std::string> labels;
  std::optional<Healthcheck> healthcheck;
  /// Every check the health module runs for this service, in order.
  std::vector<CheckSpec> checks;
  RestartSpec restart;
  std::vector<Dependency> depends_on;
  int replicas = 1;
  Placement placement;
  /// Cluster networks the service is reachable on (x-constellation.networks); empty: all.
  std::vector<std::string> cluster_networks;
  std::string stop_signal = "SIGTERM";
  core::Duration stop_grace_period = 10s;
  bool init = false;
  std::vector<std::string> profiles;
  LogSpec logs;
  friend bool operator==(const ServiceSpec&, const ServiceSpec&) = default;
};

/// One compose file.
struct Project {
  std::string name;
  std::string file;
  /// Sorted by name.
  std::vector<ServiceSpec> services;
  /// Declared top-level networks and volumes (names only; their options are the engine's).
  std::vector<std::string> networks;
  std::vector<std::string> volumes;
  friend bool operator==(const Project&, const Project&) = default;
};

}  // namespace constellation::spec
