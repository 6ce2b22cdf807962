// SPDX-License-Identifier: Apache-2.0
//
// How an agent takes part in its cluster: it gossips its own catalog entry and its Raft and API
// addresses, merges every other node's entry into its catalog with gossip's verdict on that node,
// tells its Raft member where the other members listen, and — on the Raft leader — adds nodes
// that are not voters as learners, so every node can serve leases and KV.
//
// Gossip state keys (one per concern, each versioned by gossip):
//   "catalog"  the node's catalog::NodeEntry, binary (catalog/codec.hpp)
//   "raft"     "host:port" of the node's Raft transport
//   "api"      the node's API URL
//   "keys"     fingerprints of the node's gossip keys (comma-separated), for `keyring list`
#pragma once

#include <constellation/gossip.hpp>
#include <constellation/raft.hpp>

#include "agent/control_loop.hpp"
#include "catalog/model.hpp"
#include "core/log.hpp"
#include "services/host.hpp"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace constellation {
/// The Raft id of the node called `name` (FNV-1a 64, never 0): stable across restarts and
/// address changes, the same on every node (agent.cpp).
std::uint64_t raft_id_for(std::string_view name);
}  // namespace constellation

namespace constellation::agent {

/// A key's public fingerprint: the first 8 bytes of SHA-256 of the raw key, hex.
std::string key_fingerprint(const std::string& base64_key);

struct ClusterOptions {
  std::string node_name;
  core::NodeId node_id;
  /// This node's Raft address as peers should dial it.
  std::string raft_address;
  /// Names of the Raft voters; empty: this node is a single-voter group and adds no learners.
  std::vector<std::string> voters;
  /// No seeds to join: the view is complete at once.
  bool alone = true;
  core::log::Logger log;
};

class Cluster {
 public:
  Cluster(Gossip& gossip, services::Host& host, ControlLoop& loop, ClusterOptions options);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  /// Publishes this node's addresses, subscribes to gossip and to the catalog.
  void start();
  /// Stops reacting to gossip (call before the parts it feeds stop).
  void stop();

  /// Raft addresses of the nodes that published one, by Raft id.
  std::map<std::uint64_t, std::string> raft_addresses() const;
  /// Blocks until every voter's Raft address is known (or `timeout`); returns them by Raft id.
  Result<std::map<std::uint64_t, std::string>> wait_for_voters(std::chrono::milliseconds timeout);
  /// Feeds addresses to this Raft member from now on; on its leader, adds non-voters as learners.
  void attach_raft(RaftNode* raft);
  /// Publishes the Raft address (when the bound port was only known once Raft listened).
  void set_raft_address(const std::string& address);
  /// Publishes the API URL (known once the API listens).
  void set_api_url(const std::string& url);
  /// Republishes the key fingerprints (after a keyring change).
  void publish_keys();

 private:
  void on_event(const GossipEvent& e);
  void on_snapshot(const catalog::SnapshotPtr& s);
  void reconcile_raft();

  Gossip& gossip_;
  services::Host& host_;
  ControlLoop& loop_;
  ClusterOptions opts_;
  std::atomic<bool> stopped_{false};
  std::uint64_t subscription_ = 0;
  std::uint64_t catalog_subscription_ = 0;
  ControlLoop::TimerId reconcile_timer_ = 0;
  ControlLoop::TimerId complete_timer_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::uint64_t, std::string> raft_addresses_;  // raft id -> address (alive or not)
  std::set<std::uint64_t> alive_raft_ids_;
  std::map<std::string, core::NodeId> node_ids_;  // gossip name -> catalog id
  RaftNode* raft_ = nullptr;
  std::uint64_t published_version_ = 0;  // of our own catalog entry (catalog thread)
  bool have_published_ = false;
};

}  // namespace constellation::agent
