// SPDX-License-Identifier: Apache-2.0
//
// The cluster catalog: which nodes exist, what service instances each runs, and how healthy they
// are. Each node owns one entry and versions it; entries merge deterministically (the higher
// version wins; at equal versions a total order on their encodings decides), so every node that
// has seen the same entries holds the same view, whatever the order they arrived in. Readers get
// immutable snapshots. See docs/services.md.
#pragma once

#include <constellation/result.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace constellation {

/// Health of a check or an instance. Values are stable (they appear in the C API and on the wire).
enum class HealthStatus : int {
  /// Every check passes.
  Passing = 0,
  /// Degraded but serving (a failing check below its fall threshold, or recovering below rise).
  Warning = 1,
  /// Failing; not routed to.
  Critical = 2,
  /// Taken out of rotation by an operator; not routed to, not restarted.
  Maintenance = 3,
};

/// "passing", "warning", "critical", "maintenance".
CST_API std::string_view health_status_name(HealthStatus status) noexcept;

/// Membership's verdict on a node.
enum class NodeState : int { Alive = 0, Suspect = 1, Failed = 2, Left = 3 };

/// "alive", "suspect", "failed", "left".
CST_API std::string_view node_state_name(NodeState state) noexcept;

struct CatalogPort {
  /// Port inside the container (or the process's own port).
  std::uint16_t target = 0;
  /// Port published on the node; 0 when not published.
  std::uint16_t published = 0;
  /// "tcp", "udp" or "sctp".
  std::string protocol = "tcp";
  /// Host address the port is bound to; empty for all.
  std::string host_ip;
};

struct CatalogCheck {
  std::string name;
  HealthStatus status = HealthStatus::Critical;
  std::string output;
};

struct CatalogInstance {
  /// Unique within its node ("web-1").
  std::string id;
  std::string service;
  std::string project;
  /// "docker" or "process".
  std::string runtime;
  /// Container id or process id.
  std::string runtime_id;
  /// As written in the compose file (Traefik's labels included).
  std::map<std::string, std::string> labels;
  std::vector<CatalogPort> ports;
  /// Cluster networks the instance is reachable on; empty: every network of its node.
  std::vector<std::string> networks;
  HealthStatus health = HealthStatus::Critical;
  std::vector<CatalogCheck> checks;
};

struct CatalogNode {
  /// 32 hex digits.
  std::string id;
  std::string name;
  std::vector<std::string> roles;
  std::vector<std::string> tags;
  /// Agent version running on the node.
  std::string version;
  /// Cluster network name → address ("backend" → "10.0.0.7").
  std::map<std::string, std::string> addresses;
  /// Version of the node's entry; increases with every change its owner makes.
  std::uint64_t entry_version = 0;
  /// Ignored by merge() (membership sets it with set_state()).
  NodeState state = NodeState::Alive;
  /// Sorted by id (merge() sorts them).
  std::vector<CatalogInstance> instances;
};

/// One routable instance.
struct CatalogEndpoint {
  std::string node_id;
  std::string node_name;
  /// The node's address on the chosen network.
  std::string address;
  std::string network;
  CatalogInstance instance;
};

/// An immutable view of the whole cluster.
struct CatalogSnapshot {
  /// Increases with every published change.
  std::uint64_t generation = 0;
  /// True once this node has a full view of the cluster.
  bool complete = false;
  /// Every known node, sorted by id.
  std::vector<CatalogNode> nodes;

  /// Healthy instances of `service`: on alive or suspect nodes, passing (or warning too with
  /// `include_warning`), reachable on `network` (empty: any; the address is then the node's
  /// "backend" one when it has it). Ordered by node id, then instance id.
  CST_API std::vector<CatalogEndpoint> healthy(std::string_view service, std::string_view network = {},
                                               bool include_warning = false) const;
  /// Names of every service, sorted.
  CST_API std::vector<std::string> services() const;
};

/// What merge() did with an entry.
enum class MergeResult { Applied = 0, Stale = 1, Duplicate = 2, Rejected = 3 };

/// The merged view. Not thread-safe: one owner mutates it; published snapshots are immutable and
/// may be shared with any thread.
class CST_API Catalog {
 public:
  Catalog();
  ~Catalog();
  Catalog(Catalog&&) noexcept;
  Catalog& operator=(Catalog&&) noexcept;

  /// Offers a node's entry (its instances, addresses and entry_version). Rejected: an invalid
  /// entry (bad id, empty name, duplicate instance ids, out-of-range values).
  MergeResult merge(const CatalogNode& node);
  /// Offers an entry in the binary wire form (as encode() writes it). Errors: InvalidArgument
  /// (truncated or malformed), Corrupt (well-formed but inconsistent).
  Result<MergeResult> merge_encoded(const std::vector<std::uint8_t>& bytes);

  /// Membership's verdict on a node. False if the node is unknown or already in that state.
  bool set_state(std::string_view node_id, NodeState state);
  /// Forgets a node. False if unknown.
  bool remove(std::string_view node_id);
  /// Marks the view complete (or not).
  void set_complete(bool complete);

  /// Publishes a new snapshot if anything changed (calling every subscriber on this thread) and
  /// returns the latest one.
  std::shared_ptr<const CatalogSnapshot> publish();
  /// The latest published snapshot.
  std::shared_ptr<const CatalogSnapshot> snapshot() const;

  /// Calls `fn` with every newly published snapshot, on the thread that calls publish(). Returns
  /// a handle for unsubscribe().
  std::uint64_t subscribe(std::function<void(const std::shared_ptr<const CatalogSnapshot>&)> fn);
  void unsubscribe(std::uint64_t handle);

  /// The compact binary form of a node's entry (what gossip carries). Errors: InvalidArgument
  /// for an entry merge() would reject.
  static Result<std::vector<std::uint8_t>> encode(const CatalogNode& node);
  /// Decodes it. Errors: InvalidArgument, Corrupt.
  static Result<CatalogNode> decode(const std::vector<std::uint8_t>& bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace constellation
