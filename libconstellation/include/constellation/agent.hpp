// SPDX-License-Identifier: Apache-2.0
//
// The whole Constellation agent, embeddable in a host program. apps/agent is a thin command line
// around this class.
#pragma once

#include <constellation/result.hpp>

#include <memory>
#include <string>
#include <vector>

namespace constellation {

/// How to start an agent. Configuration is layered: built-in defaults (the embedded default: one
/// node, data in ./constellation-data, every listener on loopback), then the YAML file or text,
/// then CONSTELLATION_* environment variables, then the overrides below. docs/configuration.md
/// lists every setting.
struct AgentOptions {
  /// Path of a YAML configuration file. Empty: none.
  std::string config_file;
  /// YAML configuration given as text (instead of a file; setting both is an error).
  std::string config_yaml;
  /// Apply CONSTELLATION_* environment variables. Default true.
  bool use_environment = true;

  // Overrides, applied last. An empty string (or a negative port) keeps the configured value.
  /// This node's name, unique in the cluster (configured default: the host name).
  std::string node_name;
  /// Directory for the node's identity, Raft log and state; created (mode 0700) and locked.
  std::string data_dir;
  /// Address the HTTP API listens on (configured default 127.0.0.1).
  std::string api_address;
  /// TCP port of the HTTP API; 0 picks a free port (see Agent::api_port()). -1: configured (7400).
  int api_port = -1;
  /// Minimum level of the JSON log lines on stderr: debug, info, warn or error.
  std::string log_level;
  /// Directory of compose files this node runs.
  std::string services_dir;
};

/// A running node. Thread-safe: start(), stop() and the getters may be called from any thread.
class CST_API Agent {
 public:
  /// Reads and validates the configuration, creates and locks the data directory and loads (or
  /// creates) the node's identity. Nothing listens yet. Errors: InvalidArgument (a bad setting:
  /// the message names file:line:column and field, the environment variable, or the option),
  /// NotFound (config_file missing), Io (the data directory cannot be created or read),
  /// Unavailable (another agent holds the data directory), Corrupt (a damaged identity file).
  static Result<std::unique_ptr<Agent>> open(AgentOptions options);

  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  /// Starts every listener and loop in background threads and returns. Errors: Io (a port in
  /// use), InvalidArgument (started twice).
  Result<void> start();

  /// Stops everything, waits for the threads to end and releases the data directory. Final: an
  /// agent cannot be started again. Idempotent; also done by the destructor.
  void stop();

  /// Blocks until stop() is called from another thread (or a signal handler's thread).
  void wait();

  /// Re-reads the service definitions and reconciles (what SIGHUP does). On errors the running
  /// services stay as they are. Returns every finding ("file:line:column: error: field: ...").
  /// Errors: Unavailable (not running), NotFound (the directory is gone).
  Result<std::vector<std::string>> reload();

  /// The node's 32-hex-digit identity, stable across restarts.
  std::string node_id() const;
  /// The node's name.
  std::string node_name() const;
  /// The data directory in use.
  std::string data_dir() const;
  /// Configuration warnings found while opening (unknown keys and variables), one per line as
  /// "where: message". They are also logged at start().
  std::vector<std::string> warnings() const;
  /// The API's bound port (meaningful after start()).
  int api_port() const;
  /// "http://<address>:<port>" of the API (after start()).
  std::string api_url() const;

 private:
  struct Impl;
  explicit Agent(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace constellation
