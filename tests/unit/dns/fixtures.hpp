// SPDX-License-Identifier: Apache-2.0
// Snapshot and config builders shared by the dns unit tests.
#pragma once

#include "catalog/model.hpp"
#include "dns/config.hpp"

#include <array>
#include <string>
#include <vector>

namespace dnstest {

using namespace constellation;

inline core::NodeId node_id(int n) {
  std::array<std::uint8_t, 16> b{};
  b[15] = static_cast<std::uint8_t>(n);
  b[14] = static_cast<std::uint8_t>(n >> 8);
  return core::NodeId(b);
}

struct SnapshotBuilder {
  catalog::Snapshot snap;
  SnapshotBuilder() { snap.complete = true; snap.generation = 1; }

  SnapshotBuilder& node(int n, std::vector<std::string> roles, std::string v4, std::string v6 = {},
                        catalog::NodeStatus status = catalog::NodeStatus::Alive) {
    catalog::NodeView v;
    v.entry.node.id = node_id(n);
    v.entry.node.name = "node-" + std::to_string(n);
    v.entry.node.roles = std::move(roles);
    if (!v4.empty()) v.entry.node.addresses["publicnet"] = v4;
    if (!v6.empty()) v.entry.node.addresses["publicnet6"] = v6;
    v.status = status;
    snap.nodes[node_id(n)] = v;
    return *this;
  }
  SnapshotBuilder& instance(int n, std::string id, std::map<std::string, std::string> labels,
                            catalog::Health h = catalog::Health::Passing) {
    catalog::Instance i;
    i.id = id;
    i.service = id;
    i.labels = std::move(labels);
    i.health = h;
    snap.nodes[node_id(n)].entry.instances.push_back(i);
    return *this;
  }
  SnapshotBuilder& status(int n, catalog::NodeStatus s) {
    snap.nodes[node_id(n)].status = s;
    return *this;
  }
};

inline dns::DnsConfig config(dns::TargetPolicy targets = dns::TargetPolicy::Ingress, dns::Policy policy = dns::Policy::Sync) {
  dns::DnsConfig c;
  c.marker.owner = "test";
  dns::ZoneConfig z;
  z.name = "example.com";
  z.provider = "p";
  z.targets = targets;
  z.policy = policy;
  z.ttl = 300;
  c.zones.push_back(z);
  c.safety.deletion_grace = std::chrono::minutes(10);
  c.safety.holder_settle = std::chrono::seconds(0);
  return c;
}

inline std::map<std::string, std::string> rule(std::string r) { return {{"traefik.http.routers.r.rule", std::move(r)}}; }

}  // namespace dnstest
