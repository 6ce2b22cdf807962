// SPDX-License-Identifier: Apache-2.0
//
// A Docker Engine API client over the engine's unix socket (cpp-httplib, API version 1.41 —
// dockerd and podman's compatible service both speak it). Blocking: call it from a worker
// thread, never from the control loop. Every request carries "Host: docker" (the Go servers
// reject the socket path the client would otherwise send as Host).
#pragma once

#include <constellation/result.hpp>

#include "core/time.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace constellation::io::docker {

using namespace std::chrono_literals;

struct PortMapping {
  std::uint16_t target = 0;
  /// 0: an ephemeral host port.
  std::uint16_t published = 0;
  std::string protocol = "tcp";
  std::string host_ip;
};

struct Healthcheck {
  /// {"CMD", ...}, {"CMD-SHELL", cmd} or {"NONE"}.
  std::vector<std::string> test;
  core::Duration interval{0};
  core::Duration timeout{0};
  core::Duration start_period{0};
  int retries = 0;
};

struct ContainerConfig {
  /// Container name; empty lets the engine choose.
  std::string name;
  std::string image;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> labels;
  std::string working_dir;
  std::string user;
  std::string hostname;
  std::vector<PortMapping> ports;
  /// "source:target[:ro]" binds and named volumes.
  std::vector<std::string> binds;
  /// "bridge", "host", "none", a network name; empty: the engine's default.
  std::string network_mode;
  std::optional<Healthcheck> healthcheck;
  bool init = false;
  std::string stop_signal;
  /// Seconds the engine waits after the stop signal before SIGKILL.
  int stop_timeout = 10;
};

struct ContainerState {
  /// "created", "running", "paused", "restarting", "removing", "exited", "dead".
  std::string status;
  bool running = false;
  int exit_code = 0;
  int pid = 0;
  /// "" (no healthcheck), "starting", "healthy" or "unhealthy".
  std::string health;
  /// Output of the most recent healthcheck run, when there is one.
  std::string health_output;
  std::string started_at;
  std::string finished_at;
};

struct ContainerInfo {
  std::string id;
  /// Without the leading '/'.
  std::string name;
  std::string image;
  std::map<std::string, std::string> labels;
  ContainerState state;
};

/// One engine event (GET /events).
struct EngineEvent {
  /// "container", "image", "network", ...
  std::string type;
  /// "create", "start", "die", "stop", "destroy", "health_status: healthy", ...
  std::string action;
  std::string id;
  std::map<std::string, std::string> attributes;
  std::int64_t time_nanos = 0;
};

class Client {
 public:
  /// `socket_path` e.g. "/var/run/docker.sock"; `timeout` bounds each request.
  explicit Client(std::string socket_path, core::Duration timeout = 30s);

  /// GET /_ping. Errors: Unavailable (no engine on the socket).
  Result<void> ping();
  /// The engine's ApiVersion ("1.41").
  Result<std::string> api_version();

  /// Creates a container; returns its id. Errors: NotFound (no such image), Conflict (name in
  /// use), InvalidArgument (the engine rejected the configuration), Unavailable.
  Result<std::string> create(const ContainerConfig& config);
  /// Starts a created or stopped container (already running is fine). Errors: NotFound.
  Result<void> start(const std::string& id);
  /// Stops a container: its stop signal, then SIGKILL after `timeout_seconds` (already stopped
  /// is fine). Errors: NotFound.
  Result<void> stop(const std::string& id, int timeout_seconds);
  /// Removes a container (with `force`, also a running one). Errors: NotFound, Conflict.
  Result<void> remove(const std::string& id, bool force);
  /// Errors: NotFound.
  Result<ContainerInfo> inspect(const std::string& id);
  /// Containers carrying every label in `labels` (value "" matches any value); with `all`, also
  /// stopped ones.
  Result<std::vector<ContainerInfo>> list(const std::map<std::string, std::string>& labels, bool all = true);

  /// Streams engine events matching `labels` (containers only) until `on_event` returns false
  /// or `stop` becomes true (checked at least every `poll`). Reconnects with `since` after a
  /// read timeout, so no event is lost between reconnections. Errors: Unavailable (no engine).
  Result<void> events(const std::map<std::string, std::string>& labels,
                      const std::function<bool(const EngineEvent&)>& on_event, const std::atomic<bool>& stop,
                      core::Duration poll = 1s);

  const std::string& socket_path() const { return socket_; }

 private:
  std::string socket_;
  core::Duration timeout_;
};

/// The JSON body of POST /containers/create for `config` (exposed for tests).
std::string create_body(const ContainerConfig& config);
/// Parses the JSON of GET /containers/{id}/json (exposed for tests). Errors: InvalidArgument.
Result<ContainerInfo> parse_inspect(std::string_view json);

}  // namespace constellation::io::docker
