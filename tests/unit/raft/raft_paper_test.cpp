// SPDX-License-Identifier: Apache-2.0
// One test per claim of the Raft paper (Ongaro & Ousterhout, "In Search of an Understandable
// Consensus Algorithm", 2014) and of the dissertation's extensions we rely on. Section numbers
// are the paper's.
#include "raft/raft.hpp"
#include "sim/raft_harness.hpp"

#include <doctest/doctest.h>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

using namespace constellation;
using namespace constellation::raft;
using sim::RaftHarness;

namespace {
void no_prevote(Config& c) {
  c.pre_vote = false;
  c.check_quorum = false;
}
std::size_t count(RaftHarness& h, MsgType t) {
  std::size_t n = 0;
  for (auto& m : h.queue()) n += m.type == t;
  return n;
}
PeerId elect(RaftHarness& h, PeerId id) {
  h.campaign(id);
  h.stabilize();
  REQUIRE(h.leader() == id);
  return id;
}
// Node 1 leads, writes 20 keys while node 3 is cut off, compacts them into a snapshot, and the
// partition heals: node 3 can only catch up from the snapshot.
void leave_follower_3_behind_a_compaction(RaftHarness& h) {
  elect(h, 1);
  h.isolate(3);
  for (int i = 0; i < 20; ++i) {
    lease::Command cmd;
    cmd.op = lease::Op::Put;
    cmd.key = "k" + std::to_string(i);
    cmd.value = std::string(20, 'v');
    (void)h.core(1).propose(cmd.encode());
  }
  h.stabilize();
  auto& m1 = h.node(1).machine;
  REQUIRE(h.core(1).compact(LogIndex(m1.applied_index()), std::make_shared<const core::Bytes>(m1.snapshot())).has_value());
  h.stabilize();
  h.heal();
}
}  // namespace

TEST_CASE("§5.1 a server that sees a larger term adopts it and becomes follower") {
  for (Role start : {Role::Follower, Role::Candidate, Role::Leader}) {
    RaftHarness h(3, 1, no_prevote);
    if (start == Role::Candidate) h.campaign(1);
    if (start == Role::Leader) elect(h, 1);
    REQUIRE(h.core(1).role() == start);
    const Term higher(h.core(1).term().value() + 5);
    (void)h.core(1).step(Message{.type = MsgType::App, .to = 1, .from = 2, .term = higher});
    CHECK(h.core(1).term() == higher);
    CHECK(h.core(1).role() == Role::Follower);
    CHECK(h.core(1).leader() == 2);
  }
}

TEST_CASE("§5.1 a request with a stale term is rejected") {
  RaftHarness h(3, 1, no_prevote);
  elect(h, 1);
  elect(h, 2);  // term 2
  const auto before = h.core(3).status();
  (void)h.core(3).step(Message{.type = MsgType::App, .to = 3, .from = 1, .term = Term(1), .index = LogIndex(5)});
  CHECK(h.core(3).status().last_index == before.last_index);
  CHECK(h.core(3).leader() == 2);
}

TEST_CASE("§5.2 a leader sends heartbeats every heartbeat timeout") {
  RaftHarness h(3, 1, no_prevote);
  elect(h, 1);
  h.tick(1);
  h.process_ready(1);
  CHECK(count(h, MsgType::Heartbeat) == 2);
}

TEST_CASE("§5.2 a follower that hears nothing for an election timeout becomes candidate") {
  RaftHarness h(3, 1, no_prevote);
  h.tick(1, 20);  // 2 × election_tick always exceeds the randomized timeout
  CHECK(h.core(1).role() == Role::Candidate);
  CHECK(h.core(1).term() == Term(1));
  CHECK(h.core(1).status().vote == 1);
  h.process_ready(1);
  CHECK(count(h, MsgType::Vote) == 2);
}

TEST_CASE("§5.2 election timeouts are randomized between election_tick and twice that") {
  std::set<int> seen;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    RaftHarness h(3, seed, no_prevote);
    int ticks = 0;
    while (h.core(1).role() == Role::Follower) {
      h.tick(1);
      ++ticks;
    }
    CHECK(ticks >= 10);
    CHECK(ticks < 20);
    seen.insert(ticks);
  }
  CHECK(seen.size() > 3);
}

TEST_CASE("§5.2 a candidate with votes from a majority becomes leader") {
  RaftHarness h(5, 1, no_prevote);
  h.isolate(4);
  h.isolate(5);
  h.campaign(1);
  h.stabilize();
  CHECK(h.core(1).role() == Role::Leader);
}

TEST_CASE("§5.2 a candidate without a majority stays candidate, then times out and retries") {
  RaftHarness h(5, 1, no_prevote);
  h.isolate(1);
  h.campaign(1);
  h.stabilize();
  CHECK(h.core(1).role() == Role::Candidate);
  CHECK(h.core(1).term() == Term(1));
  h.tick(1, 20);
  CHECK(h.core(1).role() == Role::Candidate);
  CHECK(h.core(1).term() == Term(2));
}

TEST_CASE("§5.2 a candidate that hears from a leader of its term steps down") {
  RaftHarness h(3, 1, no_prevote);
  h.campaign(1);
  CHECK(h.core(1).role() == Role::Candidate);
  (void)h.core(1).step(Message{.type = MsgType::App, .to = 1, .from = 2, .term = h.core(1).term()});
  CHECK(h.core(1).role() == Role::Follower);
  CHECK(h.core(1).leader() == 2);
}

TEST_CASE("§5.2 each server votes for at most one candidate per term, first come first served") {
  RaftHarness h(3, 1, no_prevote);
  (void)h.core(3).step(Message{.type = MsgType::Vote, .to = 3, .from = 1, .term = Term(1)});
  (void)h.core(3).step(Message{.type = MsgType::Vote, .to = 3, .from = 2, .term = Term(1)});
  (void)h.core(3).step(Message{.type = MsgType::Vote, .to = 3, .from = 1, .term = Term(1)});  // retransmission
  h.process_ready(3);
  std::vector<std::pair<PeerId, bool>> replies;
  for (auto& m : h.queue()) {
    if (m.type == MsgType::VoteResp) replies.emplace_back(m.to, !m.reject);
  }
  REQUIRE(replies.size() == 3);
  CHECK(replies[0] == std::pair<PeerId, bool>{1, true});
  CHECK(replies[1] == std::pair<PeerId, bool>{2, false});
  CHECK(replies[2] == std::pair<PeerId, bool>{1, true});
}

TEST_CASE("§5.2/§5.1 a vote is granted only after it is durable") {
  RaftHarness h(3, 1, no_prevote);
  (void)h.core(3).step(Message{.type = MsgType::Vote, .to = 3, .from = 1, .term = Term(1)});
  Ready rd = h.core(3).ready();
  CHECK(rd.messages.empty());
  REQUIRE(rd.messages_after_persist.size() == 1);
  CHECK(rd.messages_after_persist[0].type == MsgType::VoteResp);
  REQUIRE(rd.hard_state.has_value());
  CHECK(rd.hard_state->vote == 1);
  CHECK(rd.must_sync);
  h.core(3).advance(rd);
}

TEST_CASE("§5.3 the leader replicates, commits on a majority and every node applies") {
  RaftHarness h(3, 1, no_prevote);
  elect(h, 1);
  auto idx = h.propose(1, "x=1");
  REQUIRE(idx.has_value());
  h.stabilize();
  for (PeerId id : h.ids()) {
    CHECK(h.core(id).commit_index() == *idx);
    REQUIRE(!h.node(id).applied.empty());
    CHECK(std::string(h.node(id).applied.back().data.begin(), h.node(id).applied.back().data.end()) == "x=1");
  }
}

TEST_CASE("§5.3 an entry is committed once a majority stores it, even with a node down") {
  RaftHarness h(3, 1, no_prevote);
  elect(h, 1);
  h.isolate(3);
  auto idx = h.propose(1, "a");
  h.stabilize();
  CHECK(h.core(1).commit_index() == *idx);
  CHECK(h.core(3).last_index() < *idx);
}

TEST_CASE("§5.3 a follower rejects an append whose previous entry does not match") {
  RaftHarness h(3, 1, no_prevote);
  elect(h, 1);
  const LogIndex last = h.core(2).last_index();
  (void)h.core(2).step(Message{.type = MsgType::App, .to = 2, .from = 1, .term = h.core(1).term(),
                               .log_term = Term(9), .index = last});
  Ready rd = h.core(2).ready();
  bool rejected = false;
  for (auto& m : rd.messages_after_persist) rejected |= m.type == MsgType::AppResp && m.reject;
  CHECK(rejected);
  h.core(2).advance(rd);
}

TEST_CASE("§5.3 the leader forces followers' conflicting entries to match its log") {
  RaftHarness h(3, 1, no_prevote);
  elect(h, 1);
  h.stabilize();
  // Node 1 appends entries nobody else gets, then loses leadership.
  h.isolate(1);
  (void)h.propose(1, "lost-1");
  (void)h.propose(1, "lost-2");
  h.stabilize();
  elect(h, 2);
  (void)h.propose(2, "kept");
  h.stabilize();
  h.heal();
  h.tick(2);
  h.stabilize();
  CHECK(h.describe_log(1) == h.describe_log(2));
  CHECK(h.describe_log(1).find("lost") == std::string::npos);
}

TEST_CASE("§5.4.1 a voter denies its vote to a candidate whose log is less up to date") {
  RaftHarness h(3, 1, no_prevote);
  elect(h, 1);
  (void)h.propose(1, "a");
  h.stabilize();
  const Term t = next(h.core(2).term());
  (void)h.core(2).step(Message{.type = MsgType::Vote, .to = 2, .from = 3, .term = t, .log_term = Term(1), .index = LogIndex(1)});
  Ready rd = h.core(2).ready();
  REQUIRE(rd.messages_after_persist.size() == 1);
  CHECK(rd.messages_after_persist[0].reject);
  h.core(2).advance(rd);
}

TEST_CASE("§5.4.2 a leader never commits an entry of an earlier term by counting replicas (Figure 8)") {
  RaftHarness h(3, 1, no_prevote);
  elect(h, 1);
  h.stabilize();
  const LogIndex base = h.core(1).commit_index();
  // Term-1 entry reaches only node 1 and 2's log is cut off from it.
  h.isolate(1);
  (void)h.propose(1, "old");
  h.stabilize();
  // Node 1 wins a later term with node 3's vote (2 is away); the old entry now sits on 1 alone.
  h.heal();
  h.isolate(2);
  h.crash(1);
  h.restart(1);
  h.campaign(1);
  // Deliver the votes, but drop every append: the old entry must not become committed
  // just because it sits on a majority after replication without a current-term entry.
  h.drop_next([](const Message& m) { return m.type == MsgType::App && !m.entries.empty() && m.entries.back().type != EntryType::Noop; });
  h.stabilize();
  REQUIRE(h.core(1).role() == Role::Leader);
  // The only way "old" commits is together with the new leader's no-op of the current term.
  if (h.core(1).commit_index() > base) {
    auto t = h.core(1).term_at(h.core(1).commit_index());
    CHECK(*t == h.core(1).term());
  }
  h.drop_next(nullptr);
  h.stabilize();
  CHECK(h.core(1).commit_index() == h.core(1).last_index());
}

TEST_CASE("§5.4 leader completeness: a new leader has every committed entry") {
  RaftHarness h(5, 7, no_prevote);
  elect(h, 1);
  for (int i = 0; i < 5; ++i) (void)h.propose(1, "e" + std::to_string(i));
  h.isolate(4);
  h.isolate(5);
  h.stabilize();
  const LogIndex committed = h.core(1).commit_index();
  h.heal();
  h.isolate(1);
  // 4 and 5 have stale logs and cannot win; 2 or 3 must.
  h.campaign(4);
  h.stabilize();
  CHECK(h.core(4).role() != Role::Leader);
  h.campaign(2);
  h.stabilize();
  REQUIRE(h.leader() == 2);
  CHECK(h.core(2).last_index() >= committed);
}

TEST_CASE("§5.5 followers and candidates tolerate retransmitted requests") {
  RaftHarness h(3, 1, no_prevote);
  elect(h, 1);
  (void)h.propose(1, "a");
  h.process_ready(1);
  auto q = h.queue();
  for (auto& m : q) h.queue().push_back(m);  // every message twice
  h.stabilize();
  CHECK(h.node(2).applied.size() == h.node(1).applied.size());
}

TEST_CASE("§6 membership: add a learner, promote it, remove a voter; one change at a time") {
  RaftHarness h(3, 1, no_prevote);
  elect(h, 1);
  h.add_node(4, h.core(1).conf());
  auto r = h.core(1).propose_conf_change({ConfChange::Kind::AddLearner, 4});
  REQUIRE(r.has_value());
  // A second change while the first is uncommitted is refused.
  auto again = h.core(1).propose_conf_change({ConfChange::Kind::Remove, 3});
  CHECK(!again.has_value());
  CHECK(again.error().code() == Code::Unavailable);
  h.stabilize();
  CHECK(h.core(1).conf().is_learner(4));
  CHECK(h.core(4).conf().is_learner(4));
  CHECK(h.core(4).last_index() == h.core(1).last_index());
  // Learners never campaign.
  h.tick(4, 50);
  CHECK(h.core(4).role() == Role::Follower);
  REQUIRE(h.core(1).propose_conf_change({ConfChange::Kind::AddVoter, 4}).has_value());
  h.stabilize();
  CHECK(h.core(2).conf().voters == std::vector<PeerId>{1, 2, 3, 4});
  REQUIRE(h.core(1).propose_conf_change({ConfChange::Kind::Remove, 3}).has_value());
  h.stabilize();
  CHECK(h.core(1).conf().voters == std::vector<PeerId>{1, 2, 4});
  // Removing the leader: it steps down once the change commits.
  REQUIRE(h.core(1).propose_conf_change({ConfChange::Kind::Remove, 1}).has_value());
  h.stabilize();
  CHECK(h.core(1).role() == Role::Follower);
  for (int i = 0; i < 60 && h.leader() != 2 && h.leader() != 4; ++i) {
    h.tick_all();
    h.stabilize();
  }
  CHECK((h.leader() == 2 || h.leader() == 4));
}

TEST_CASE("§6 the known fix: no membership change before the leader commits an entry of its term") {
  RaftHarness h(3, 1, no_prevote);
  h.campaign(1);
  h.process_ready(1);
  h.deliver();
  h.process_ready(2);
  h.process_ready(3);
  h.deliver();  // votes arrive: 1 is leader, its no-op not yet committed
  REQUIRE(h.core(1).role() == Role::Leader);
  auto r = h.core(1).propose_conf_change({ConfChange::Kind::AddLearner, 9});
  CHECK(!r.has_value());
  CHECK(r.error().code() == Code::Unavailable);
  h.stabilize();
  CHECK(h.core(1).propose_conf_change({ConfChange::Kind::AddLearner, 9}).has_value());
}

TEST_CASE("§6 an uncommitted configuration entry is rolled back when its suffix is overwritten") {
  RaftHarness h(3, 1, no_prevote);
  elect(h, 1);
  h.isolate(1);
  REQUIRE(h.core(1).propose_conf_change({ConfChange::Kind::AddLearner, 9}).has_value());
  h.stabilize();
  CHECK(h.core(1).conf().is_learner(9));
  elect(h, 2);
  h.heal();
  h.tick(2);
  h.stabilize();
  CHECK(!h.core(1).conf().is_learner(9));
}

TEST_CASE("§7 a follower that fell behind a compaction catches up from a chunked snapshot") {
  RaftHarness h(3, 1, [](Config& c) {
    no_prevote(c);
    c.snapshot_chunk_bytes = 64;
    c.max_snapshot_chunks_inflight = 2;
  });
  leave_follower_3_behind_a_compaction(h);
  // Lose one chunk: the transfer resumes from what the follower acknowledged.
  bool dropped = false;
  h.drop_next([&](const Message& m) {
    if (!dropped && m.type == MsgType::Snap && m.chunk_offset == 64) return dropped = true;
    return false;
  });
  for (int i = 0; i < 5; ++i) {
    h.tick(1);
    h.stabilize();
  }
  CHECK(dropped);
  CHECK(h.core(3).snapshot().meta.index == h.core(1).snapshot().meta.index);
  CHECK(h.node(3).machine.list("k").size() == 20);
  CHECK(h.core(3).commit_index() == h.core(1).commit_index());
}

TEST_CASE("§7 a follower that restarts in the middle of a snapshot transfer makes the leader start over") {
  RaftHarness h(3, 1, [](Config& c) {
    no_prevote(c);
    c.snapshot_chunk_bytes = 64;
    c.max_snapshot_chunks_inflight = 2;
  });
  leave_follower_3_behind_a_compaction(h);
  // Chunks beyond the first two never arrive; the follower then restarts, losing what it had.
  bool blocking = true;
  h.drop_next([&](const Message& m) { return blocking && m.type == MsgType::Snap && m.chunk_offset >= 128; });
  h.tick(1);
  h.stabilize();
  REQUIRE(h.core(3).snapshot().meta.index < h.core(1).snapshot().meta.index);
  h.crash(3);
  h.restart(3);
  blocking = false;
  for (int i = 0; i < 8; ++i) {
    h.tick(1);
    h.stabilize();
  }
  CHECK(h.core(3).snapshot().meta.index == h.core(1).snapshot().meta.index);
  CHECK(h.node(3).machine.list("k").size() == 20);
  CHECK(h.core(3).commit_index() == h.core(1).commit_index());
}

TEST_CASE("PreVote: a node rejoining from a partition does not disrupt the leader (dissertation §9.6)") {
  RaftHarness h(3, 1);
  elect(h, 1);
  const Term t = h.core(1).term();
  h.isolate(3);
  h.tick(3, 100);
  h.stabilize();
  CHECK(h.core(3).term() == t);  // pre-votes failed; the term did not grow
  h.heal();
  h.tick_all(3);
  h.stabilize();
  CHECK(h.leader() == 1);
  CHECK(h.core(1).term() == t);
}

TEST_CASE("CheckQuorum: an isolated leader steps down within an election timeout (dissertation §6.2)") {
  RaftHarness h(3, 1);
  elect(h, 1);
  h.isolate(1);
  for (int i = 0; i < 25; ++i) {
    h.tick(1);
    h.stabilize();
  }
  CHECK(h.core(1).role() == Role::Follower);
}

TEST_CASE("ReadIndex: served only after a quorum confirms the leader (dissertation §6.4)") {
  RaftHarness h(3, 1);
  elect(h, 1);
  REQUIRE(h.core(1).read_index(42).has_value());
  h.process_ready(1);
  CHECK(h.node(1).reads.empty());  // needs the heartbeat round
  h.stabilize();
  REQUIRE(h.node(1).reads.size() == 1);
  CHECK(h.node(1).reads[0].context == 42);
  CHECK(h.node(1).reads[0].index == h.core(1).commit_index());
  // An isolated (deposed) leader cannot serve a read.
  h.isolate(1);
  REQUIRE(h.core(1).read_index(43).has_value());
  h.stabilize();
  CHECK(h.node(1).reads.size() == 1);
  // A follower's read is forwarded to the leader.
  h.heal();
  h.isolate(1);
  for (int i = 0; i < 40 && (h.leader() == 1 || h.leader() == 0); ++i) {
    h.tick_all();
    h.stabilize();
  }
  const PeerId l = h.leader();
  REQUIRE((l == 2 || l == 3));
  const PeerId f = l == 2 ? 3 : 2;
  REQUIRE(h.core(f).read_index(44).has_value());
  h.stabilize();
  REQUIRE(h.node(f).reads.size() == 1);
  CHECK(h.node(f).reads[0].context == 44);
}

TEST_CASE("leadership transfer hands over within one round trip (dissertation §3.10)") {
  RaftHarness h(3, 1);
  elect(h, 1);
  (void)h.propose(1, "a");
  h.stabilize();
  REQUIRE(h.core(1).transfer_leadership(3).has_value());
  CHECK(!h.core(1).propose(core::Bytes{1}).has_value());  // proposals pause during the transfer
  h.stabilize();
  CHECK(h.leader() == 3);
  CHECK(h.core(1).role() == Role::Follower);
}

TEST_CASE("flow control: at most max_inflight_msgs appends in flight to a follower") {
  RaftHarness h(3, 1, [](Config& c) {
    c.max_inflight_msgs = 4;
    c.max_size_per_msg = 1;  // one entry per message
  });
  elect(h, 1);
  h.isolate(3);
  for (int i = 0; i < 20; ++i) {
    (void)h.propose(1, "p");
  }
  h.process_ready(1);
  std::size_t to2 = 0;
  for (auto& m : h.queue()) to2 += m.type == MsgType::App && m.to == 2;
  CHECK(to2 <= 4);
  h.heal();
  h.stabilize();
  CHECK(h.core(2).last_index() == h.core(1).last_index());
}

TEST_CASE("a damaged log neither votes nor campaigns, and says why (repair is exercised by the simulation)") {
  RaftHarness h(3, 1);
  elect(h, 1);
  for (int i = 0; i < 3; ++i) (void)h.propose(1, "x");
  h.stabilize();
  // Simulate storage finding damage on node 3: it restarts with its log cut.
  auto& n3 = h.node(3);
  const LogIndex had = LogIndex(n3.log.back().index.value());
  h.crash(3);
  n3.log.resize(2);
  h.restart(3);
  {
    InitialState init;
    init.hard_state = n3.hard;
    init.entries = n3.log;
    init.bootstrap = n3.snapshot.meta.conf;
    init.damage = "entry 3 failed its checksum";
    init.damaged_until = had;
    core::Rng rng(5);
    Config c;
    c.id = 3;
    auto r = Raft::create(c, rng, init);
    REQUIRE(r.has_value());
    CHECK(r->damage() == "entry 3 failed its checksum");
    for (int i = 0; i < 50; ++i) r->tick();
    CHECK(r->role() == Role::Follower);  // never campaigns
    (void)r->step(Message{.type = MsgType::Vote, .to = 3, .from = 2, .term = next(r->term()),
                          .log_term = Term(99), .index = LogIndex(99)});
    Ready rd = r->ready();
    REQUIRE(!rd.messages_after_persist.empty());
    CHECK(rd.messages_after_persist.back().reject);
    r->advance(rd);
  }
}
