// SPDX-License-Identifier: Apache-2.0
// Builders for catalog tests and benchmarks.
#pragma once

#include "catalog/model.hpp"
#include "core/rng.hpp"

#include <algorithm>
#include <string>

namespace constellation::catalog::testing {

inline core::NodeId node_id(std::uint8_t n) {
  std::array<std::uint8_t, 16> b{};
  b[15] = n;
  b[0] = 0x10;
  return core::NodeId(b);
}

inline Instance instance(std::string service, int replica, Health health = Health::Passing) {
  Instance in;
  in.id = service + "-" + std::to_string(replica);
  in.service = std::move(service);
  in.project = "shop";
  in.runtime = "process";
  in.runtime_id = std::to_string(1000 + replica);
  in.labels["traefik.enable"] = "true";
  in.labels["traefik.http.routers." + in.service + ".rule"] = "Host(`" + in.service + ".example.com`)";
  in.ports.push_back({8080, static_cast<std::uint16_t>(18000 + replica), "tcp", ""});
  in.networks = {"backend"};
  in.health = health;
  in.checks.push_back({"http", health, "HTTP 200"});
  return in;
}

inline NodeEntry entry(std::uint8_t n, std::uint64_t version, std::vector<Instance> instances = {}) {
  NodeEntry e;
  e.node.id = node_id(n);
  e.node.name = "node-" + std::to_string(n);
  e.node.roles = {"worker"};
  e.node.tags = {"ssd"};
  e.node.version = "0.1.0";
  e.node.addresses["backend"] = "10.0.0." + std::to_string(n);
  e.node.addresses["tailscale"] = "100.64.0." + std::to_string(n);
  e.version = version;
  std::sort(instances.begin(), instances.end(), [](const Instance& a, const Instance& b) { return a.id < b.id; });
  e.instances = std::move(instances);
  return e;
}

/// A node with `services` services, one instance each, with random health.
inline NodeEntry random_entry(core::Rng& rng, std::uint8_t n, std::uint64_t version, int services) {
  std::vector<Instance> in;
  for (int s = 0; s < services; ++s) {
    in.push_back(instance("svc" + std::to_string(s), n, static_cast<Health>(rng.below(3))));
  }
  return entry(n, version, std::move(in));
}

}  // namespace constellation::catalog::testing
