// SPDX-License-Identifier: Apache-2.0
#include "dns/desired.hpp"
#include "dns/snapshot_json.hpp"
#include "fixtures.hpp"

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::dns;
using namespace dnstest;

namespace {
std::vector<std::string> contents(const DesiredState& d, std::string_view name, RecordType t) {
  std::vector<std::string> out;
  for (const auto& r : d.zones.at("example.com")) {
    if (r.name == name && r.type == t) out.push_back(r.content);
  }
  return out;
}
}  // namespace

TEST_CASE("desired: ingress policy points every routed host at the live ingress nodes") {
  SnapshotBuilder b;
  b.node(1, {"ingress"}, "198.51.100.1").node(2, {"ingress"}, "198.51.100.2").node(3, {}, "198.51.100.3")
      .node(4, {"ingress"}, "198.51.100.4", {}, catalog::NodeStatus::Failed)
      .instance(3, "web-1", rule("Host(`App.example.com`) || Host(`www.example.com`)"))
      .instance(3, "api-1", {{"traefik.http.routers.api.rule", "Host(`api.example.com`, `api2.example.com`) && PathPrefix(`/v1`)"},
                             {"constellation.dns.hostnames", "extra.example.com, other.example.org"}});
  auto d = desired_state(b.snap, config());
  CHECK(d.hostnames == std::vector<std::string>{"api.example.com", "api2.example.com", "app.example.com", "extra.example.com", "www.example.com"});
  CHECK(contents(d, "app.example.com", RecordType::A) == std::vector<std::string>{"198.51.100.1", "198.51.100.2"});
  CHECK(contents(d, "extra.example.com", RecordType::A).size() == 2);
  CHECK(d.record_count() == 10);
  REQUIRE(d.notes.size() == 1);
  CHECK(d.notes[0].find("other.example.org is in no configured zone") != std::string::npos);
}

TEST_CASE("desired: instances policy follows healthy instances, falls back to live runners") {
  SnapshotBuilder b;
  b.node(1, {}, "198.51.100.1").node(2, {}, "198.51.100.2").node(3, {}, "198.51.100.3")
      .instance(1, "web-1", rule("Host(`app.example.com`)"), catalog::Health::Passing)
      .instance(2, "web-2", rule("Host(`app.example.com`)"), catalog::Health::Critical)
      .instance(3, "db-1", rule("Host(`db.example.com`)"), catalog::Health::Critical);
  auto d = desired_state(b.snap, config(TargetPolicy::Instances));
  CHECK(contents(d, "app.example.com", RecordType::A) == std::vector<std::string>{"198.51.100.1"});
  CHECK(contents(d, "db.example.com", RecordType::A) == std::vector<std::string>{"198.51.100.3"});
  b.status(1, catalog::NodeStatus::Failed);
  d = desired_state(b.snap, config(TargetPolicy::Instances));
  CHECK(contents(d, "app.example.com", RecordType::A) == std::vector<std::string>{"198.51.100.2"});
}

TEST_CASE("desired: labels choose CNAME, TTL, proxied; opt-outs and bad labels are notes") {
  SnapshotBuilder b;
  b.node(1, {"ingress"}, "198.51.100.1", "2001:db8::1")
      .instance(1, "a", {{"traefik.http.routers.a.rule", "Host(`a.example.com`)"}, {"constellation.dns.target", "cname:Edge.Example.net."},
                         {"constellation.dns.ttl", "60"}, {"constellation.dns.proxied", "true"}})
      .instance(1, "b", {{"traefik.http.routers.b.rule", "Host(`b.example.com`)"}, {"traefik.enable", "false"}})
      .instance(1, "c", {{"traefik.http.routers.c.rule", "Host(`c.example.com`)"}, {"constellation.dns.enable", "false"}})
      .instance(1, "d", {{"traefik.http.routers.d.rule", "Host(`d.example.com`"}})
      .instance(1, "e", {{"traefik.http.routers.e.rule", "Host(`e.example.com`)"}, {"constellation.dns.ttl", "soon"}})
      .instance(1, "f", {{"traefik.tcp.routers.f.rule", "HostSNI(`f.example.com`)"}});
  auto cfg = config();
  auto d = desired_state(b.snap, cfg);
  REQUIRE(contents(d, "a.example.com", RecordType::CNAME) == std::vector<std::string>{"edge.example.net"});
  for (const auto& r : d.zones.at("example.com")) {
    if (r.name == "a.example.com") {
      CHECK(r.ttl == 60);
      CHECK(r.proxied);
    }
  }
  CHECK(contents(d, "b.example.com", RecordType::A).empty());
  CHECK(contents(d, "c.example.com", RecordType::A).empty());
  CHECK(contents(d, "f.example.com", RecordType::A) == std::vector<std::string>{"198.51.100.1"});
  CHECK(d.notes.size() == 2);  // the bad rule and the bad TTL
  // AAAA comes from the zone's network.
  cfg.zones[0].network = "publicnet6";
  d = desired_state(b.snap, cfg);
  CHECK(contents(d, "f.example.com", RecordType::AAAA) == std::vector<std::string>{"2001:db8::1"});
}

TEST_CASE("desired: deterministic and conflicting claims resolved by node order") {
  SnapshotBuilder b;
  b.node(1, {"ingress"}, "198.51.100.1").node(2, {"ingress"}, "198.51.100.2")
      .instance(2, "x", {{"traefik.http.routers.x.rule", "Host(`x.example.com`)"}, {"constellation.dns.ttl", "120"}})
      .instance(1, "x", {{"traefik.http.routers.x.rule", "Host(`x.example.com`)"}, {"constellation.dns.ttl", "60"}});
  auto d1 = desired_state(b.snap, config());
  auto d2 = desired_state(b.snap, config());
  CHECK(d1.zones == d2.zones);
  CHECK(d1.zones.at("example.com").front().ttl == 60);
  REQUIRE(d1.notes.size() == 1);
  CHECK(d1.notes[0].find("other DNS settings") != std::string::npos);
}

TEST_CASE("snapshot JSON: parse, errors with paths, round trip") {
  const char* text = R"J({"generation": 3, "complete": true, "nodes": [
    {"id": "000000000000000000000000000000aa", "name": "edge", "status": "alive", "roles": ["ingress"],
     "addresses": {"publicnet": "198.51.100.1"},
     "instances": [{"id": "web-1", "health": "warning", "labels": {"traefik.http.routers.w.rule": "Host(`w.example.com`)"}}]}]})J";
  auto s = parse_snapshot(text).value();
  CHECK(s.generation == 3);
  CHECK(s.complete);
  REQUIRE(s.nodes.size() == 1);
  CHECK(s.nodes.begin()->second.entry.instances[0].health == catalog::Health::Warning);
  auto again = snapshot_from_json(snapshot_to_json(s)).value();
  CHECK(again == s);
  auto bad = parse_snapshot(R"J({"nodes": [{"id": "zz"}]})J");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("snapshot.nodes[0].id") != std::string::npos);
  auto bad_health = parse_snapshot(R"J({"nodes": [{"id": "000000000000000000000000000000aa", "instances": [{"id": "x", "health": "meh"}]}]})J");
  REQUIRE_FALSE(bad_health);
  CHECK(bad_health.error().message().find("instances[0].health") != std::string::npos);
}

TEST_CASE("config JSON: defaults, validation with paths") {
  auto v = core::json::parse(R"J({"owner": "c1", "zones": [{"name": "Example.COM.", "provider": "cf", "policy": "upsert-only", "ttl": 60}],
                                  "safety": {"deletion_grace_seconds": 30, "max_delete_fraction": 0.25}})J").value();
  auto c = parse_config(v).value();
  CHECK(c.zones[0].name == "example.com");
  CHECK(c.zones[0].policy == Policy::UpsertOnly);
  CHECK(c.safety.deletion_grace == std::chrono::seconds(30));
  CHECK(c.safety.max_delete_fraction == 0.25);
  auto typo = parse_config(core::json::parse(R"J({"owner": "c1", "zones": [], "safty": {}})J").value());
  REQUIRE_FALSE(typo);
  CHECK(typo.error().message().find("dns.safty") != std::string::npos);
  CHECK_FALSE(parse_config(core::json::parse(R"J({"owner": "c1", "zones": [{"name": "a.com", "provider": "p", "targets": "cname"}]})J").value()));
  CHECK_FALSE(parse_config(core::json::parse(R"J({"owner": "bad owner", "zones": []})J").value()));
  CHECK_FALSE(parse_config(core::json::parse(R"J({"owner": "c", "zones": [{"name": "a.com", "provider": "p"}, {"name": "A.com", "provider": "p"}]})J").value()));
}
