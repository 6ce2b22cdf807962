// SPDX-License-Identifier: Apache-2.0
//
// The cluster snapshot as JSON: the minimal document a standalone DNS writer (apps/dnsbot) needs
// from an agent, or from a file (docs/dns.md, "Snapshot input"):
//   {"generation": 7, "complete": true,
//    "nodes": [{"id": "<32 hex>", "name": "edge-1", "status": "alive",
//               "roles": ["ingress"], "addresses": {"publicnet": "198.51.100.1"},
//               "instances": [{"id": "web-1", "service": "web", "health": "passing",
//                              "labels": {"traefik.http.routers.web.rule": "Host(`app.example.com`)"}}]}]}
// Optional members default as in catalog/model.hpp; unknown members are ignored (the agent's
// snapshot carries more than DNS needs).
#pragma once

#include <constellation/result.hpp>

#include "catalog/model.hpp"
#include "core/json.hpp"

#include <string_view>

namespace constellation::dns {

/// Errors: InvalidArgument with the JSON path of the bad member.
Result<catalog::Snapshot> snapshot_from_json(const core::json::Value& root);
Result<catalog::Snapshot> parse_snapshot(std::string_view text);
/// The same document (every field this module reads), deterministic.
core::json::Value snapshot_to_json(const catalog::Snapshot& snapshot);

}  // namespace constellation::dns
