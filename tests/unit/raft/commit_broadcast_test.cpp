// SPDX-License-Identifier: Apache-2.0
// Config::defer_commit_broadcast: a leader whose commit index advances sends no empty
// AppendEntries of its own accord; followers learn the commit index from the next append, a
// heartbeat, or broadcast_commit() — and nothing else about replication changes.
#include "raft/raft.hpp"
#include "sim/raft_harness.hpp"

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::raft;
using sim::RaftHarness;

namespace {
core::Bytes put(const std::string& key) {
  lease::Command cmd;
  cmd.op = lease::Op::Put;
  cmd.key = key;
  cmd.value = "v";
  return cmd.encode();
}
std::size_t empty_appends(RaftHarness& h) {
  std::size_t n = 0;
  for (const auto& m : h.delivered()) n += m.type == MsgType::App && m.entries.empty();
  return n;
}
}  // namespace

TEST_CASE("a deferring leader tells followers a new commit index only when asked or with its next append") {
  RaftHarness h(3, 1, [](Config& c) { c.defer_commit_broadcast = true; });
  h.campaign(1);
  h.stabilize();
  REQUIRE(h.leader() == 1);
  h.core(1).broadcast_commit();
  h.stabilize();
  REQUIRE(!h.core(1).commit_broadcast_due());

  h.delivered().clear();
  const LogIndex first = h.core(1).propose(put("a")).value();
  h.stabilize();
  CHECK(h.core(1).commit_index() == first);  // the followers acknowledged it
  CHECK(h.core(2).commit_index() < first);   // and were not told it committed
  CHECK(h.core(3).commit_index() < first);
  CHECK(empty_appends(h) == 0);
  CHECK(h.core(1).commit_broadcast_due());

  // The next proposal's appends carry the commit index: nothing else is due for `first`.
  const LogIndex second = h.core(1).propose(put("b")).value();
  h.stabilize();
  CHECK(h.core(2).commit_index() >= first);
  CHECK(h.core(3).commit_index() >= first);
  CHECK(h.core(1).commit_index() == second);
  CHECK(empty_appends(h) == 0);

  // Asked, the leader sends one (empty) append per follower, and then nothing is due.
  CHECK(h.core(1).commit_broadcast_due());
  h.delivered().clear();
  h.core(1).broadcast_commit();
  h.stabilize();
  CHECK(empty_appends(h) == 2);
  CHECK(h.core(2).commit_index() == second);
  CHECK(h.core(3).commit_index() == second);
  CHECK(!h.core(1).commit_broadcast_due());
  h.check_safety();
}

TEST_CASE("without deferral the leader broadcasts each new commit index at once (etcd-raft's behaviour)") {
  RaftHarness h(3, 1);
  h.campaign(1);
  h.stabilize();
  REQUIRE(h.leader() == 1);
  h.delivered().clear();
  const LogIndex index = h.core(1).propose(put("a")).value();
  h.stabilize();
  CHECK(h.core(2).commit_index() == index);
  CHECK(h.core(3).commit_index() == index);
  CHECK(empty_appends(h) == 2);
  CHECK(!h.core(1).commit_broadcast_due());
}

TEST_CASE("a deferred commit index still reaches a follower through heartbeats") {
  RaftHarness h(3, 1, [](Config& c) { c.defer_commit_broadcast = true; });
  h.campaign(1);
  h.stabilize();
  REQUIRE(h.leader() == 1);
  const LogIndex index = h.core(1).propose(put("a")).value();
  h.stabilize();
  REQUIRE(h.core(2).commit_index() < index);
  h.tick(1, 4);  // heartbeats (heartbeat_tick is small in the harness)
  h.stabilize();
  CHECK(h.core(2).commit_index() == index);
  CHECK(h.core(3).commit_index() == index);
}
