// SPDX-License-Identifier: Apache-2.0
#include "spec/placement.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>

using namespace constellation::spec;

namespace {

std::vector<NodeCandidate> nodes(int n) {
  std::vector<NodeCandidate> out;
  for (int i = 1; i <= n; ++i) {
    out.push_back({"node-" + std::to_string(i), "id" + std::to_string(i * 7919), i % 2 ? std::vector<std::string>{"ssd"}
                                                                                        : std::vector<std::string>{}});
  }
  return out;
}

ServiceSpec service(int replicas) {
  ServiceSpec s;
  s.project = "shop";
  s.name = "web";
  s.replicas = replicas;
  return s;
}

// replica -> nodes running it
std::map<int, std::vector<std::string>> assignment(const ServiceSpec& s, const std::vector<NodeCandidate>& ns) {
  std::map<int, std::vector<std::string>> out;
  for (const auto& n : ns) {
    for (int r : replicas_for(s, ns, n.name)) out[r].push_back(n.name);
  }
  return out;
}

}  // namespace

TEST_CASE("every replica runs on exactly one node, spread over distinct nodes") {
  auto ns = nodes(5);
  auto a = assignment(service(3), ns);
  REQUIRE(a.size() == 3);
  std::set<std::string> used;
  for (const auto& [r, on] : a) {
    REQUIRE(on.size() == 1);
    used.insert(on[0]);
  }
  CHECK(used.size() == 3);
}

TEST_CASE("more replicas than nodes wrap around; a lone node runs them all") {
  auto a = assignment(service(7), nodes(3));
  REQUIRE(a.size() == 7);
  std::map<std::string, int> per_node;
  for (const auto& [r, on] : a) per_node[on.at(0)]++;
  for (const auto& [n, count] : per_node) CHECK((count == 2 || count == 3));
  CHECK(replicas_for(service(3), nodes(1), "node-1") == std::vector<int>{1, 2, 3});
  CHECK(replicas_for(service(3), nodes(1), "node-9").empty());
}

TEST_CASE("placement by node name and tags; singleton and global") {
  auto ns = nodes(6);
  auto s = service(2);
  s.placement.tags = {"ssd"};
  for (const auto& [r, on] : assignment(s, ns)) {
    for (const auto& n : on) CHECK((n == "node-1" || n == "node-3" || n == "node-5"));
  }
  s = service(1);
  s.placement.nodes = {"node-4"};
  CHECK(assignment(s, ns) == std::map<int, std::vector<std::string>>{{1, {"node-4"}}});
  s = service(1);
  s.placement.singleton = true;
  CHECK(assignment(s, ns).at(1).size() == 1);
  s = service(1);
  s.placement.global = true;
  s.placement.tags = {"ssd"};
  CHECK(assignment(s, ns).at(1) == std::vector<std::string>{"node-1", "node-3", "node-5"});
}

TEST_CASE("a node leaving moves only the replicas it ran") {
  auto ns = nodes(8);
  auto s = service(4);
  auto before = assignment(s, ns);
  std::string gone = before.at(2).at(0);
  std::vector<NodeCandidate> rest;
  for (const auto& n : ns) {
    if (n.name != gone) rest.push_back(n);
  }
  auto after = assignment(s, rest);
  int moved = 0;
  for (const auto& [r, on] : before) moved += after.at(r) != on;
  // Spread ranks the same list; dropping one node shifts replicas ranked after it by one.
  CHECK(moved <= 3);
  CHECK(after.at(1) == before.at(1));
}

TEST_CASE("without spread replicas choose independently and are stable") {
  auto s = service(5);
  s.placement.spread = false;
  auto a = assignment(s, nodes(4));
  CHECK(a.size() == 5);
  CHECK(a == assignment(s, nodes(4)));
  CHECK(instance_id(s, 3) == "web-3");
  CHECK(singleton_lease(s) == "service/shop/web");
}
