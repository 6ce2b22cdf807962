// SPDX-License-Identifier: Apache-2.0
//
// The whole Constellation agent, embeddable in a host program. apps/agent is a thin command line
// around this class.
#pragma once

#include <constellation/result.hpp>

#include <memory>
#include <string>

namespace constellation {

/// Everything an agent needs to start. The defaults are the embedded default: one node, data in
/// ./constellation-data, every listener on loopback.
struct AgentOptions {
  /// This node's name, unique in the cluster. Empty: the host name.
  std::string node_name;
  /// Directory for the node's identity, Raft log and state. Created if missing (mode 0700).
  std::string data_dir = "constellation-data";
  /// Address the HTTP API (health, version, metrics, later everything else) listens on.
  std::string api_address = "127.0.0.1";
  /// TCP port of the HTTP API; 0 picks a free port (see Agent::api_port()). Default 7400.
  int api_port = 7400;
  /// Minimum level of the JSON log lines written to stderr: debug, info, warn or error.
  std::string log_level = "info";
};

/// A running node. Thread-safe: start(), stop() and the getters may be called from any thread.
class CST_API Agent {
 public:
  /// Validates options, creates the data directory and loads (or creates) the node's identity.
  /// Nothing listens yet. Errors: InvalidArgument (a bad option, naming it), Io (the data
  /// directory cannot be created or read), Corrupt (a damaged identity file).
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

  /// The node's 32-hex-digit identity, stable across restarts.
  std::string node_id() const;
  /// The node's name.
  std::string node_name() const;
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
