// SPDX-License-Identifier: Apache-2.0
//
// The node's service host: reads the compose directory, decides which instances this node runs
// (placement), reconciles them against what is running (processes through the libuv supervisor,
// containers through the Docker Engine API), checks them (health::Monitor scheduling,
// io::probe running the checks in parallel), restarts failing ones, and publishes the node's
// NodeEntry into a catalog that readers snapshot.
//
// Threads: one control thread owns the spec set, the monitor, the instance table and the
// catalog; the supervisor's libuv thread, the probe pool, a Docker worker and the Docker event
// stream post their results to it. Public getters read copies published under a mutex.
//
// Reconciliation is idempotent and survives restarts: instances carry their identity (process
// state file / container labels: constellation.instance, .service, .project, .spec-hash,
// .node), and at start the host adopts what is running with the current spec hash, replaces what
// runs an older spec, and stops what is no longer wanted — it never starts a duplicate.
#pragma once

#include <constellation/result.hpp>

#include "catalog/catalog.hpp"
#include "core/ids.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "spec/service_set.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace constellation::services {

using namespace std::chrono_literals;

struct HostOptions {
  /// Directory of compose files; empty: no services (the host still publishes its node).
  std::string services_dir;
  /// State (processes.json) and logs go to <data_dir>/services.
  std::string data_dir;
  std::string node_name;
  core::NodeId node_id;
  std::vector<std::string> roles;
  std::vector<std::string> tags;
  std::string version;
  /// Configured addresses (network → literal or iface:<name>); the rest is detected.
  std::map<std::string, std::string> addresses;
  /// Docker Engine socket; empty: /var/run/docker.sock when it exists. Without an engine,
  /// docker-runtime instances stay critical ("no container engine").
  std::string docker_socket;
  /// Probe threads (checks run in parallel on them).
  std::size_t check_threads = 4;
  /// Stop (and remove) every instance on stop(); false leaves them running for the next host
  /// to adopt.
  bool stop_on_exit = true;
  /// Full reconciliation this often (besides the one every change triggers).
  core::Duration reconcile_interval = 10s;
  /// Interpolate compose files with the process environment (over the directory's .env).
  bool use_process_environment = true;
  /// Seeds check jitter; 0 draws one from the OS.
  std::uint64_t seed = 0;
  core::log::Logger log;
};

/// Something that happened, for subscribers (logs, tests, the API's event stream).
struct HostEvent {
  /// started, adopted, exited, stopped, replaced, start-failed, check, health, restart-scheduled,
  /// restarting, gave-up, reloaded, load-failed.
  std::string kind;
  std::string instance;
  /// Kind-specific fields.
  core::json::Value fields = core::json::Value::object();
};

/// One instance as the host sees it.
struct InstanceStatus {
  std::string id;
  std::string service;
  std::string project;
  std::string runtime;
  std::string runtime_id;
  /// pending, starting, running, stopping, exited.
  std::string state;
  catalog::Health health = catalog::Health::Critical;
  /// running, backing-off, restarting, stopped (the monitor's phase), or "" when unmonitored.
  std::string phase;
  int restarts = 0;
  bool adopted = false;
  std::vector<catalog::CheckResult> checks;
  std::string error;
};

class Host {
 public:
  /// Resolves the node's addresses, opens the process supervisor (adopting live processes) and
  /// the probe pool. Nothing is started or reconciled until start(). Errors: InvalidArgument (a
  /// bad option or configured address), Io (the data directory).
  static Result<std::unique_ptr<Host>> open(HostOptions options);
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  /// Registers an event callback (before start()); it runs on the control thread and must not
  /// block or call back into the host.
  void subscribe(std::function<void(const HostEvent&)> fn);

  /// Loads the directory and starts the control thread: adopt, reconcile, check. A directory
  /// with errors starts nothing (the diagnostics are returned by reload() and logged).
  /// Errors: InvalidArgument (started twice), NotFound (no such directory).
  Result<void> start();

  /// Re-reads the directory and reconciles. On errors the previous services stay as they are.
  /// Returns the new set's diagnostics (errors included). Errors: NotFound, Io.
  Result<spec::ServiceSet> reload();

  /// Stops the control thread (and the instances, with stop_on_exit). Idempotent.
  void stop();

  /// Maintenance on or off for an instance. Errors: NotFound.
  Result<void> set_maintenance(const std::string& instance, bool on);

  std::vector<InstanceStatus> instances() const;
  /// The latest published catalog view (this node's entry, plus any merged from peers).
  catalog::SnapshotPtr snapshot() const;
  /// The catalog, for merging peers' entries. Control-thread only: use post().
  void post(std::function<void(catalog::Catalog&)> fn);
  /// This node's current entry.
  catalog::NodeEntry local_entry() const;

  /// {"node":...,"instances":[...]} — a JSON status for APIs and tests.
  std::string status_json() const;

 private:
  struct Impl;
  explicit Host(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace constellation::services
