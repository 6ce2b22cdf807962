// SPDX-License-Identifier: Apache-2.0
//
// The agent's parts and how they are wired (docs/architecture.md, "The agent"). Internal to the
// agent module: agent.cpp runs the lifecycle, routes.cpp the REST API.
#pragma once

#include <constellation/agent.hpp>
#include <constellation/gossip.hpp>
#include <constellation/raft.hpp>

#include "agent/cluster.hpp"
#include "agent/config.hpp"
#include "agent/control_loop.hpp"
#include "agent/dns_worker.hpp"
#include "api/router.hpp"
#include "catalog/catalog.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/time.hpp"
#include "io/http/server.hpp"
#include "io/os/notify.hpp"
#include "io/os/os.hpp"
#include "io/store/audit.hpp"
#include "services/host.hpp"
#include "traefik/provider_server.hpp"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace constellation {

/// Names, sizes and mtimes of the files of a services directory (agent.cpp).
std::string services_dir_signature(const std::string& dir);

/// A node's Raft id, derived from its name (agent.cpp).
std::uint64_t raft_id_for(std::string_view name);

struct Agent::Impl {
  agent::Config config;
  std::vector<agent::ConfigWarning> warnings;
  /// True when no configuration named a services directory and no configuration file was given:
  /// the embedded default runs the bundled example services.
  bool embedded_services = false;
  std::string services_dir;  // the directory actually loaded ("" for none)
  std::string api_address;
  int api_port = 0;

  core::NodeId node_id;
  std::optional<io::os::DirLock> lock;
  core::log::JsonLinesSink sink{2};
  core::log::Logger log;
  core::metrics::Registry metrics;
  core::Instant started_at;
  io::os::Notifier notifier = io::os::Notifier::from_environment();

  agent::ControlLoop loop;
  std::unique_ptr<services::Host> host;
  std::unique_ptr<traefik::ProviderServer> traefik;
  /// Membership and dissemination: this node's entry to every node, every node's to this one.
  std::unique_ptr<Gossip> gossip;
  std::unique_ptr<agent::Cluster> cluster;
  /// This node's Raft member (leases and KV); every node runs one (voter or learner). A voter of
  /// a multi-voter group opens it once gossip has told it where the other voters are, on
  /// raft_starter; readers use raft_node() / dns_worker().
  std::unique_ptr<RaftNode> raft;
  std::atomic<RaftNode*> raft_ptr{nullptr};
  std::uint64_t raft_id = 0;
  std::thread raft_starter;
  /// The DNS writer (dns.enabled only), started with Raft.
  std::unique_ptr<agent::DnsWorker> dns;
  std::atomic<agent::DnsWorker*> dns_ptr{nullptr};
  std::unique_ptr<io::http::Server> api;
  std::unique_ptr<api::Router> router;
  /// Every write request, as a row of <data>/agent.db (audit.cpp); written from API threads.
  std::unique_ptr<io::store::AuditLog> audit;
  core::metrics::Counter* audit_failures = nullptr;
  core::log::Logger audit_log;

  /// The latest catalog snapshot, for API readers on any thread.
  std::atomic<std::shared_ptr<const catalog::Snapshot>> snapshot;

  std::thread watchdog;
  std::mutex mu;
  std::condition_variable cv;
  bool running = false;
  bool stopped = false;
  bool start_attempted = false;
  std::atomic<bool> cluster_stopping{false};
  /// The services directory's contents as last loaded, and a change seen once (control loop).
  std::string services_signature;
  std::string pending_signature;

  /// Re-reads the services directory (Agent::reload, SIGHUP, the directory watch).
  Result<std::vector<std::string>> reload_services();

  /// Starts every part, in order (agent.cpp). On error the caller stops what did start.
  Result<void> start();
  /// "http(s)://<api address>:<port>".
  std::string url() const;

  /// Registers every REST route (routes.cpp, routes_raft.cpp).
  void add_routes();
  void add_raft_routes();
  /// The audit trail (audit.cpp): opens <data>/agent.db; records one write request (a log line
  /// and a row); registers GET /v1/audit.
  Result<void> open_audit();
  void record_audit(const api::AuditRecord& a);
  void add_audit_routes();
  void add_cluster_routes();
  /// Starts gossip and joins the seeds.
  Result<void> start_gossip();
  /// Opens this node's Raft member (waiting for the voters' addresses when there are several)
  /// and then the DNS writer. Errors as RaftNode::open.
  Result<void> start_raft();
  Result<void> start_dns();
  /// The Raft address peers dial (the bind address when it is a real one).
  std::string raft_advertise() const;
  /// The Raft member, or Unavailable while it is not running yet.
  Result<RaftNode*> raft_node() const;
  /// Ready to serve: started and the catalog view is complete.
  bool ready() const;
  /// The latest snapshot, or Unavailable before the first is published.
  Result<std::shared_ptr<const catalog::Snapshot>> current_snapshot() const;
};

}  // namespace constellation
