// SPDX-License-Identifier: Apache-2.0
// The simulator's cores share their string tables (names, addresses, queued news): sharing must be
// invisible. The same seeded run with shared and with private tables must leave every node with
// the same members, statistics and traffic, and a core that goes away gives back its references.
#include "sim/gossip_harness.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

using namespace constellation;
using namespace constellation::sim;
using namespace std::chrono_literals;

namespace {

// Everything observable about the cluster, as text (a mismatch shows where).
std::vector<std::string> snapshot(GossipHarness& h) {
  std::vector<std::string> lines;
  for (NodeIndex i = 0; i < h.size(); ++i) {
    if (!h.running(i)) {
      lines.push_back(h.name(i) + " down");
      continue;
    }
    for (const auto& m : h.core(i).members()) {
      std::string line = h.name(i) + " knows " + m.name + " " + m.address + " " + gossip::to_string(m.state) + " inc " +
                         std::to_string(m.incarnation) + " v" + std::to_string(m.state_version) + " since " +
                         std::to_string(m.since.nanos());
      for (const auto& [k, v] : m.state_map) line += " " + k + "=" + v;
      lines.push_back(std::move(line));
    }
    const auto& s = h.core(i).stats();
    lines.push_back(h.name(i) + " stats " + std::to_string(s.messages_in) + " " + std::to_string(s.messages_out) + " " +
                    std::to_string(s.bytes_out) + " " + std::to_string(s.suspicions) + " " +
                    std::to_string(s.refutations) + " " + std::to_string(s.queue_depth) + " next " +
                    std::to_string(h.core(i).next_deadline().nanos()));
  }
  const auto& n = h.network().stats();
  lines.push_back("network " + std::to_string(n.sent) + " " + std::to_string(n.delivered) + " " +
                  std::to_string(n.bytes_sent) + " events " + std::to_string(h.scheduler().events_run()));
  return lines;
}

// Joins with state, then loss, a crash, a restart at a new address, a partition past
// dead_reclaim, a heal and a leave; a snapshot after each phase.
std::vector<std::vector<std::string>> run(bool share) {
  GossipHarnessOptions o;
  o.seed = 11;
  o.nodes = 30;
  o.link.latency = 1ms;
  o.link.jitter = 2ms;
  o.max_drift = 0.001;
  o.share_strings = share;
  GossipHarness h(o);
  std::vector<std::vector<std::string>> phases;
  for (NodeIndex i = 0; i < h.size(); ++i) {
    h.start(i);
    h.core(i).set_state("service/web", "instance-" + std::to_string(i), h.local_now(i));
  }
  for (NodeIndex i = 0; i < h.size(); ++i) h.join(i, {0});
  h.run_for(10s);
  phases.push_back(snapshot(h));
  LinkModel lossy = o.link;
  lossy.loss = 0.05;
  h.network().set_default_link(lossy);
  h.core(3).erase_state("service/web", h.local_now(3));
  h.core(4).broadcast("hello", h.local_now(4));
  h.crash(7);
  h.run_for(10s);
  phases.push_back(snapshot(h));
  h.restart(7, {0}, std::string("10.9.0.7:7946"));
  std::vector<NodeIndex> a, b;
  for (NodeIndex i = 0; i < h.size(); ++i) (i < 10 ? a : b).push_back(i);
  h.partition({a, b});
  h.run_for(40s);
  phases.push_back(snapshot(h));
  h.heal();
  h.core(5).leave(h.local_now(5));
  h.run_for(30s);
  phases.push_back(snapshot(h));
  if (share) {
    for (NodeIndex i = 0; i < h.size(); ++i) h.crash(i);
    CHECK(h.strings().names.size() == 0);
    CHECK(h.strings().keys.size() == 0);
    CHECK(h.strings().values.size() == 0);
  }
  return phases;
}

}  // namespace

TEST_CASE("gossip sim: cores sharing string tables behave exactly as cores with their own") {
  const auto shared = run(true);
  const auto own = run(false);
  REQUIRE(shared.size() == own.size());
  for (std::size_t phase = 0; phase < shared.size(); ++phase) {
    CAPTURE(phase);
    REQUIRE(shared[phase].size() == own[phase].size());
    for (std::size_t i = 0; i < shared[phase].size(); ++i) CHECK(shared[phase][i] == own[phase][i]);
  }
}
