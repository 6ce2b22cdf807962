// SPDX-License-Identifier: Apache-2.0
//
// The merged cluster view. Every node owns one NodeEntry and versions it; the catalog keeps the
// latest entry of every node it has heard of and the membership verdict on each (from gossip),
// and publishes immutable snapshots to readers on other threads.
//
// Merge rule (last writer wins per owner, ADR 0031): an offered entry replaces the held one when
// its version is higher; at an equal version with different contents — which only a node that
// lost its state can produce — the entry whose encoding is bytewise greater wins. The rule is a
// join on a total order, so merging any set of entries in any order, any number of times, gives
// the same state (commutative, associative, idempotent).
//
// Not thread-safe: the control loop owns the Catalog. Snapshots it publishes are immutable and may
// be read from any thread.
#pragma once

#include <constellation/result.hpp>

#include "catalog/model.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace constellation::catalog {

/// What merge() did with an entry.
enum class MergeOutcome {
  /// The entry replaced the held one (or was the first for its node).
  Applied,
  /// The held entry is newer (or wins the tie); nothing changed.
  Stale,
  /// The held entry is identical; nothing changed.
  Duplicate,
  /// The entry breaks an invariant (see validate()); nothing changed.
  Rejected,
};

/// One node's (id, version), for anti-entropy: a peer sends its digest, the other side answers
/// with the entries the peer lacks or holds at a lower version.
struct DigestItem {
  core::NodeId id;
  std::uint64_t version = 0;
  friend bool operator==(const DigestItem&, const DigestItem&) = default;
};

/// What changed between two published snapshots.
struct Change {
  std::uint64_t generation = 0;
  /// Nodes whose entry or status changed, or that appeared. Sorted.
  std::vector<core::NodeId> updated;
  /// Nodes removed from the view. Sorted.
  std::vector<core::NodeId> removed;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;
using Subscriber = std::function<void(const SnapshotPtr&, const Change&)>;

class Catalog {
 public:
  /// An empty catalog; its first snapshot has generation 0 and no nodes.
  Catalog();

  /// Offers an entry (local or from a peer). Status of a node seen for the first time is Alive.
  /// The const& form copies the entry only when it is applied.
  MergeOutcome merge(NodeEntry&& entry);
  MergeOutcome merge(const NodeEntry& entry);

  /// Sets gossip's verdict on a node. A node the catalog has no entry for is ignored (returns
  /// false); so is a status equal to the held one.
  bool set_status(const core::NodeId& id, NodeStatus status);

  /// Forgets a node (after it left or was reaped). False if unknown.
  bool remove(const core::NodeId& id);

  /// Marks the view complete (a full state exchange happened, or the node is alone by
  /// configuration). Consumers that could do harm with a partial view wait for it.
  void set_complete(bool complete);

  /// The held view of one node, or nullptr. Valid until the next mutation.
  const NodeView* find(const core::NodeId& id) const;
  std::size_t size() const { return nodes_.size(); }

  /// (id, version) of every held entry, sorted by id.
  std::vector<DigestItem> digest() const;
  /// The entries a peer with digest `theirs` lacks or holds at a lower version, sorted by id.
  std::vector<const NodeEntry*> newer_than(const std::vector<DigestItem>& theirs) const;

  /// True when something changed since the last publish().
  bool dirty() const { return dirty_; }

  /// Publishes a new snapshot if anything changed (generation + 1) and calls every subscriber
  /// with it; otherwise returns the current one. Subscribers run on the caller's thread, in
  /// subscription order, and must not call back into the catalog.
  SnapshotPtr publish();

  /// The last published snapshot.
  SnapshotPtr snapshot() const { return current_; }

  /// Registers a callback for every published change; returns a handle for unsubscribe().
  std::uint64_t subscribe(Subscriber fn);
  void unsubscribe(std::uint64_t handle);

 private:
  void touch(const core::NodeId& id);
  template <class E>
  MergeOutcome merge_impl(E&& entry);

  std::map<core::NodeId, NodeView> nodes_;
  bool complete_ = false;
  bool dirty_ = false;
  std::vector<core::NodeId> updated_;
  std::vector<core::NodeId> removed_;
  SnapshotPtr current_;
  std::uint64_t next_subscriber_ = 1;
  std::vector<std::pair<std::uint64_t, Subscriber>> subscribers_;
};

/// The deterministic winner of two entries of the same node (the merge rule above). Pure; used
/// by merge() and by tests.
const NodeEntry& winner(const NodeEntry& a, const NodeEntry& b);

// --- Queries on a snapshot ---------------------------------------------------------------------

struct QueryOptions {
  /// Cluster network the caller will connect over ("backend", "tailscale", ...). Empty: any —
  /// the endpoint's address is then the node's "backend" address if it has one, else the first
  /// by network name. A node without an address on the network is skipped, and so is an
  /// instance that lists networks without this one.
  std::string network;
  /// Also return instances in Warning. Default: passing only.
  bool include_warning = false;
};

/// One routable instance.
struct Endpoint {
  core::NodeId node_id;
  const std::string* node_name = nullptr;
  /// The node's address on the chosen network (or empty when the node has none at all).
  std::string address;
  std::string network;
  /// Points into the snapshot: valid while the snapshot lives.
  const Instance* instance = nullptr;
};

/// True if an instance on a node in `status` with `health` receives traffic under `options`:
/// the node is Alive or Suspect, the instance is Passing (or Warning when included).
bool routable(NodeStatus status, Health health, const QueryOptions& options);

/// Healthy instances of `service` (every project), ordered by node id then instance id.
std::vector<Endpoint> healthy_instances(const Snapshot& snapshot, std::string_view service,
                                        const QueryOptions& options = {});

/// Every instance of `service` whatever its health, same order.
std::vector<Endpoint> all_instances(const Snapshot& snapshot, std::string_view service);

/// Names of every service in the snapshot, sorted, unique.
std::vector<std::string> service_names(const Snapshot& snapshot);

}  // namespace constellation::catalog
