// SPDX-License-Identifier: Apache-2.0
#include "dns/plan.hpp"
#include "fixtures.hpp"

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::dns;
using namespace dnstest;
using namespace std::chrono_literals;

namespace {

const ProviderCaps kCloudflare{.comments = true, .tags = false, .proxied = true, .auto_ttl = true, .min_ttl = 60, .default_ttl = 300, .max_comment = 100};

struct Harness {
  DnsConfig cfg = config();
  DeletionTracker tracker;
  std::vector<ObservedRecord> observed;
  core::Instant now = core::Instant::from_nanos(0) + std::chrono::hours(1);
  bool complete = true;
  core::Instant holder_since = core::Instant::from_nanos(0);
  ProviderCaps caps = kCloudflare;

  Plan plan(const catalog::Snapshot& snap) {
    DesiredState d = desired_state(snap, cfg);
    PlanInput in;
    in.config = &cfg;
    in.desired = &d;
    in.observed["example.com"] = observed;
    in.caps["example.com"] = caps;
    in.now = now;
    in.snapshot_complete = complete;
    in.holder_since = holder_since;
    return compute_plan(in, tracker);
  }
  // Applies a plan's changes to `observed`, as a provider would.
  void apply(const Plan& p) {
    for (const auto& z : p.zones) {
      for (const auto& c : z.changes) {
        if (c.before) {
          std::erase_if(observed, [&](const ObservedRecord& o) { return o.id == c.before->id; });
        }
        if (c.after) observed.push_back({*c.after, "id-" + std::to_string(next_id++), true});
      }
    }
  }
  ObservedRecord owned(std::string name, std::string ip, std::uint32_t ttl = 300) {
    return {{name, RecordType::A, ip, ttl, false, cfg.marker.comment(), {}}, "id-" + std::to_string(next_id++), true};
  }
  ObservedRecord foreign(std::string name, RecordType t, std::string content) {
    return {{name, t, content, 300, false, "hand-made", {}}, "id-" + std::to_string(next_id++), false};
  }
  int next_id = 100;
};

SnapshotBuilder two_ingress_with(std::vector<std::string> hosts) {
  SnapshotBuilder b;
  b.node(1, {"ingress"}, "198.51.100.1").node(2, {"ingress"}, "198.51.100.2").node(3, {}, "198.51.100.3");
  int i = 0;
  for (const auto& h : hosts) b.instance(3, "svc-" + std::to_string(i++), rule("Host(`" + h + "`)"));
  return b;
}

}  // namespace

TEST_CASE("plan: creates with the marker, then converges to no changes (no update loop)") {
  Harness h;
  auto snap = two_ingress_with({"a.example.com", "b.example.com"}).snap;
  auto p = h.plan(snap);
  CHECK(p.count(ChangeKind::Create) == 4);
  for (const auto& c : p.zones[0].changes) CHECK(c.after->comment == "managed-by=constellation owner=test");
  h.apply(p);
  auto again = h.plan(snap);
  CHECK(again.empty());
  CHECK(again.held_count() == 0);
}

TEST_CASE("plan: proxied records with a TTL do not loop (the provider returns TTL 1)") {
  Harness h;
  SnapshotBuilder b;
  b.node(1, {"ingress"}, "198.51.100.1").instance(1, "w", {{"traefik.http.routers.w.rule", "Host(`w.example.com`)"},
                                                         {"constellation.dns.proxied", "true"}, {"constellation.dns.ttl", "300"}});
  auto p = h.plan(b.snap);
  REQUIRE(p.count(ChangeKind::Create) == 1);
  CHECK(p.zones[0].changes[0].after->ttl == 1);
  // The provider echoes upper-case, trailing-dot names and TTL 1.
  ObservedRecord back{*p.zones[0].changes[0].after, "x1", true};
  back.record.name = "W.Example.com.";
  h.observed = {back};
  CHECK(h.plan(b.snap).empty());
}

TEST_CASE("plan: records without our marker are never changed or deleted; the name is a conflict") {
  Harness h;
  h.observed = {h.foreign("a.example.com", RecordType::A, "203.0.113.9"),
                h.foreign("gone.example.com", RecordType::A, "203.0.113.10"),
                h.foreign("a.example.com", RecordType::TXT, "v=spf1 -all")};
  auto p = h.plan(two_ingress_with({"a.example.com"}).snap);
  CHECK(p.empty());
  CHECK(p.zones[0].conflicts == std::vector<std::string>{"a.example.com"});
  // A foreign TXT alone does not block A records.
  h.observed = {h.foreign("b.example.com", RecordType::TXT, "x")};
  CHECK(h.plan(two_ingress_with({"b.example.com"}).snap).count(ChangeKind::Create) == 2);
  // A foreign record blocks a CNAME whatever its type.
  SnapshotBuilder b;
  b.node(1, {"ingress"}, "198.51.100.1").instance(1, "c", {{"traefik.http.routers.c.rule", "Host(`b.example.com`)"}, {"constellation.dns.target", "cname:edge.example.net"}});
  CHECK(h.plan(b.snap).empty());
}

TEST_CASE("plan: a failed node's address leaves the record set at once; updates keep provider ids") {
  Harness h;
  h.observed = {h.owned("a.example.com", "198.51.100.1"), h.owned("a.example.com", "198.51.100.2"),
                h.owned("b.example.com", "198.51.100.1"), h.owned("b.example.com", "198.51.100.2")};
  auto b = two_ingress_with({"a.example.com", "b.example.com"});
  CHECK(h.plan(b.snap).empty());
  b.status(2, catalog::NodeStatus::Failed);
  auto p = h.plan(b.snap);
  CHECK(p.count(ChangeKind::Delete) == 2);
  CHECK(p.held_count() == 0);
  // Node 2 replaced by node 4: content updates in place.
  h.apply(p);
  b.node(4, {"ingress"}, "198.51.100.4");
  p = h.plan(b.snap);
  CHECK(p.count(ChangeKind::Create) == 2);
  b.status(1, catalog::NodeStatus::Failed);
  h.apply(p);
  p = h.plan(b.snap);
  CHECK(p.count(ChangeKind::Delete) == 2);
  // TTL change is an update of the same record id.
  h.apply(p);
  h.cfg.zones[0].ttl = 60;
  p = h.plan(b.snap);
  REQUIRE(p.count(ChangeKind::Update) == 2);
  CHECK(p.zones[0].changes[0].reason == "ttl 300 -> 60");
  CHECK_FALSE(p.zones[0].changes[0].before->id.empty());
}

TEST_CASE("plan: a removed name waits for the grace period, and is kept if it comes back") {
  Harness h;
  h.cfg.safety.delete_floor = 10;
  h.observed = {h.owned("a.example.com", "198.51.100.1"), h.owned("old.example.com", "198.51.100.1")};
  SnapshotBuilder b;
  b.node(1, {"ingress"}, "198.51.100.1").instance(1, "a", rule("Host(`a.example.com`)"));
  auto p = h.plan(b.snap);
  CHECK(p.empty());
  REQUIRE(p.held_count() == 1);
  CHECK(p.zones[0].held[0].reason == "grace period");
  REQUIRE(p.zones[0].held[0].eligible_at);
  CHECK(*p.zones[0].held[0].eligible_at == h.now + 10min);
  h.now += 9min;
  CHECK(h.plan(b.snap).empty());
  h.now += 1min;
  p = h.plan(b.snap);
  REQUIRE(p.count(ChangeKind::Delete) == 1);
  CHECK(p.zones[0].changes[0].before->record.name == "old.example.com");
  // Back before the grace ends: the clock restarts.
  h.now += 5min;
  b.instance(1, "old", rule("Host(`old.example.com`)"));
  CHECK(h.plan(b.snap).empty());
  CHECK(h.tracker.size() == 0);
}

TEST_CASE("plan: abnormal shrink — empty desired state or most names gone — refuses deletions") {
  Harness h;
  h.cfg.safety.deletion_grace = 0s;
  for (int i = 0; i < 10; ++i) h.observed.push_back(h.owned("h" + std::to_string(i) + ".example.com", "198.51.100.1"));
  SnapshotBuilder empty;
  empty.node(1, {"ingress"}, "198.51.100.1");
  auto p = h.plan(empty.snap);
  CHECK(p.empty());
  CHECK(p.held_count() == 10);
  REQUIRE(p.refused);
  CHECK(p.refused->find("desired state is empty") != std::string::npos);
  // 6 of 10 names gone: more than half.
  auto b = two_ingress_with({"h0.example.com", "h1.example.com", "h2.example.com", "h3.example.com"});
  b.status(2, catalog::NodeStatus::Failed);
  p = h.plan(b.snap);
  CHECK(p.refused);
  CHECK(p.count(ChangeKind::Delete) == 0);
  // 3 of 10 gone (at the floor): allowed.
  b = two_ingress_with({"h0.example.com", "h1.example.com", "h2.example.com", "h3.example.com", "h4.example.com", "h5.example.com", "h6.example.com"});
  b.status(2, catalog::NodeStatus::Failed);
  p = h.plan(b.snap);
  CHECK_FALSE(p.refused);
  CHECK(p.count(ChangeKind::Delete) == 3);
}

TEST_CASE("plan: partial cluster view and a fresh lease holder hold every deletion") {
  Harness h;
  h.observed = {h.owned("a.example.com", "198.51.100.1"), h.owned("a.example.com", "198.51.100.9")};
  auto b = two_ingress_with({"a.example.com"});
  h.complete = false;
  auto p = h.plan(b.snap);
  CHECK(p.count(ChangeKind::Delete) == 0);
  CHECK(p.count(ChangeKind::Update) == 1);  // .9 → .2 keeps the set's size: allowed
  h.observed.push_back(h.owned("a.example.com", "198.51.100.8"));
  p = h.plan(b.snap);
  REQUIRE(p.held_count() == 1);
  CHECK(p.zones[0].held[0].reason == "the cluster view is partial");
  h.complete = true;
  h.cfg.safety.holder_settle = 60s;
  h.holder_since = h.now - 10s;
  p = h.plan(b.snap);
  REQUIRE(p.held_count() == 1);
  CHECK(p.zones[0].held[0].reason.find("fresh") != std::string::npos);
  h.holder_since = h.now - 60s;
  CHECK(h.plan(b.snap).count(ChangeKind::Delete) == 1);
}

TEST_CASE("plan: policies upsert-only and create-only") {
  Harness h;
  h.cfg.safety.deletion_grace = 0s;
  h.cfg.safety.delete_floor = 100;
  h.observed = {h.owned("a.example.com", "198.51.100.7", 60), h.owned("gone.example.com", "198.51.100.1")};
  auto b = two_ingress_with({"a.example.com"});
  h.cfg.zones[0].policy = Policy::UpsertOnly;
  auto p = h.plan(b.snap);
  CHECK(p.count(ChangeKind::Delete) == 0);
  CHECK(p.count(ChangeKind::Update) == 1);
  CHECK(p.count(ChangeKind::Create) == 1);
  h.cfg.zones[0].policy = Policy::CreateOnly;
  p = h.plan(b.snap);
  CHECK(p.count(ChangeKind::Delete) == 0);
  CHECK(p.count(ChangeKind::Update) == 0);
  CHECK(p.count(ChangeKind::Create) == 2);
  h.cfg.zones[0].policy = Policy::Sync;
  p = h.plan(b.snap);
  CHECK(p.count(ChangeKind::Delete) == 1);
}

TEST_CASE("plan: switching A to CNAME deletes and creates together, held together") {
  Harness h;
  h.observed = {h.owned("a.example.com", "198.51.100.1")};
  SnapshotBuilder b;
  b.node(1, {"ingress"}, "198.51.100.1").instance(1, "a", {{"traefik.http.routers.a.rule", "Host(`a.example.com`)"}, {"constellation.dns.target", "cname:edge.example.net"}});
  auto p = h.plan(b.snap);
  CHECK(p.count(ChangeKind::Delete) == 1);
  CHECK(p.count(ChangeKind::Create) == 1);
  CHECK(p.zones[0].changes[0].kind == ChangeKind::Delete);  // deletes first
  h.complete = false;
  p = h.plan(b.snap);
  CHECK(p.empty());
  CHECK(p.held_count() == 2);
  auto text = format_plan(p, h.now);
  CHECK(text.find("held: waits for held deletions") != std::string::npos);
  auto json = serialize(plan_to_json(p, h.now));
  CHECK(json.find("\"held\":2") != std::string::npos);
}
