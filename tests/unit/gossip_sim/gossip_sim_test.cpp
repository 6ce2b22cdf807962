// SPDX-License-Identifier: Apache-2.0
// Seeded whole-cluster simulations of the gossip core (N = 10, 100, 1000) on the fast profile
// (200 ms probes). Every scenario checks the invariant "no healthy node is ever declared dead".
//   CST_SIM_SEED=N  runs the seeded scenarios with seed N instead of their fixed seeds;
//   CST_SIM_SEEDS=N runs N seeds of the swarm scenario (nightly sweeps), from CST_SIM_FIRST;
//   CST_SIM_VERBOSE=1 prints the swarm's fault schedule.
#include "gossip/messages.hpp"
#include "sim/gossip_harness.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace constellation;
using namespace constellation::sim;
using namespace std::chrono_literals;

namespace {

#if defined(__has_feature)
#define CST_HAS_FEATURE(x) __has_feature(x)
#else
#define CST_HAS_FEATURE(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || CST_HAS_FEATURE(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

std::uint64_t seed_or(std::uint64_t fixed) {
  const char* v = std::getenv("CST_SIM_SEED");
  return v && *v ? std::strtoull(v, nullptr, 10) : fixed;
}

GossipHarnessOptions options(std::size_t n, std::uint64_t seed) {
  GossipHarnessOptions o;
  o.seed = seed_or(seed);
  o.nodes = n;
  o.link.latency = 1ms;
  o.link.jitter = 2ms;
  o.max_drift = 0.0005;
  return o;
}

void check_no_false_deaths(const GossipHarness& h, std::uint64_t seed) {
  for (const auto& v : h.violations()) {
    FAIL_CHECK(v.observer << " declared " << v.victim << " dead at " << v.at.nanos() << " ns: " << v.what
                          << " (reproduce: CST_SIM_SEED=" << seed << ")");
  }
}

// Sets a small application state on every node (so convergence includes state), starts all and
// joins them through node 0; returns the simulated time to converge.
Duration join_and_converge(GossipHarness& h, Duration limit, bool with_state = true) {
  const Instant start = h.now();
  for (NodeIndex i = 0; i < h.size(); ++i) {
    h.start(i);
    if (with_state) h.core(i).set_state("service/web", "instance-" + std::to_string(i), h.local_now(i));
  }
  for (NodeIndex i = 0; i < h.size(); ++i) h.join(i, {0});
  const bool counts = h.run_until([&h] { return h.converged_counts(); }, limit);
  REQUIRE_MESSAGE(counts, "membership did not converge within " << core::format_duration(limit) << ": " << h.divergence());
  if (with_state) {
    const bool full = h.run_until([&h] { return h.converged(); }, limit, 200ms);
    REQUIRE_MESSAGE(full, "state did not converge: " << h.divergence());
  }
  return h.now() - start;
}

}  // namespace

TEST_CASE("gossip sim: 10 nodes converge, detect a crash, refute a false suspicion") {
  GossipHarness h(options(10, 1));
  const Duration t = join_and_converge(h, 10s);
  MESSAGE("N=10 converged in " << core::format_duration(t));

  // A state change reaches everyone quickly by piggybacked delta.
  h.core(3).set_state("service/web", "changed", h.local_now(3));
  CHECK(h.run_until([&h] { return h.converged(); }, 3s));

  // False suspicion: node 1 is told node 5 is suspect; node 5 refutes, nobody declares it dead.
  const auto inc = h.core(5).self().incarnation;
  auto pkt = gossip::wire::encode_packet(gossip::wire::Suspect{inc, h.name(5), h.name(1)});
  h.core(1).receive(h.address(2), gossip::Channel::Datagram, pkt, h.local_now(1));
  h.run_for(5s);
  CHECK(h.core(5).self().incarnation > inc);
  CHECK(h.core(5).stats().refutations >= 1);
  CHECK(h.converged());

  // Crash detection.
  h.crash(7);
  const Instant crashed = h.now();
  CHECK(h.run_until([&h] { return h.all_see_dead(7); }, 20s));
  MESSAGE("N=10 crash detected by all in " << core::format_duration(h.now() - crashed));
  check_no_false_deaths(h, 1);
}

TEST_CASE("gossip sim: 10 nodes over IPv6 addresses, restart with a new address keeps identity") {
  auto o = options(10, 2);
  o.ipv6 = true;
  GossipHarness h(o);
  join_and_converge(h, 10s);
  h.restart(4, {0}, std::string("[fd00::2:4]:7946"));
  CHECK(h.run_until([&h] { return h.converged(); }, 20s));
  auto seen = h.core(0).member(h.name(4));
  REQUIRE(seen);
  CHECK(seen->address == "[fd00::2:4]:7946");
  CHECK(seen->state == gossip::MemberState::Alive);
}

TEST_CASE("gossip sim: 10 nodes heal after a partition longer than dead_reclaim") {
  GossipHarness h(options(10, 3));
  join_and_converge(h, 10s);
  h.partition({{0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}});
  CHECK(h.run_until([&h] { return h.count_seeing_dead(0) >= 5 && h.count_seeing_dead(9) >= 5; }, 30s));
  h.run_for(40s);  // past dead_reclaim (30 s on the fast profile): both sides forget the other
  h.heal();
  const Instant healed = h.now();
  CHECK(h.run_until([&h] { return h.converged(); }, 60s, 200ms));
  MESSAGE("N=10 partition healed in " << core::format_duration(h.now() - healed));
}

TEST_CASE("gossip sim: 10 nodes, leave is graceful") {
  GossipHarness h(options(10, 4));
  join_and_converge(h, 10s);
  h.core(2).leave(h.local_now(2));
  h.run_for(2s);
  CHECK(h.core(2).done_leaving(h.local_now(2)));
  auto seen = h.core(0).member(h.name(2));
  REQUIRE(seen);
  CHECK(seen->state == gossip::MemberState::Left);
  CHECK(h.fail_events() == 0);
}

TEST_CASE("gossip sim: 100 nodes converge and detect a crash; zero false deaths with 10% loss") {
  GossipHarness h(options(100, 5));
  const Duration t = join_and_converge(h, 30s);
  MESSAGE("N=100 converged in " << core::format_duration(t));
  auto link = h.network().stats();
  (void)link;
  LinkModel lossy;
  lossy.latency = 1ms;
  lossy.jitter = 2ms;
  lossy.loss = 0.10;
  h.network().set_default_link(lossy);
  h.run_for(kSanitized ? 10s : 40s);
  check_no_false_deaths(h, 5);
  h.crash(42);
  const Instant crashed = h.now();
  CHECK(h.run_until([&h] { return h.all_see_dead(42); }, 30s));
  MESSAGE("N=100, 10% loss: crash detected by all in " << core::format_duration(h.now() - crashed));
  check_no_false_deaths(h, 5);
  const auto s = h.total_stats();
  MESSAGE("suspicions " << s.suspicions << ", refutations " << s.refutations << ", nacks " << s.nacks);
}

TEST_CASE("gossip sim: 100 nodes, one node stalled longer than a probe interval is not declared dead") {
  GossipHarness h(options(100, 6));
  join_and_converge(h, 30s);
  for (int round = 0; round < 5; ++round) {
    h.stall(static_cast<NodeIndex>(10 + round), 500ms);  // 2.5 probe intervals
    h.run_for(3s);
  }
  h.run_for(10s);
  check_no_false_deaths(h, 6);
  CHECK(h.converged_counts());
}

TEST_CASE("gossip sim: 1000 nodes converge and detect a crash") {
  if (kSanitized) return;  // about a minute under ASan: the dev build runs it
  GossipHarness h(options(1000, 7));
  // Membership only (state dissemination is covered at N = 10 and 100): keeps CI time bounded.
  const Duration t = join_and_converge(h, 60s, false);
  MESSAGE("N=1000 converged in " << core::format_duration(t));
  h.crash(500);
  const Instant crashed = h.now();
  CHECK(h.run_until([&h] { return h.all_see_dead(500); }, 30s, 200ms));
  MESSAGE("N=1000 crash detected by all in " << core::format_duration(h.now() - crashed));
  check_no_false_deaths(h, 7);
}

TEST_CASE("gossip sim: seeded swarm of faults — no healthy node declared dead, convergence after heal") {
  // Each seed draws its own world: loss up to 10 %, short partitions, crashes and restarts
  // (some with a new address), stalls below and above the grace, clock drift. After the fault
  // phase everything heals and restarts, and the cluster must converge (liveness).
  const char* first_env = std::getenv("CST_SIM_FIRST");
  const std::uint64_t first = first_env && *first_env ? std::strtoull(first_env, nullptr, 10) : seed_or(100);
  const char* seeds = std::getenv("CST_SIM_SEEDS");
  const std::uint64_t count = std::getenv("CST_SIM_SEED") ? 1 : seeds ? std::strtoull(seeds, nullptr, 10) : (kSanitized ? 3 : 12);
  std::uint64_t crashes = 0, fails = 0;
  for (std::uint64_t seed = first; seed < first + count; ++seed) {
    CAPTURE(seed);
    auto o = options(20, seed);
    o.stall_grace = 600ms;
    o.max_drift = 0.001;
    GossipHarness h(o);
    join_and_converge(h, 20s);
    auto& rng = h.rng();
    LinkModel link = o.link;
    link.loss = rng.uniform() * 0.10;
    link.duplicate = rng.uniform() * 0.02;
    link.reorder = rng.uniform() * 0.05;
    h.network().set_default_link(link);
    std::vector<NodeIndex> crashed;
    const bool verbose = std::getenv("CST_SIM_VERBOSE") != nullptr;
    auto say = [&h, verbose](const std::string& what) {
      if (verbose) std::fprintf(stderr, "%.3f s: %s\n", static_cast<double>(h.now().nanos()) / 1e9 - 1000.0, what.c_str());
    };
    say("loss " + std::to_string(link.loss));
    for (int second = 0; second < 30; ++second) {
      const auto victim = static_cast<NodeIndex>(rng.below(h.size()));
      const double dice = rng.uniform();
      if (dice < 0.06 && h.running(victim) && victim != 0) {
        ++crashes;
        say("crash " + std::to_string(victim));
        h.crash(victim);
        crashed.push_back(victim);
      } else if (dice < 0.10) {
        std::vector<NodeIndex> side;
        for (NodeIndex i = 0; i < h.size(); ++i) {
          if (rng.chance(0.3)) side.push_back(i);
        }
        std::vector<NodeIndex> rest;
        for (NodeIndex i = 0; i < h.size(); ++i) {
          if (std::find(side.begin(), side.end(), i) == side.end()) rest.push_back(i);
        }
        say("partition of " + std::to_string(side.size()) + " nodes");
        h.partition({side, rest});
        h.run_for(std::chrono::milliseconds(500 + rng.below(4000)));
        h.heal();
      } else if (dice < 0.25 && h.running(victim)) {
        const auto ms = rng.chance(0.8) ? 100 + rng.below(400) : 700 + rng.below(2000);
        say("stall " + std::to_string(victim) + " for " + std::to_string(ms) + " ms");
        h.stall(victim, std::chrono::milliseconds(ms));
      }
      h.run_for(1s);
    }
    h.heal();
    h.network().set_default_link(o.link);
    for (NodeIndex i : crashed) {
      if (rng.chance(0.3)) {
        h.restart(i, {0}, "10.9.0." + std::to_string(i) + ":7946");
      } else {
        h.restart(i, {0});
      }
    }
    const bool ok = h.run_until([&h] { return h.converged(); }, 60s, 500ms);
    CHECK_MESSAGE(ok, "no convergence after heal: " << h.divergence() << " (reproduce: CST_SIM_SEED=" << seed << ")");
    check_no_false_deaths(h, seed);
    fails += h.fail_events();
  }
  MESSAGE(count << " seeds: " << crashes << " crashes, " << fails << " fail events (all about unhealthy nodes)");
}

TEST_CASE("gossip sim: Lifeguard — a slow node raises its own awareness and kills nobody") {
  GossipHarness h(options(50, 8));
  join_and_converge(h, 20s);
  // Everything reaching node 7 takes 300 ms (a node too slow to read its socket): its probes
  // time out and the nacks it asked for come late, so it must slow itself down instead of
  // getting healthy members killed (its own fate is not checked).
  h.mark_unhealthy(7);
  LinkModel slow;
  slow.latency = 300ms;
  slow.jitter = 20ms;
  for (NodeIndex j = 0; j < h.size(); ++j) {
    if (j != 7) h.network().set_link(j, 7, slow);
  }
  std::uint32_t max_awareness = 0;
  for (int i = 0; i < 300; ++i) {
    h.run_for(100ms);
    max_awareness = std::max(max_awareness, h.core(7).stats().awareness);
  }
  MESSAGE("awareness of the slow node reached " << max_awareness << "; its suspicions: " << h.core(7).stats().suspicions
                                                 << "; refutations by others: " << h.total_stats().refutations);
  CHECK(max_awareness >= 2);
  check_no_false_deaths(h, 8);
  for (NodeIndex j = 0; j < h.size(); ++j) {
    if (j != 7) h.network().set_link(j, 7, options(50, 8).link);
  }
  h.run_for(10s);
  CHECK(h.core(7).stats().awareness <= 1);  // healthy again: successful probes bring it down
  CHECK(h.run_until([&h] { return h.converged_counts(); }, 30s));
}

TEST_CASE("gossip sim: 100 nodes refute a false suspicion and heal an asymmetric then a full partition") {
  GossipHarness h(options(100, 9));
  join_and_converge(h, 30s);
  // Three members accuse node 50 at once (a dogpile of false accusations): it must refute before
  // the shortened suspicion timeout ends.
  const auto inc = h.core(50).self().incarnation;
  for (NodeIndex accuser : {1u, 2u, 3u}) {
    auto pkt = gossip::wire::encode_packet(gossip::wire::Suspect{inc, h.name(50), h.name(accuser)});
    h.core(accuser).receive(h.address(accuser), gossip::Channel::Datagram, pkt, h.local_now(accuser));
  }
  h.run_for(5s);
  CHECK(h.core(50).self().incarnation > inc);
  check_no_false_deaths(h, 9);
  CHECK(h.converged_counts());

  // One direction cut (node 60 cannot hear from nodes 0..49) for a while, then a full split.
  for (NodeIndex i = 0; i < 50; ++i) h.network().block(i, 60);
  h.mark_unhealthy(60);
  h.run_for(5s);
  h.heal();
  std::vector<NodeIndex> a, b;
  for (NodeIndex i = 0; i < 100; ++i) (i < 30 ? a : b).push_back(i);
  h.partition({a, b});
  h.run_for(45s);  // past dead_reclaim: each side forgets the other
  h.heal();
  const Instant healed = h.now();
  CHECK(h.run_until([&h] { return h.converged(); }, 60s, 500ms));
  MESSAGE("N=100 partition healed in " << core::format_duration(h.now() - healed) << " (" << h.divergence() << ")");
}
