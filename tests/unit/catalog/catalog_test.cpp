// SPDX-License-Identifier: Apache-2.0
#include "catalog/catalog.hpp"
#include "catalog/codec.hpp"
#include "fixtures.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace constellation;
using namespace constellation::catalog;
using namespace constellation::catalog::testing;

namespace {

std::map<core::NodeId, NodeEntry> state_of(const Catalog& c) {
  std::map<core::NodeId, NodeEntry> out;
  for (const auto& d : c.digest()) out[d.id] = c.find(d.id)->entry;
  return out;
}

}  // namespace

TEST_CASE("a higher version replaces, a lower or equal one does not") {
  Catalog c;
  CHECK(c.merge(entry(1, 5, {instance("web", 1)})) == MergeOutcome::Applied);
  CHECK(c.merge(entry(1, 4, {})) == MergeOutcome::Stale);
  CHECK(c.merge(entry(1, 5, {instance("web", 1)})) == MergeOutcome::Duplicate);
  CHECK(c.merge(entry(1, 6, {})) == MergeOutcome::Applied);
  CHECK(c.find(node_id(1))->entry.instances.empty());
  CHECK(c.find(node_id(1))->status == NodeStatus::Alive);
}

TEST_CASE("an invalid entry is rejected and changes nothing") {
  Catalog c;
  auto bad = entry(1, 1, {instance("web", 1), instance("web", 2)});
  std::swap(bad.instances[0], bad.instances[1]);  // unsorted
  CHECK(c.merge(bad) == MergeOutcome::Rejected);
  auto zero = entry(1, 1);
  zero.node.id = core::NodeId();
  CHECK(c.merge(zero) == MergeOutcome::Rejected);
  CHECK(c.size() == 0);
  CHECK_FALSE(c.dirty());
}

TEST_CASE("equal versions with different contents resolve the same way in either order") {
  auto a = entry(1, 7, {instance("web", 1)});
  auto b = entry(1, 7, {instance("api", 1)});
  CHECK(winner(a, b) == winner(b, a));
  Catalog x, y;
  x.merge(a);
  x.merge(b);
  y.merge(b);
  y.merge(a);
  CHECK(state_of(x) == state_of(y));
}

TEST_CASE("merge is commutative, associative and idempotent over random histories") {
  core::Rng rng(42);
  for (int round = 0; round < 80; ++round) {
    std::vector<NodeEntry> offers;
    int n = 1 + static_cast<int>(rng.below(20));
    for (int i = 0; i < n; ++i) {
      auto node = static_cast<std::uint8_t>(1 + rng.below(4));
      offers.push_back(random_entry(rng, node, rng.below(5), 1 + static_cast<int>(rng.below(3))));
    }
    Catalog reference;
    for (const auto& e : offers) reference.merge(e);
    auto expected = state_of(reference);
    for (int perm = 0; perm < 5; ++perm) {
      auto shuffled = offers;
      rng.shuffle(std::span<NodeEntry>(shuffled));
      // Duplicate some offers: idempotence.
      for (int d = 0; d < 3 && !shuffled.empty(); ++d) shuffled.push_back(shuffled[rng.below(shuffled.size())]);
      Catalog c;
      for (const auto& e : shuffled) c.merge(e);
      REQUIRE(state_of(c) == expected);
      // Associativity: merging two catalogs' states in pieces gives the same.
      Catalog left, right;
      for (std::size_t i = 0; i < shuffled.size(); ++i) (i % 2 ? left : right).merge(shuffled[i]);
      for (const auto& [id, e] : state_of(right)) left.merge(e);
      REQUIRE(state_of(left) == expected);
    }
  }
}

TEST_CASE("publish creates a new immutable snapshot only when something changed") {
  Catalog c;
  auto s0 = c.publish();
  CHECK(s0->generation == 0);
  CHECK(c.publish() == s0);
  c.merge(entry(1, 1, {instance("web", 1)}));
  auto s1 = c.publish();
  CHECK(s1->generation == 1);
  CHECK(s1->nodes.size() == 1);
  CHECK(s0->nodes.empty());  // readers of the old snapshot are unaffected
  c.merge(entry(1, 1, {instance("web", 1)}));
  CHECK(c.publish() == s1);  // duplicate: no change
  c.set_complete(true);
  auto s2 = c.publish();
  CHECK(s2->generation == 2);
  CHECK(s2->complete);
}

TEST_CASE("subscribers see every published change with the nodes that changed") {
  Catalog c;
  std::vector<Change> seen;
  std::vector<std::uint64_t> generations;
  auto h = c.subscribe([&](const SnapshotPtr& s, const Change& ch) {
    seen.push_back(ch);
    generations.push_back(s->generation);
  });
  c.merge(entry(2, 1));
  c.merge(entry(1, 1));
  c.publish();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].updated == std::vector<core::NodeId>{node_id(1), node_id(2)});
  CHECK(c.set_status(node_id(2), NodeStatus::Suspect));
  CHECK_FALSE(c.set_status(node_id(2), NodeStatus::Suspect));
  CHECK_FALSE(c.set_status(node_id(9), NodeStatus::Failed));
  c.remove(node_id(1));
  c.publish();
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].updated == std::vector<core::NodeId>{node_id(2)});
  CHECK(seen[1].removed == std::vector<core::NodeId>{node_id(1)});
  CHECK(generations == std::vector<std::uint64_t>{1, 2});
  c.unsubscribe(h);
  c.merge(entry(3, 1));
  c.publish();
  CHECK(seen.size() == 2);
}

TEST_CASE("membership status survives newer entries and decides routing") {
  Catalog c;
  c.merge(entry(1, 1, {instance("web", 1)}));
  c.merge(entry(2, 1, {instance("web", 2)}));
  c.merge(entry(3, 1, {instance("web", 3)}));
  c.set_status(node_id(2), NodeStatus::Suspect);
  c.set_status(node_id(3), NodeStatus::Failed);
  c.merge(entry(3, 2, {instance("web", 3)}));
  CHECK(c.find(node_id(3))->status == NodeStatus::Failed);
  auto s = c.publish();
  auto eps = healthy_instances(*s, "web");
  REQUIRE(eps.size() == 2);  // alive and suspect, not failed
  CHECK(eps[0].instance->id == "web-1");
  CHECK(eps[1].instance->id == "web-2");
  CHECK(eps[0].address == "10.0.0.1");
  CHECK(eps[0].network == "backend");
}

TEST_CASE("queries filter by health and network") {
  Catalog c;
  auto warn = instance("web", 2, Health::Warning);
  auto crit = instance("web", 3, Health::Critical);
  auto maint = instance("web", 4, Health::Maintenance);
  auto ts_only = instance("web", 5);
  ts_only.networks = {"tailscale"};
  c.merge(entry(1, 1, {instance("web", 1), instance("db", 1)}));
  c.merge(entry(2, 1, {warn}));
  c.merge(entry(3, 1, {crit}));
  c.merge(entry(4, 1, {maint}));
  auto e5 = entry(5, 1, {ts_only});
  c.merge(e5);
  auto e6 = entry(6, 1, {instance("web", 6)});
  e6.node.addresses.erase("tailscale");
  c.merge(e6);
  auto s = c.publish();

  auto ids = [](const std::vector<Endpoint>& eps) {
    std::vector<std::string> out;
    for (const auto& e : eps) out.push_back(e.instance->id + "@" + e.address);
    return out;
  };
  CHECK(ids(healthy_instances(*s, "web")) ==
        std::vector<std::string>{"web-1@10.0.0.1", "web-5@10.0.0.5", "web-6@10.0.0.6"});
  QueryOptions warn_too;
  warn_too.include_warning = true;
  CHECK(ids(healthy_instances(*s, "web", warn_too)) ==
        std::vector<std::string>{"web-1@10.0.0.1", "web-2@10.0.0.2", "web-5@10.0.0.5", "web-6@10.0.0.6"});
  QueryOptions ts;
  ts.network = "tailscale";
  // web-1 lists only backend; node 6 has no tailscale address.
  CHECK(ids(healthy_instances(*s, "web", ts)) == std::vector<std::string>{"web-5@100.64.0.5"});
  QueryOptions bk;
  bk.network = "backend";
  CHECK(ids(healthy_instances(*s, "web", bk)) == std::vector<std::string>{"web-1@10.0.0.1", "web-6@10.0.0.6"});
  CHECK(all_instances(*s, "web").size() == 6);
  CHECK(service_names(*s) == std::vector<std::string>{"db", "web"});
  CHECK(healthy_instances(*s, "nope").empty());
}

TEST_CASE("anti-entropy: newer_than lists what the peer lacks or holds older") {
  Catalog c;
  c.merge(entry(1, 3));
  c.merge(entry(2, 5));
  c.merge(entry(3, 1));
  std::vector<DigestItem> theirs{{node_id(1), 3}, {node_id(2), 4}};
  auto out = c.newer_than(theirs);
  REQUIRE(out.size() == 2);
  CHECK(out[0]->node.id == node_id(2));
  CHECK(out[1]->node.id == node_id(3));
  CHECK(c.digest() == std::vector<DigestItem>{{node_id(1), 3}, {node_id(2), 5}, {node_id(3), 1}});
}
