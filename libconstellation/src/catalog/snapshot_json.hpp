// SPDX-License-Identifier: Apache-2.0
//
// The catalog snapshot as a JSON document: what the agent serves at GET /v1/catalog, the state
// format of the offline Traefik `render` call and CLI and of dnsbot's snapshot input, and of the
// golden tests. Specified in docs/traefik.md ("State file"):
//
//   {"generation": 7, "complete": true,
//    "nodes": [{"id": "<32 hex>", "name": "edge-1", "status": "alive", "version": 3,
//               "agent_version": "0.1.0", "roles": [...], "tags": [...],
//               "addresses": {"backend": "10.0.0.1"},
//               "instances": [{"id": "web-1", "service": "web", "project": "shop",
//                              "runtime": "docker", "runtime_id": "...", "labels": {...},
//                              "ports": [{"target": 80, "published": 8080, "protocol": "tcp",
//                                         "host_ip": ""}],
//                              "networks": ["backend"], "health": "passing",
//                              "checks": [{"name": "http", "status": "passing", "output": ""}]}]}]}
//
// Only "nodes[].name" and "instances[].id" are required; a node without "id" gets one derived
// from its name. Unknown keys are errors by default (a misspelt key must not silently change the
// state); readers of a newer agent's documents can choose to ignore them.
#pragma once

#include <constellation/result.hpp>

#include "catalog/model.hpp"
#include "core/json.hpp"

#include <string>
#include <string_view>

namespace constellation::catalog {

/// Parses a state document. Errors (InvalidArgument): invalid JSON, a missing or mistyped field,
/// an unknown key, a bad enum value, a duplicate node id or instance id — each naming its path,
/// e.g. "nodes[1].instances[0].ports[0].published: expected integer, got string".
struct SnapshotJsonOptions {
  /// Unknown keys are errors (default) or ignored.
  bool reject_unknown_keys = true;
};

Result<catalog::Snapshot> snapshot_from_json(std::string_view text, const SnapshotJsonOptions& options = {});
/// The same, from an already parsed document.
Result<catalog::Snapshot> snapshot_from_value(const core::json::Value& root, const SnapshotJsonOptions& options = {});

/// Writes a snapshot in the same format (keys in a fixed order, indented by `indent`).
std::string snapshot_to_json(const catalog::Snapshot& snapshot, int indent = 2);

/// The id a node without one in the state file gets: a hash of its name.
core::NodeId node_id_from_name(std::string_view name);

}  // namespace constellation::catalog
