// SPDX-License-Identifier: Apache-2.0
//
// The vocabulary of the Raft core: terms, indexes, entries, messages, hard state, configuration
// and the Ready batch the core hands to its owner. Everything here is plain data; the core
// (raft/raft.hpp) turns inputs into these outputs without I/O (docs/adr/0020-raft-core.md).
#pragma once

#include "core/bytes.hpp"
#include "core/ids.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace constellation::raft {

struct TermTag {};
struct LogIndexTag {};
/// A Raft term (§5.1). Strong type: never mixed up with an index.
using Term = core::StrongId<TermTag, std::uint64_t>;
/// A position in the replicated log; 0 means "before the first entry".
using LogIndex = core::StrongId<LogIndexTag, std::uint64_t>;

inline Term next(Term t) { return Term(t.value() + 1); }
inline LogIndex next(LogIndex i) { return LogIndex(i.value() + 1); }
inline LogIndex prev(LogIndex i) { return LogIndex(i.value() == 0 ? 0 : i.value() - 1); }
inline LogIndex operator+(LogIndex i, std::uint64_t n) { return LogIndex(i.value() + n); }

/// A member of the Raft group. 0 is "nobody" (no vote, no known leader).
using PeerId = std::uint64_t;
inline constexpr PeerId kNoPeer = 0;

/// What an entry carries. Append only; values are stored on disk and sent on the wire.
enum class EntryType : std::uint8_t {
  /// An application command (opaque bytes for the state machine).
  Normal = 0,
  /// Appended by every new leader (§8): commits the previous terms' entries and lets ReadIndex
  /// serve. Carries no data.
  Noop = 1,
  /// A new configuration (the full ConfState, encoded). Takes effect when appended (§4.1 of the
  /// dissertation), not when committed.
  Config = 2,
};

/// One log entry. `crc` covers every other field (CRC32C); it is computed once by the leader
/// that creates the entry and checked by every follower that receives it and by storage on load.
struct Entry {
  Term term;
  LogIndex index;
  EntryType type = EntryType::Normal;
  /// Replicated cluster time in nanoseconds, stamped by the leader that created the entry;
  /// non-decreasing along the log. The lease state machine measures expiry in it.
  std::uint64_t cluster_time = 0;
  core::Bytes data;
  std::uint32_t crc = 0;

  /// CRC32C over term, index, type, cluster_time and data.
  std::uint32_t compute_crc() const;
  void seal() { crc = compute_crc(); }
  bool intact() const { return crc == compute_crc(); }
  /// Size charged to flow control and batching limits.
  std::size_t payload_bytes() const { return data.size() + 32; }
  friend bool operator==(const Entry&, const Entry&) = default;
};

/// Voters and learners. Membership changes one server at a time (dissertation §4.1) with the
/// known fix: a leader proposes a change only after committing an entry of its own term, and
/// only one change is pending at a time (docs/adr/0021-membership.md).
struct ConfState {
  std::vector<PeerId> voters;    // sorted, unique
  std::vector<PeerId> learners;  // sorted, unique, disjoint from voters

  bool is_voter(PeerId id) const;
  bool is_learner(PeerId id) const;
  bool contains(PeerId id) const { return is_voter(id) || is_learner(id); }
  /// voters ∪ learners, sorted.
  std::vector<PeerId> members() const;
  core::Bytes encode() const;
  static Result<ConfState> decode(core::ByteView bytes);
  std::string describe() const;
  friend bool operator==(const ConfState&, const ConfState&) = default;
};

/// A requested single-server membership change.
struct ConfChange {
  enum class Kind : std::uint8_t { AddVoter = 0, AddLearner = 1, Remove = 2 };
  Kind kind = Kind::AddVoter;
  PeerId peer = kNoPeer;
};

/// What must be on disk before the node answers anything (§5.1 Figure 2 "persistent state").
struct HardState {
  Term term;
  PeerId vote = kNoPeer;
  LogIndex commit;
  friend bool operator==(const HardState&, const HardState&) = default;
};

/// Identifies a snapshot: the last index and term it covers and the configuration at that index.
struct SnapshotMeta {
  LogIndex index;
  Term term;
  ConfState conf;
  /// Cluster time of the entry at `index`.
  std::uint64_t cluster_time = 0;
  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

/// A state machine snapshot. The data is shared and immutable: the core, the storage thread and
/// the sender of chunks may hold it at once.
struct Snapshot {
  SnapshotMeta meta;
  std::shared_ptr<const core::Bytes> data;
  /// CRC32C of *data.
  std::uint32_t crc = 0;
  bool empty() const { return meta.index.value() == 0; }
};

/// Message types. Append only; values are on the wire.
enum class MsgType : std::uint8_t {
  Hup = 0,              // local: start an election (PreVote first when enabled)
  Beat = 1,             // local: leader sends heartbeats now
  Prop = 2,             // propose entries (local, or forwarded by a follower to the leader)
  App = 3,              // AppendEntries (§5.3)
  AppResp = 4,
  Vote = 5,             // RequestVote (§5.2)
  VoteResp = 6,
  PreVote = 7,          // dissertation §9.6
  PreVoteResp = 8,
  Heartbeat = 9,        // empty AppendEntries carrying commit and the ReadIndex round
  HeartbeatResp = 10,
  Snap = 11,            // InstallSnapshot chunk (§7)
  SnapResp = 12,
  ReadIndex = 13,       // a linearizable read (local, or forwarded to the leader)
  ReadIndexResp = 14,
  TimeoutNow = 15,      // leadership transfer: campaign now (dissertation §3.10)
  TransferLeader = 16,  // local or forwarded: hand leadership to `from`'s named target
};
const char* msg_type_name(MsgType t);
/// True for types that only exist inside one node and are never sent.
bool is_local(MsgType t);

/// A Raft message. Field meanings depend on the type; unused fields are zero.
struct Message {
  MsgType type = MsgType::App;
  PeerId to = kNoPeer;
  PeerId from = kNoPeer;
  Term term;
  /// App: term of the entry before `entries`; Vote: term of the candidate's last entry.
  Term log_term;
  /// App: index before `entries`; Vote: candidate's last index; AppResp: the index acknowledged
  /// (or, when rejected, the index probed); Snap: snapshot index.
  LogIndex index;
  LogIndex commit;
  std::vector<Entry> entries;
  bool reject = false;
  /// AppResp on reject: the follower's last index (a hint for the leader's next probe).
  LogIndex reject_hint;
  /// Heartbeat / HeartbeatResp: the leader's ReadIndex round. ReadIndex / ReadIndexResp: the
  /// request id chosen by the requesting node.
  std::uint64_t context = 0;
  /// Vote / PreVote: this election is a leadership transfer (bypasses the leader-stickiness
  /// check of CheckQuorum).
  bool transfer = false;
  // --- snapshot chunks (Snap / SnapResp) ---
  SnapshotMeta snapshot;
  std::uint64_t snapshot_size = 0;
  std::uint32_t snapshot_crc = 0;
  std::uint64_t chunk_offset = 0;
  core::Bytes chunk;

  /// Bytes charged to flow control.
  std::size_t payload_bytes() const;
};

/// Soft state: not persisted, but the owner wants to know when it changes.
enum class Role : std::uint8_t { Follower = 0, PreCandidate = 1, Candidate = 2, Leader = 3 };
const char* role_name(Role r);

struct SoftState {
  PeerId leader = kNoPeer;
  Role role = Role::Follower;
  friend bool operator==(const SoftState&, const SoftState&) = default;
};

/// A ReadIndex result: once the state machine has applied `index`, a read issued with `context`
/// sees every write acknowledged before the read was requested.
struct ReadState {
  LogIndex index;
  std::uint64_t context = 0;
};

/// A request the core could not serve (forwarding failed, leadership lost). The owner fails the
/// waiting client with NotLeader/Unavailable and lets it retry.
struct DroppedRead {
  std::uint64_t context = 0;
  std::string reason;
};

/// Everything the owner must do after feeding the core, in this order (docs/adr/0020):
///   1. send `messages` (they do not depend on this batch's durability); install `snapshot`
///      into the state machine if `snapshot_from_leader`, apply `committed_entries` and serve
///      `read_states` (committed entries are durable on a majority already: the leader counts
///      itself only for what it has persisted);
///   2. persist `hard_state`, `snapshot` and `entries` in one transaction with one fsync
///      (`must_sync`), after every earlier Ready's write — writes of consecutive Readys may share
///      a transaction and an fsync;
///   3. then send `messages_after_persist` (votes and append acknowledgements: nothing is
///      promised before it is durable);
///   4. call advance(ready), in the order the Readys were taken.
/// The next Ready may be taken before this one's write finishes (the writes pipeline), but its
/// steps 3 and 4 wait for every earlier Ready's. When `must_sync` is false the batch holds no
/// entries, snapshot, term or vote — at most a new commit index, which need not be durable (a
/// restarted node relearns it from the leader) — so the owner may skip step 2's fsync and write
/// the commit index with its next batch.
struct Ready {
  std::optional<SoftState> soft_state;
  std::optional<HardState> hard_state;
  /// Entries to append; entries already stored at the same indexes (and after) are replaced.
  std::vector<Entry> entries;
  /// A snapshot to persist; log entries up to its index may be dropped from storage.
  std::optional<Snapshot> snapshot;
  /// True when `snapshot` came from the leader and the state machine must be replaced by it.
  bool snapshot_from_leader = false;
  std::vector<Entry> committed_entries;
  std::vector<Message> messages;
  std::vector<Message> messages_after_persist;
  std::vector<ReadState> read_states;
  std::vector<DroppedRead> dropped_reads;
  bool must_sync = false;

  bool empty() const {
    return !soft_state && !hard_state && entries.empty() && !snapshot && committed_entries.empty() &&
           messages.empty() && messages_after_persist.empty() && read_states.empty() && dropped_reads.empty();
  }
};

}  // namespace constellation::raft
