// SPDX-License-Identifier: Apache-2.0
//
// Which node runs which replica, decided by every node alone from the same membership view, so
// no coordination is needed (rendezvous hashing, ADR 0033). Eligible nodes are ranked by a hash
// of (project, service, node id); with spread, replica i goes to the i-th ranked node (wrapping
// around when there are more replicas than nodes); without spread each replica picks its own
// winner, so replicas may share a node. A singleton is replica 1 on the top-ranked node — the
// lease named by singleton_lease() makes it exclusive while membership views differ. Global
// services run one replica on every eligible node. When a node joins or leaves only the replicas
// whose ranking changes move.
#pragma once

#include "spec/types.hpp"

#include <string>
#include <vector>

namespace constellation::spec {

struct NodeCandidate {
  std::string name;
  /// Stable identity (hex node id); the ranking hashes it, not the name.
  std::string id;
  std::vector<std::string> tags;
};

/// True when placement allows `node`: its name is listed (or none is) and it carries every tag.
bool eligible(const Placement& placement, const NodeCandidate& node);

/// Replica numbers (1-based, ascending) that node `self` should run out of `nodes` (the alive
/// members, `self` included).
std::vector<int> replicas_for(const ServiceSpec& service, const std::vector<NodeCandidate>& nodes,
                              const std::string& self);

/// "service/<project>/<name>": the lease a singleton's holder must own.
std::string singleton_lease(const ServiceSpec& service);

/// "<service>-<replica>", the instance id.
std::string instance_id(const ServiceSpec& service, int replica);

}  // namespace constellation::spec
