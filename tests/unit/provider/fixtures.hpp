// SPDX-License-Identifier: Apache-2.0
// Small builders for catalog snapshots in provider tests.
#pragma once

#include "catalog/model.hpp"
#include "catalog/snapshot_json.hpp"

#include <initializer_list>
#include <map>
#include <string>
#include <utility>

namespace constellation::provider::test {

using catalog::node_id_from_name;

inline catalog::Instance instance(std::string id, std::string service, std::map<std::string, std::string> labels,
                                  std::uint16_t target = 80, std::uint16_t published = 8080,
                                  catalog::Health health = catalog::Health::Passing) {
  catalog::Instance i;
  i.id = std::move(id);
  i.service = std::move(service);
  i.project = "shop";
  i.runtime = "docker";
  i.labels = std::move(labels);
  if (target) i.ports.push_back(catalog::PortBinding{target, published, "tcp", ""});
  i.networks = {"backend"};
  i.health = health;
  return i;
}

inline catalog::NodeView node(std::string name, std::string address, std::vector<catalog::Instance> instances,
                              catalog::NodeStatus status = catalog::NodeStatus::Alive) {
  catalog::NodeView v;
  v.entry.node.id = node_id_from_name(name);
  v.entry.node.name = std::move(name);
  v.entry.node.addresses["backend"] = std::move(address);
  v.entry.version = 1;
  v.entry.instances = std::move(instances);
  v.status = status;
  return v;
}

inline catalog::Snapshot snapshot(std::vector<catalog::NodeView> nodes, bool complete = true) {
  catalog::Snapshot s;
  s.generation = 1;
  s.complete = complete;
  for (auto& n : nodes) {
    auto id = n.entry.node.id;
    s.nodes.emplace(id, std::move(n));
  }
  return s;
}

}  // namespace constellation::provider::test
