// SPDX-License-Identifier: Apache-2.0
//
// The cluster state model every consumer reads: nodes (with their addresses on named networks),
// the service instances each node runs, and their health. Each node owns its own NodeEntry and
// versions it; gossip carries entries between nodes; the merged view is an immutable Snapshot.
//
// Contract: these types are shared by catalog, provider, dns, proxy, gossip glue and the agent.
// Fields may be appended; existing fields keep their meaning. Enum values are on the wire:
// append only.
#pragma once

#include "core/ids.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace constellation::catalog {

/// Health of a check or an instance. Append only: values are on the wire.
enum class Health : std::uint8_t {
  /// Every check passes.
  Passing = 0,
  /// Degraded but serving (a check in warning, or passing below its rise threshold after a fall).
  Warning = 1,
  /// Failing: not routed to.
  Critical = 2,
  /// Taken out of rotation by an operator; not routed to, not restarted.
  Maintenance = 3,
};

/// "passing", "warning", "critical", "maintenance".
std::string_view health_name(Health h);

/// How the cluster sees a node. Append only: values are on the wire.
enum class NodeStatus : std::uint8_t {
  Alive = 0,
  /// Suspected by gossip; still routed to until declared failed.
  Suspect = 1,
  /// Declared dead by gossip: none of its instances are routed to.
  Failed = 2,
  /// Left the cluster gracefully.
  Left = 3,
};

std::string_view node_status_name(NodeStatus s);

/// Names of the cluster networks every deployment knows; users may define others.
inline constexpr std::string_view kNetworkBackend = "backend";
inline constexpr std::string_view kNetworkPublic = "publicnet";
inline constexpr std::string_view kNetworkTailscale = "tailscale";
inline constexpr std::string_view kNetworkWarp = "warp";

struct Node {
  core::NodeId id;
  /// Unique node name ("edge-1").
  std::string name;
  /// Roles this node takes ("ingress", "dns", "voter").
  std::vector<std::string> roles;
  /// Free-form placement tags ("ssd", "eu").
  std::vector<std::string> tags;
  /// Agent version running on the node.
  std::string version;
  /// Network name → this node's address on it (an IPv4 or IPv6 literal, no brackets).
  std::map<std::string, std::string> addresses;

  friend bool operator==(const Node&, const Node&) = default;
};

struct PortBinding {
  /// The port the service listens on inside its container (or the process's own port).
  std::uint16_t target = 0;
  /// The port published on the node's addresses; 0 when not published.
  std::uint16_t published = 0;
  /// "tcp" or "udp".
  std::string protocol = "tcp";
  /// Host address the published port is bound to; empty for all addresses.
  std::string host_ip;

  friend bool operator==(const PortBinding&, const PortBinding&) = default;
};

struct CheckResult {
  std::string name;
  Health status = Health::Critical;
  /// Last output or error, truncated by the health module.
  std::string output;

  friend bool operator==(const CheckResult&, const CheckResult&) = default;
};

struct Instance {
  /// Unique within its node, e.g. "web-1" (service name and replica number).
  std::string id;
  /// Service name as in the compose file.
  std::string service;
  /// Compose project name (the directory or file the service came from).
  std::string project;
  /// "docker" or "process".
  std::string runtime;
  /// Container id or process id, as the runtime reports it.
  std::string runtime_id;
  /// Labels exactly as written in the compose file (Traefik's included).
  std::map<std::string, std::string> labels;
  std::vector<PortBinding> ports;
  /// Cluster networks the instance is reachable on (names of Node::addresses keys).
  std::vector<std::string> networks;
  Health health = Health::Critical;
  std::vector<CheckResult> checks;

  friend bool operator==(const Instance&, const Instance&) = default;
};

/// Everything one node owns and disseminates. Only the owner changes it, bumping `version`.
struct NodeEntry {
  Node node;
  /// Strictly increases with every change the owner makes.
  std::uint64_t version = 0;
  /// Sorted by id.
  std::vector<Instance> instances;

  friend bool operator==(const NodeEntry&, const NodeEntry&) = default;
};

/// A node as the merged cluster view has it: its latest entry plus gossip's verdict on it.
struct NodeView {
  NodeEntry entry;
  NodeStatus status = NodeStatus::Alive;

  friend bool operator==(const NodeView&, const NodeView&) = default;
};

/// An immutable view of the whole cluster, published by the control loop to readers on other
/// threads (as shared_ptr<const Snapshot>).
struct Snapshot {
  /// Increases every time a changed snapshot is published.
  std::uint64_t generation = 0;
  /// True once this node has merged a full state exchange with the cluster (or is alone by
  /// configuration). Consumers that could do harm with a partial view (the Traefik endpoint,
  /// DNS deletions) wait for it.
  bool complete = false;
  /// Every known node, ordered by id so iteration is deterministic.
  std::map<core::NodeId, NodeView> nodes;

  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

}  // namespace constellation::catalog
