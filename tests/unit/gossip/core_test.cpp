// SPDX-License-Identifier: Apache-2.0
// The gossip core driven by hand: a few cores, a lossless in-test "network", virtual time.
#include "gossip/core.hpp"
#include "gossip/messages.hpp"

#include <doctest/doctest.h>

#include <deque>
#include <map>
#include <memory>
#include <set>

using namespace constellation;
using namespace constellation::gossip;
using namespace std::chrono_literals;

namespace {

struct Cluster {
  core::Instant now = core::Instant::from_nanos(1'000'000'000'000);
  std::map<std::string, std::unique_ptr<core::Rng>> rngs;
  std::map<std::string, std::unique_ptr<Core>> cores;  // by address
  std::set<std::string> down;                          // addresses that drop everything
  std::size_t max_datagram_seen = 0;
  std::vector<Event> events;

  Core& add(const std::string& name, Config c = Config::fast()) {
    const std::string addr = name + ":7946";
    c.name = name;
    c.advertise = addr;
    rngs[addr] = std::make_unique<core::Rng>(std::hash<std::string>{}(name));
    cores[addr] = std::make_unique<Core>(c, *rngs[addr], now);
    return *cores[addr];
  }
  Core& at(const std::string& name) { return *cores.at(name + ":7946"); }

  void pump() {
    for (int rounds = 0; rounds < 50; ++rounds) {
      bool any = false;
      for (auto& [addr, c] : cores) {
        for (auto& e : c->take_events()) events.push_back(std::move(e));
        for (auto& o : c->take_outgoing()) {
          any = true;
          if (o.channel == Channel::Datagram) max_datagram_seen = std::max(max_datagram_seen, o.payload.size());
          auto to = cores.find(o.to);
          if (to == cores.end() || down.count(o.to) || down.count(addr)) {
            if (o.channel == Channel::Stream) c->stream_failed(o.to, now);
            continue;
          }
          to->second->receive(addr, o.channel, o.payload, now);
        }
      }
      if (!any) return;
    }
  }

  // Advances time in steps, ticking every core whose deadline passed.
  void run(core::Duration d, core::Duration step = 10ms) {
    const auto end = now + d;
    while (now < end) {
      now += step;
      for (auto& [addr, c] : cores) {
        if (!down.count(addr) && c->next_deadline() <= now) c->tick(now);
      }
      pump();
    }
  }

  void join_all() {
    for (auto& [addr, c] : cores) c->join({cores.begin()->first}, now);
    pump();
  }
};

}  // namespace

TEST_CASE("join by push/pull: everyone learns everyone and their state, with events") {
  Cluster c;
  for (int i = 0; i < 5; ++i) c.add("n" + std::to_string(i)).set_state("role", "r" + std::to_string(i), c.now);
  c.join_all();
  c.run(2s);
  for (auto& [addr, core] : c.cores) {
    CHECK(core->alive_count() == 5);
    auto m = core->member("n3");
    REQUIRE(m);
    CHECK(m->state_map.at("role") == "r3");
  }
  std::size_t joins = 0;
  for (const auto& e : c.events) joins += e.kind == Event::Kind::Join;
  CHECK(joins == 25);  // each node sees 5 joins, itself included
}

TEST_CASE("a seed list holding only this node's address means nothing to contact") {
  Cluster c;
  auto& a = c.add("solo");
  a.join({"solo:7946"}, c.now);
  CHECK(a.take_outgoing().empty());
  c.run(1s);
  CHECK(a.alive_count() == 1);
}

TEST_CASE("state changes travel as deltas; erasures too; big values go by push/pull") {
  Cluster c;
  for (int i = 0; i < 4; ++i) c.add("n" + std::to_string(i));
  c.join_all();
  c.run(1s);
  c.at("n1").set_state("a", "1", c.now);
  c.at("n1").set_state("b", "2", c.now);
  c.run(1s);
  CHECK(c.at("n3").member("n1")->state_map == std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}});
  c.at("n1").erase_state("a", c.now);
  c.run(1s);
  CHECK(c.at("n3").member("n1")->state_map == std::map<std::string, std::string>{{"b", "2"}});
  CHECK(c.at("n3").member("n1")->state_version == c.at("n1").self().state_version);
  // 200 KB: far beyond a datagram, announced and pulled over a stream.
  c.at("n2").set_state("catalog", std::string(200000, 'c'), c.now);
  c.run(2s);
  CHECK(c.at("n0").member("n2")->state_map.at("catalog").size() == 200000);
  CHECK(c.max_datagram_seen <= Config::fast().max_datagram);
  bool updated = false;
  for (const auto& e : c.events) updated |= e.kind == Event::Kind::Update && e.member.name == "n2";
  CHECK(updated);
}

TEST_CASE("a crashed member is suspected, then declared dead; it refutes when it comes back") {
  Cluster c;
  for (int i = 0; i < 5; ++i) c.add("n" + std::to_string(i));
  c.join_all();
  c.run(1s);
  c.down.insert("n4:7946");
  c.run(10s);
  for (int i = 0; i < 4; ++i) CHECK(c.at("n" + std::to_string(i)).member("n4")->state == MemberState::Dead);
  const auto s = c.at("n0").stats();
  CHECK(s.probes > 0);
  CHECK(s.suspicions + c.at("n1").stats().suspicions > 0);
  // Back within gossip_to_dead / reconnect: it learns it was declared dead and refutes.
  c.down.clear();
  c.run(10s);
  for (int i = 0; i < 4; ++i) CHECK(c.at("n" + std::to_string(i)).member("n4")->state == MemberState::Alive);
  CHECK(c.at("n4").stats().refutations >= 1);
  bool recovered = false;
  for (const auto& e : c.events) recovered |= e.kind == Event::Kind::Recover && e.member.name == "n4";
  CHECK(recovered);
}

TEST_CASE("buddy system: a probe of a suspect carries the suspicion, and the suspect refutes") {
  Cluster c;
  for (int i = 0; i < 3; ++i) c.add("n" + std::to_string(i));
  c.join_all();
  c.run(1s);
  const auto inc = c.at("n2").self().incarnation;
  // Only n0 suspects n2 (as if its probe had failed); it does not tell anyone else.
  c.at("n0").receive("n1:7946", Channel::Datagram,
                     gossip::wire::encode_packet(gossip::wire::Suspect{inc, "n2", "n1"}), c.now);
  c.run(2s);
  CHECK(c.at("n2").self().incarnation > inc);
  CHECK(c.at("n0").member("n2")->state == MemberState::Alive);
  CHECK(c.at("n2").stats().refutations >= 1);
}

TEST_CASE("graceful leave: others mark it left, not failed") {
  Cluster c;
  for (int i = 0; i < 4; ++i) c.add("n" + std::to_string(i));
  c.join_all();
  c.run(1s);
  c.at("n3").leave(c.now);
  c.pump();
  c.run(500ms);
  CHECK(c.at("n3").done_leaving(c.now));
  for (int i = 0; i < 3; ++i) CHECK(c.at("n" + std::to_string(i)).member("n3")->state == MemberState::Left);
  for (const auto& e : c.events) CHECK(e.kind != Event::Kind::Fail);
}

TEST_CASE("user broadcasts reach everyone once; oversized ones are dropped and counted") {
  Cluster c;
  for (int i = 0; i < 6; ++i) c.add("n" + std::to_string(i));
  c.join_all();
  c.run(1s);
  c.at("n0").broadcast("hello", c.now);
  c.at("n0").broadcast(std::string(5000, 'x'), c.now);
  CHECK(c.at("n0").stats().broadcasts_dropped == 1);
  std::map<std::string, int> got;
  for (int r = 0; r < 100; ++r) {
    c.run(20ms, 10ms);
    for (auto& [addr, core] : c.cores) {
      for (auto& m : core->take_user_messages()) got[addr] += m == "hello";
    }
  }
  CHECK(got.size() == 5);
  for (const auto& [addr, n] : got) CHECK(n == 1);
}

TEST_CASE("malformed input is counted and changes nothing") {
  Cluster c;
  auto& a = c.add("a");
  const core::Bytes junk{1, 6, 200, 1, 2};
  a.receive("x:1", Channel::Datagram, junk, c.now);
  a.receive("x:1", Channel::Stream, junk, c.now);
  CHECK(a.stats().malformed == 2);
  CHECK(a.alive_count() == 1);
}

TEST_CASE("a push/pull answer larger than max_stream is split into frames that each fit") {
  Config small = Config::fast();
  small.max_stream = 64 << 10;
  small.compress_threshold = 1u << 30;  // incompressible-size test: no compression
  Cluster c;
  for (int i = 0; i < 6; ++i) {
    c.add("n" + std::to_string(i), small).set_state("blob", std::string(20000, static_cast<char>('a' + i)), c.now);
  }
  c.join_all();
  c.run(3s);
  auto& last = c.at("n5");
  for (int i = 0; i < 6; ++i) {
    auto m = last.member("n" + std::to_string(i));
    REQUIRE(m);
    CHECK(m->state_map.at("blob").size() == 20000);
  }
}

TEST_CASE("join retries with backoff until a seed answers") {
  Cluster c;
  c.add("n0");
  auto& n1 = c.add("n1");
  c.down.insert("n0:7946");
  n1.join({"n1:7946", "n0:7946"}, c.now);  // its own address among the seeds is skipped
  c.pump();
  c.run(3s);
  CHECK(n1.alive_count() == 1);
  c.down.clear();
  c.run(5s);
  CHECK(n1.alive_count() == 2);
  CHECK(c.at("n0").alive_count() == 2);
}

TEST_CASE("set_advertise moves a node: others follow the higher incarnation, identity is the name") {
  Cluster c;
  for (int i = 0; i < 3; ++i) c.add("n" + std::to_string(i));
  c.join_all();
  c.run(1s);
  const auto inc = c.at("n2").self().incarnation;
  // The transport would now listen on the new address too; the in-test network keys by address.
  auto moved = std::move(c.cores.at("n2:7946"));
  c.cores.erase("n2:7946");
  c.cores["[fd00::2]:7946"] = std::move(moved);
  c.cores.at("[fd00::2]:7946")->set_advertise("[fd00::2]:7946", c.now);
  c.run(2s);
  auto seen = c.at("n0").member("n2");
  REQUIRE(seen);
  CHECK(seen->address == "[fd00::2]:7946");
  CHECK(seen->incarnation > inc);
  CHECK(seen->state == MemberState::Alive);
}
