// SPDX-License-Identifier: Apache-2.0
//
// A hand-driven network of Raft cores with in-memory storage and the lease/KV state machine:
// messages wait in a queue until delivered, and every step is written to a transcript. The unit
// tests (one per claim of the Raft paper) and the golden transcripts (tests/golden/raft) drive it;
// the seeded whole-cluster simulation is raft_sim.hpp. Safety invariants are checked after every
// operation.
#pragma once

#include "core/rng.hpp"
#include "lease/machine.hpp"
#include "raft/raft.hpp"

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace constellation::sim {

/// One member: the core plus what a real node keeps on disk and in its state machine.
struct HarnessNode {
  raft::PeerId id = 0;
  std::unique_ptr<raft::Raft> core;
  // "Disk": survives crash(); only what Ready asked to persist and advance() confirmed.
  raft::HardState hard;
  raft::Snapshot snapshot;
  std::vector<raft::Entry> log;
  // State machine.
  lease::Machine machine;
  std::vector<raft::Entry> applied;  // every entry applied, in order
  std::vector<raft::ReadState> reads;
  std::vector<raft::DroppedRead> dropped;
  bool down = false;
};

class RaftHarness {
 public:
  /// `voters` members with ids 1..voters, all bootstrapped with the same configuration.
  explicit RaftHarness(std::size_t voters, std::uint64_t seed = 1,
                       std::function<void(raft::Config&)> tweak = nullptr);

  /// Adds a member with a blank log that knows the given bootstrap configuration (for learners
  /// and new voters joining through a membership change).
  void add_node(raft::PeerId id, raft::ConfState bootstrap);

  HarnessNode& node(raft::PeerId id) { return *nodes_.at(id); }
  raft::Raft& core(raft::PeerId id) { return *nodes_.at(id)->core; }
  std::vector<raft::PeerId> ids() const;

  // --- driving ----------------------------------------------------------------------------
  void tick(raft::PeerId id, int n = 1);
  void tick_all(int n = 1);
  void campaign(raft::PeerId id);
  Result<raft::LogIndex> propose(raft::PeerId id, std::string data);
  /// Handles one Ready of one node (persist, send, apply, advance). False if it had none.
  bool process_ready(raft::PeerId id);
  /// Delivers every queued message once (messages produced while delivering wait).
  std::size_t deliver();
  /// Alternates process_ready and deliver until nothing is left (bounded).
  void stabilize();
  /// Loses the node's volatile state; restart() rebuilds the core from its "disk".
  void crash(raft::PeerId id);
  void restart(raft::PeerId id);

  // --- faults on the queue ------------------------------------------------------------------
  void isolate(raft::PeerId id);
  void heal();
  void cut(raft::PeerId a, raft::PeerId b);  // both directions
  void drop_next(std::function<bool(const raft::Message&)> pred) { drop_pred_ = std::move(pred); }
  /// Every message delivered (after filters), in order: tests inspect it.
  std::vector<raft::Message>& delivered() { return delivered_; }
  std::vector<raft::Message>& queue() { return queue_; }

  // --- checks --------------------------------------------------------------------------------
  /// Election safety, log matching, leader completeness, state machine safety; aborts with a
  /// message on violation.
  void check_safety();
  /// The leader with the highest term, or 0.
  raft::PeerId leader() const;

  /// Transcript of everything that happened since the last take (for golden files).
  std::string take_trace();
  void set_tracing(bool on) { tracing_ = on; }
  /// Turns the per-step safety checks off (benchmarks only: they cost O(log size) per step).
  void set_checking(bool on) { checking_ = on; }
  std::string describe(const raft::Message& m) const;
  std::string describe_log(raft::PeerId id) const;
  std::string describe_status(raft::PeerId id) const;

 private:
  void make_core(HarnessNode& n);
  void trace(const std::string& line);

  core::Rng rng_;
  std::function<void(raft::Config&)> tweak_;
  raft::ConfState initial_;
  std::map<raft::PeerId, std::unique_ptr<HarnessNode>> nodes_;
  std::vector<raft::Message> queue_;
  std::vector<raft::Message> delivered_;
  std::set<std::pair<raft::PeerId, raft::PeerId>> cut_;
  std::function<bool(const raft::Message&)> drop_pred_;
  // election safety: term -> leader seen
  std::map<std::uint64_t, raft::PeerId> leaders_;
  // state machine safety: index -> (term, crc) applied first
  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint32_t>> applied_ref_;
  // leader completeness: committed entries seen (index -> term)
  std::map<std::uint64_t, std::uint64_t> committed_;
  bool tracing_ = true;
  bool checking_ = true;
  std::string trace_;
};

}  // namespace constellation::sim
