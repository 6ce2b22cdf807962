// SPDX-License-Identifier: Apache-2.0
//
// N gossip cores in one thread on virtual time, over the simulated network (datagrams for probes
// and gossip, streams for push/pull and fallback probes): crash/restart (the owner keeps the
// incarnation, as a real node persists it), partitions, loss, stalled processes (a stalled node
// neither receives nor runs timers), per-node clock drift. The invariant checker records every
// "dead" verdict about a healthy node — one never crashed, never cut off by a partition or block,
// and never stalled beyond `stall_grace` — as a violation. A run is a pure function of its seed.
#pragma once

#include "gossip/core.hpp"
#include "gossip/string_table.hpp"
#include "sim/network.hpp"
#include "sim/scheduler.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace constellation::sim {

struct GossipHarnessOptions {
  std::uint64_t seed = 1;
  std::size_t nodes = 10;
  /// Template for every node (name and advertise are filled in). Default: the fast profile.
  gossip::Config config = gossip::Config::fast();
  LinkModel link;
  /// "[fd00::1:N]:7946" addresses instead of "10.x.y.z:7946".
  bool ipv6 = false;
  /// Each node's clock runs at 1 + uniform(-max_drift, max_drift).
  double max_drift = 0.0;
  /// A node stalled longer than this no longer counts as healthy.
  Duration stall_grace = std::chrono::seconds(2);
  /// One set of string tables for every core (gossip::Core's constructor): each node's name and
  /// address, and each piece of news the nodes spread, is held once instead of once per node,
  /// which is what lets N = 10,000 fit in memory. Off only to check that sharing changes nothing.
  bool share_strings = true;
};

struct GossipViolation {
  Instant at;
  std::string observer;
  std::string victim;
  std::string what;
};

class GossipHarness {
 public:
  explicit GossipHarness(GossipHarnessOptions options);
  ~GossipHarness();

  std::size_t size() const { return nodes_.size(); }
  Scheduler& scheduler() { return sched_; }
  Network& network() { return net_; }
  core::Rng& rng() { return rng_; }
  Instant now() const { return sched_.now(); }

  gossip::Core& core(NodeIndex i) { return *nodes_.at(i)->core; }
  bool running(NodeIndex i) const { return nodes_.at(i)->core != nullptr; }
  const std::string& name(NodeIndex i) const { return nodes_.at(i)->name; }
  const std::string& address(NodeIndex i) const { return nodes_.at(i)->address; }
  /// The node's local clock reading.
  Instant local_now(NodeIndex i) const { return nodes_.at(i)->clock.now(); }

  /// Starts node i (a fresh core) if it is not running.
  void start(NodeIndex i);
  /// Node i joins through the given seed nodes.
  void join(NodeIndex i, const std::vector<NodeIndex>& seeds);
  /// Starts every node and has each join through node 0 (node 0 "joins" itself).
  void start_all_and_join();
  /// Kills node i: its core and everything in flight to it are lost.
  void crash(NodeIndex i);
  /// Restarts node i with the incarnation it had (and, if given, a new address), then joins
  /// through `seeds`.
  void restart(NodeIndex i, const std::vector<NodeIndex>& seeds, std::optional<std::string> new_address = std::nullopt);
  /// Pauses node i for d: no delivery, no timers.
  void stall(NodeIndex i, Duration d);
  /// Cuts the cluster into groups (both directions); their members no longer count as healthy.
  void partition(const std::vector<std::vector<NodeIndex>>& groups);
  void heal() { net_.heal(); }
  /// Marks node i as not healthy (the checker then accepts "dead" verdicts about it).
  void mark_unhealthy(NodeIndex i) { nodes_.at(i)->healthy = false; }
  bool healthy(NodeIndex i) const { return nodes_.at(i)->healthy; }

  void run_for(Duration d) { sched_.run_for(d); }
  /// Runs until pred() holds, checking every `step` of simulated time; false at the deadline.
  bool run_until(const std::function<bool()>& pred, Duration limit, Duration step = std::chrono::milliseconds(50));

  /// Every running node sees exactly the running nodes as alive (cheap count check).
  bool converged_counts() const;
  /// Every running node knows every running node as alive with its current state version and
  /// address. Full O(N^2) check.
  bool converged() const;
  /// The first difference converged() finds, in words ("" when converged).
  std::string divergence() const;
  /// Every running node holds `victim` as dead (or forgot it).
  bool all_see_dead(NodeIndex victim) const;
  /// Running nodes that hold `victim` as dead or left.
  std::size_t count_seeing_dead(NodeIndex victim) const;

  const std::vector<GossipViolation>& violations() const { return violations_; }
  /// Fail events about any member, by anyone (including legitimate ones).
  std::uint64_t fail_events() const { return fail_events_; }
  /// Aggregated core statistics of running nodes.
  gossip::Stats total_stats() const;
  /// The string tables the cores share (empty when options.share_strings is off).
  const gossip::StringTables& strings() const { return *strings_; }

 private:
  struct SimNode {
    NodeIndex index = 0;
    std::string name;
    std::string address;
    std::uint64_t incarnation = 0;
    core::Rng rng{0};
    NodeClock clock;
    std::unique_ptr<gossip::Core> core;
    Scheduler::TimerId timer = 0;
    Instant timer_at = Instant::max();
    Instant stalled_until;
    bool healthy = true;
    SimNode(const Scheduler& s, double rate) : clock(s, rate) {}
  };

  void on_receive(NodeIndex to, NodeIndex from, Channel channel, core::Bytes payload);
  void on_timer(NodeIndex i);
  /// Sends what node i produced, checks its events, re-arms its timer.
  void flush(NodeIndex i);
  void arm(NodeIndex i);

  GossipHarnessOptions opts_;
  Scheduler sched_;
  core::Rng rng_;
  Network net_;
  std::shared_ptr<gossip::StringTables> strings_ = std::make_shared<gossip::StringTables>();
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::unordered_map<std::string, NodeIndex> by_address_;
  std::unordered_map<std::string, NodeIndex> by_name_;
  std::vector<GossipViolation> violations_;
  std::uint64_t fail_events_ = 0;
};

}  // namespace constellation::sim
