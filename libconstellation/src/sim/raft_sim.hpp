// SPDX-License-Identifier: Apache-2.0
//
// Seeded whole-cluster simulation of Raft + the lease/KV state machine (TigerBeetle's VOPR,
// FoundationDB's simulation): N nodes and a few clients in one thread on virtual time, a faulty
// network (loss, duplication, reordering, symmetric and asymmetric partitions), crash-restart
// losing unsynced writes, drifting clocks and paused processes, all drawn from the seed. After
// every step the invariants are checked: one leader per term, log matching, leader completeness,
// state machine safety, at most one lease holder at any instant of cluster time, fencing tokens
// strictly increasing — plus, from the clients' side, no two clients acting as holders of one
// lease at the same real instant. At the end the client history is checked for linearizability
// and the healed cluster must converge (liveness). A run is a pure function of its options.
#pragma once

#include "sim/faults.hpp"
#include "sim/linearizability.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace constellation::sim {

struct RaftSimOptions {
  std::uint64_t seed = 1;
  std::size_t voters = 3;
  std::size_t clients = 4;
  /// Simulated time with faults, then time to heal and converge.
  Duration fault_phase = std::chrono::seconds(12);
  Duration settle_phase = std::chrono::seconds(8);
  /// Raft tick length (election timeout = 20 ticks).
  Duration tick = std::chrono::milliseconds(10);
  /// Bounds the swarm draws this seed's faults from.
  FaultBounds bounds = default_bounds();
  /// false: a calm network (for liveness and throughput checks).
  bool faults = true;
  /// A deliberately broken read path that answers from the local state machine without ReadIndex,
  /// so the checker's test can show it catches stale reads.
  bool stale_reads = false;
  /// Compact the log every this many applied entries.
  std::size_t compact_every = 48;

  /// When set, receives one line per applied command (for reproducing a failure by hand).
  std::function<void(const std::string&)> trace;

  static FaultBounds default_bounds();
};

struct RaftSimResult {
  bool ok = true;
  /// What broke, with the seed and fault profile: one line reproduces it.
  std::string failure;
  std::string profile;
  std::size_t ops_completed = 0;
  std::size_t ops_unknown = 0;
  std::size_t entries_committed = 0;
  std::size_t elections = 0;
  std::size_t crashes = 0;
  std::size_t snapshots_installed = 0;
  std::size_t lease_grants = 0;
  std::vector<HistoryOp> history;
};

RaftSimResult run_raft_sim(const RaftSimOptions& options);

/// "CST_SIM_SEEDS=1 <binary> --seed=N" style reproducer line for a failed seed.
std::string raft_sim_reproducer(const RaftSimOptions& options);

}  // namespace constellation::sim
