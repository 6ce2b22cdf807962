// SPDX-License-Identifier: Apache-2.0
//
// The Raft core in the etcd-raft style: a thread-unsafe state machine with four verbs — tick()
// (logical clock), step(message), ready() and advance(). It never touches a socket, file, clock
// or thread; randomness comes from the Rng its owner passes in, and the only notion of real time
// it sees is the `now` its owner reports through set_now() (used to stamp cluster time on the
// entries a leader creates). Same inputs, same outputs: the simulator and the golden tests
// replay it exactly. Design: docs/adr/0020-raft-core.md; paper sections are cited inline.
#pragma once

#include "core/log.hpp"
#include "core/rng.hpp"
#include "core/time.hpp"
#include "raft/progress.hpp"
#include "raft/types.hpp"

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace constellation::raft {

/// Tuning and identity of one core. Times are in ticks; the owner decides how long a tick is
/// (the node runtime uses 100 ms by default, so the election timeout is 1–2 s).
struct Config {
  /// This member's id; non-zero.
  PeerId id = kNoPeer;
  /// Ticks without hearing from a leader before a follower campaigns. The actual timeout is
  /// drawn uniformly from [election_tick, 2·election_tick) after every reset (§5.2). Must be
  /// greater than heartbeat_tick. Suggested: 10.
  int election_tick = 10;
  /// Ticks between leader heartbeats. Suggested: 1.
  int heartbeat_tick = 1;
  /// Run a PreVote round before bumping the term, so a node rejoining after a partition cannot
  /// disrupt a healthy leader (dissertation §9.6). Default on.
  bool pre_vote = true;
  /// A leader steps down when it has not heard from a quorum within an election timeout, and
  /// followers ignore votes while they hear from a leader (dissertation §6.2). Default on.
  bool check_quorum = true;
  /// Largest AppendEntries payload in bytes (at least one entry is always sent). Default 1 MiB.
  std::size_t max_size_per_msg = 1u << 20;
  /// Pipelined AppendEntries in flight per follower. Default 256.
  std::size_t max_inflight_msgs = 256;
  /// Bytes of AppendEntries in flight per follower. Default 32 MiB.
  std::size_t max_inflight_bytes = 32u << 20;
  /// Proposals are refused (Unavailable) while the leader's uncommitted entries exceed this many
  /// bytes: back-pressure instead of unbounded memory. Default 64 MiB.
  std::size_t max_uncommitted_bytes = 64u << 20;
  /// Bytes of committed entries handed out per Ready. Default 16 MiB.
  std::size_t max_committed_bytes_per_ready = 16u << 20;
  /// When the commit index advances, a leader tells its followers at once with an (often
  /// empty) AppendEntries — each answered by an acknowledgement. With this on, it only sends the
  /// entries it has; followers learn the new commit index from the next AppendEntries or
  /// heartbeat, or when the owner calls broadcast_commit() (the node runtime does so within
  /// 2 ms while commit_broadcast_due()). Under steady writes that halves the messages per
  /// write. Safety does not depend on when followers learn the commit index. Default off
  /// (etcd-raft's behaviour); the node runtime turns it on.
  bool defer_commit_broadcast = false;
  /// Snapshot chunk size in bytes, and chunks in flight per follower. Defaults 512 KiB, 4.
  std::size_t snapshot_chunk_bytes = 512u << 10;
  std::size_t max_snapshot_chunks_inflight = 4;
  /// Where the core says what it did and why (elections, step-downs, refused votes, damage).
  core::log::Logger logger;
};

/// What the owner loaded from storage at start. Empty for a brand-new member.
struct InitialState {
  HardState hard_state;
  /// The latest snapshot (index 0 when none). Its data is the owner's concern; the core only
  /// needs it to send to followers that fall behind.
  Snapshot snapshot;
  /// Entries after the snapshot, contiguous.
  std::vector<Entry> entries;
  /// The configuration to start with when neither the snapshot nor the log has one (a
  /// bootstrap): every member must start with the same voters.
  ConfState bootstrap;
  /// Set when storage found damage (a failed checksum, a gap, a truncated file): the log was cut
  /// before the damage and this node neither votes nor campaigns until it has again received a
  /// durable log up to `damaged_until` from a leader. Empty when the log is intact.
  std::string damage;
  LogIndex damaged_until;
};

/// A snapshot of the core's state for status pages, tests and the invariant checkers.
struct Status {
  PeerId id = kNoPeer;
  Term term;
  PeerId vote = kNoPeer;
  LogIndex commit;
  LogIndex applied;
  LogIndex last_index;
  LogIndex persisted;
  LogIndex snapshot_index;
  Role role = Role::Follower;
  PeerId leader = kNoPeer;
  ConfState conf;
  PeerId transferee = kNoPeer;
  std::string damage;
  std::map<PeerId, Progress> progress;
};

class Raft {
 public:
  /// Builds a core from persisted state. `rng` must outlive the core.
  /// Errors: InvalidArgument (bad config: zero id, election_tick <= heartbeat_tick, entries not
  /// contiguous with the snapshot).
  static Result<Raft> create(Config config, core::Rng& rng, InitialState initial);

  // --- inputs ------------------------------------------------------------------------------
  /// Advances the logical clock by one tick: elections, heartbeats, CheckQuorum, transfer timeout.
  void tick();
  /// Feeds a message from a peer (or a local one). Messages from unknown or stale senders are
  /// ignored. Errors only for local requests: see propose().
  Result<void> step(const Message& m);
  /// Reports the owner's monotonic time; the leader stamps cluster time from it.
  void set_now(core::Instant now) { now_ = now; }

  /// Proposes an application command. On the leader returns the index it will occupy; on a
  /// follower forwards it to the leader and returns index 0 (the owner learns the outcome when
  /// the entry is applied). Errors: NotLeader (no leader known), Unavailable (leadership transfer
  /// in progress, or uncommitted entries above max_uncommitted_bytes).
  Result<LogIndex> propose(core::Bytes data);
  /// Proposes several commands at once: one append, one AppendEntries per follower (batching).
  /// Returns the index of the last one (0 when forwarded). Errors: as propose().
  Result<LogIndex> propose_batch(std::vector<core::Bytes> commands);
  /// Proposes a single-server membership change (leader only). Errors: NotLeader, Unavailable
  /// (another change is pending, or this leader has not committed an entry of its term yet),
  /// InvalidArgument (removing the last voter, adding a member that exists).
  Result<LogIndex> propose_conf_change(const ConfChange& change);
  /// Starts a linearizable read (ReadIndex, dissertation §6.4). The result arrives as a
  /// ReadState with this context in a later Ready (or a DroppedRead). Errors: NotLeader.
  Result<void> read_index(std::uint64_t context);
  /// Hands leadership to `target` (dissertation §3.10); forwarded when not the leader.
  /// Errors: NotLeader (no leader known), InvalidArgument (target is not a voter).
  Result<void> transfer_leadership(PeerId target);
  /// Starts an election now (tests, and a forced single-voter recovery).
  void campaign();
  /// Tells the core a peer could not be reached; its replication falls back to probing.
  void report_unreachable(PeerId peer);
  /// With Config::defer_commit_broadcast: sends the commit index to every follower that has not
  /// been sent it yet (an AppendEntries, empty when it has no new entries). Harmless otherwise.
  void broadcast_commit();
  /// Replaces the log prefix up to `index` (<= applied) with a snapshot of the state machine.
  /// Errors: InvalidArgument (index beyond applied or before the current snapshot).
  Result<void> compact(LogIndex index, std::shared_ptr<const core::Bytes> data);

  // --- outputs -----------------------------------------------------------------------------
  /// Whether ready() has something new.
  bool has_ready() const;
  /// A leader with Config::defer_commit_broadcast has a commit index some follower was not
  /// sent yet: the owner should call broadcast_commit() soon.
  bool commit_broadcast_due() const;
  /// The next batch of work (see Ready for the order). Several Readys may be outstanding at once
  /// (storage writes pipeline, as with etcd's asynchronous storage writes): the caller persists
  /// them in the order taken and advance()s them in that order. Committed entries may be applied
  /// as soon as the Ready is taken, before its own write finishes.
  Ready ready();
  /// Acknowledges that `rd` was handled: its entries and hard state are durable. Readys are
  /// advanced in the order ready() returned them.
  void advance(const Ready& rd);

  // --- queries -----------------------------------------------------------------------------
  Status status() const;
  PeerId id() const { return cfg_.id; }
  Term term() const { return term_; }
  Role role() const { return role_; }
  PeerId leader() const { return lead_; }
  LogIndex commit_index() const { return commit_; }
  LogIndex applied_index() const { return applied_; }
  LogIndex last_index() const;
  const ConfState& conf() const { return conf_; }
  const std::string& damage() const { return damage_; }
  /// Entries in [lo, hi] still in memory (tests and the simulator's checkers).
  std::vector<Entry> entries(LogIndex lo, LogIndex hi) const;
  std::optional<Term> term_at(LogIndex i) const;
  const Snapshot& snapshot() const { return snapshot_; }
  /// Aborts (CST_ASSERT) if an internal invariant is broken (LogCabin's RaftConsensusInvariants).
  void check_invariants() const;

  Raft(Raft&&) = default;
  Raft& operator=(Raft&&) = delete;

 private:
  using StepFn = Result<void> (Raft::*)(const Message&);
  Raft(Config config, core::Rng& rng);

  // roles (etcd: roles are swapped functions)
  void become_follower(Term term, PeerId lead);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  Result<void> step_follower(const Message& m);
  Result<void> step_candidate(const Message& m);
  Result<void> step_leader(const Message& m);
  void reset(Term term);
  void reset_randomized_election_timeout();
  void tick_election();
  void tick_heartbeat();

  // elections
  void hup(bool transfer);
  void run_election(bool pre, bool transfer);
  void handle_vote_request(const Message& m);
  int poll(PeerId from, bool granted);  // +1 won, -1 lost, 0 pending
  bool promotable() const;
  bool log_up_to_date(Term last_term, LogIndex last_index) const;

  // replication
  void append_local(std::vector<Entry> entries);
  bool send_append(PeerId to, bool send_if_empty);
  void send_heartbeat(PeerId to, std::uint64_t context);
  void bcast_append(bool send_if_empty = false);
  void bcast_heartbeat(std::uint64_t context);
  bool maybe_commit();
  // After the commit index advanced on a leader: tell the followers now, or defer (see Config).
  void on_commit_advanced();
  void handle_append(const Message& m);
  void handle_heartbeat(const Message& m);
  void handle_append_response(const Message& m);
  void handle_heartbeat_response(const Message& m);
  void send_snapshot_chunks(PeerId to, Progress& pr);
  void handle_snapshot_chunk(const Message& m);
  void handle_snapshot_response(const Message& m);
  void handle_read_index(const Message& m);
  void release_reads();
  void handle_transfer(PeerId target);
  void send(Message m, bool after_persist = false);

  // log
  std::size_t offset(LogIndex i) const;  // position of i in entries_
  LogIndex first_index() const { return next(snapshot_.meta.index); }
  Term last_term() const;
  void truncate_from(LogIndex i);
  void apply_conf(const ConfState& conf);
  ConfState conf_at(LogIndex i) const;
  void recompute_conf();
  bool committed_entry_in_current_term() const;
  std::uint64_t next_cluster_time() const;
  void check_damage_repaired();

  Config cfg_;
  core::Rng* rng_;
  core::Instant now_;

  // Persistent state (§5.1 Figure 2), mirrored to storage through Ready.
  Term term_;
  PeerId vote_ = kNoPeer;
  // Invariant: snapshot_.meta.index <= applied_ <= commit_ <= last_index().
  LogIndex commit_;
  // The log: snapshot_ covers [1, snapshot index], entries_ the rest, contiguous.
  Snapshot snapshot_;
  std::deque<Entry> entries_;

  // Volatile state.
  LogIndex applied_;         // handed to the state machine (in a Ready, or as a leader's snapshot)
  LogIndex persisted_;       // Invariant: entries <= persisted_ are durable.
  LogIndex unstable_from_;   // first index not yet handed to storage
  int readies_outstanding_ = 0;  // taken by ready(), not yet advance()d
  bool commit_broadcast_due_ = false;
  std::optional<Snapshot> pending_snapshot_;
  bool pending_snapshot_from_leader_ = false;
  HardState prev_hard_;
  SoftState prev_soft_;

  Role role_ = Role::Follower;
  StepFn step_ = &Raft::step_follower;
  PeerId lead_ = kNoPeer;
  ConfState conf_;
  ConfState bootstrap_conf_;
  LogIndex pending_conf_index_;  // a leader proposes no change while an earlier one is uncommitted
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_timeout_ = 0;
  std::map<PeerId, bool> votes_;
  std::map<PeerId, Progress> progress_;
  std::size_t uncommitted_bytes_ = 0;
  PeerId lead_transferee_ = kNoPeer;

  // Cluster time (leader only): base + (now - since).
  std::uint64_t leader_time_base_ = 0;
  core::Instant leader_since_;

  // ReadIndex.
  struct PendingRead {
    std::uint64_t context;
    PeerId from;
    LogIndex index;
    std::uint64_t seq;
  };
  std::uint64_t read_seq_ = 0;
  std::vector<PendingRead> pending_reads_;
  std::vector<Message> reads_waiting_for_commit_;  // before the no-op of this term commits
  std::vector<ReadState> read_states_;
  std::vector<DroppedRead> dropped_reads_;

  // Incoming snapshot being assembled from chunks (resumable: kept across leader retries).
  struct Assembly {
    SnapshotMeta meta;
    std::uint64_t size = 0;
    std::uint32_t crc = 0;
    core::Bytes data;
  };
  std::optional<Assembly> assembly_;

  std::string damage_;
  LogIndex damaged_until_;

  std::vector<Message> msgs_;
  std::vector<Message> msgs_after_persist_;
};

}  // namespace constellation::raft
