// SPDX-License-Identifier: Apache-2.0
//
// The replicated lease and KV state machine. Deterministic: apply() sees only the committed
// entry (its index, its cluster time, its bytes), so every replica reaches the same state.
//
//  * Leases: acquire(name, holder, ttl) → fencing token = the Raft index of the granting entry,
//    so tokens strictly increase per name and are never reused. Expiry is measured in cluster
//    time (stamped on entries by the leader, paused across leader changes), never a node's wall
//    clock. An expired (not released) lease keeps others off for its lock-delay (Chubby).
//  * KV: put/delete with compare-and-set on the key's mod revision, prefix list, and a bounded
//    event history for watches (blocking queries by revision).
//  * Client sessions (LogCabin): a command carries (session, seq, first_outstanding); a retried
//    command returns the recorded response instead of applying twice.
// Design: docs/adr/0022-leases.md.
#pragma once

#include <constellation/result.hpp>

#include "core/bytes.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace constellation::lease {

/// Cluster time in nanoseconds (see raft::Entry::cluster_time).
using ClusterTime = std::uint64_t;

/// Operations. Append only; values are stored in the log.
enum class Op : std::uint8_t {
  Put = 1,
  Delete = 2,
  Acquire = 3,
  Renew = 4,
  Release = 5,
};

struct Command {
  Op op = Op::Put;
  /// Client session (0: none, no deduplication) and the command's sequence number in it.
  std::uint64_t session = 0;
  std::uint64_t seq = 0;
  /// Every seq below this has been answered; the machine may forget their responses.
  std::uint64_t first_outstanding = 0;
  /// Key (Put/Delete) or lease name (Acquire/Renew/Release).
  std::string key;
  std::string value;
  /// Put/Delete: compare-and-set. When `has_expected`: 0 means "the key must not exist", any
  /// other value must equal the key's current mod revision.
  bool has_expected = false;
  std::uint64_t expected_revision = 0;
  /// Leases: the holder's identity, TTL and lock-delay (nanoseconds of cluster time).
  std::string holder;
  std::uint64_t ttl_ns = 0;
  std::uint64_t lock_delay_ns = 0;
  /// Renew/Release: the token the holder was granted.
  std::uint64_t token = 0;

  core::Bytes encode() const;
  /// Errors: InvalidArgument naming the field.
  static Result<Command> decode(core::ByteView bytes);
};

/// The outcome of one command, identical on every replica.
struct Response {
  /// 0 on success, else the Code (as int) of the refusal.
  int code = 0;
  std::string message;
  /// Put/Delete: the revision written. Acquire/Renew: the fencing token.
  std::uint64_t revision = 0;
  /// Acquire/Renew: expiry in cluster time.
  ClusterTime expiry = 0;
  /// The cluster time at which the command applied.
  ClusterTime applied_at = 0;
  bool ok() const { return code == 0; }
  core::Bytes encode() const;
  static Result<Response> decode(core::ByteView bytes);
  friend bool operator==(const Response&, const Response&) = default;
};

struct KeyValue {
  std::string key;
  std::string value;
  std::uint64_t create_revision = 0;
  std::uint64_t mod_revision = 0;
  std::uint64_t version = 0;
  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

struct LeaseInfo {
  std::string name;
  std::string holder;
  std::uint64_t token = 0;
  ClusterTime granted_at = 0;
  ClusterTime expiry = 0;
  std::uint64_t ttl_ns = 0;
  std::uint64_t lock_delay_ns = 0;
  /// Released explicitly (no lock-delay) rather than expired.
  bool released = false;
  friend bool operator==(const LeaseInfo&, const LeaseInfo&) = default;
};

struct Event {
  enum class Kind : std::uint8_t { Put = 1, Delete = 2 };
  Kind kind = Kind::Put;
  std::uint64_t revision = 0;
  KeyValue kv;
};

/// What a lease command did, for the simulator's "one holder" checker.
struct LeaseTransition {
  enum class Kind { Granted, Renewed, Released } kind;
  std::string name;
  std::string holder;
  std::uint64_t token = 0;
  ClusterTime at = 0;
  ClusterTime expiry = 0;
};

class Machine {
 public:
  /// Events kept for watches; an older `after_revision` gets NotFound ("compacted; re-list").
  explicit Machine(std::size_t history = 4096) : history_limit_(history) {}

  /// Applies the command in a committed Normal entry.
  Response apply(std::uint64_t index, ClusterTime time, core::ByteView command);
  /// The same with the entry already decoded (`decoded` = Command::decode(entry data)), for a
  /// caller that also reads the command's session and sequence: one decode per entry.
  Response apply(std::uint64_t index, ClusterTime time, const Result<Command>& decoded);
  /// Records that an entry without a command (no-op, configuration) was applied: time moves.
  void tick(std::uint64_t index, ClusterTime time);

  // --- reads (serve after ReadIndex) -------------------------------------------------------
  std::optional<KeyValue> get(const std::string& key) const;
  /// Keys starting with prefix, in order, at most `limit` (0: all).
  std::vector<KeyValue> list(const std::string& prefix, std::size_t limit = 0) const;
  /// The lease's record, also when expired (check `expiry` against cluster_time()).
  std::optional<LeaseInfo> lease(const std::string& name) const;
  /// Every lease record whose name starts with `prefix`, by name (expired ones included).
  std::vector<LeaseInfo> leases(const std::string& prefix = {}) const;
  /// Whether `name` is held at cluster time `at`.
  bool held(const std::string& name, ClusterTime at) const;
  /// Events with revision > after under prefix. Errors: NotFound when the history no longer
  /// reaches back to `after` (the watcher must list again).
  Result<std::vector<Event>> events_since(const std::string& prefix, std::uint64_t after) const;

  std::uint64_t applied_index() const { return applied_; }
  /// The latest revision written (0 before the first write).
  std::uint64_t revision() const { return revision_; }
  ClusterTime cluster_time() const { return time_; }
  /// Lease transitions of the last apply() (for checkers).
  const std::vector<LeaseTransition>& last_transitions() const { return transitions_; }

  /// Serialises the whole state (deterministic bytes for equal states).
  core::Bytes snapshot() const;
  /// Replaces the state. Errors: Corrupt naming the field.
  Result<void> restore(core::ByteView snapshot);

  /// Idle client sessions are forgotten after this much cluster time. Default 1 h.
  static constexpr ClusterTime kSessionExpiry = 3600ull * 1000000000ull;

 private:
  Response execute(const Command& c, std::uint64_t index);
  void record(Event::Kind kind, const KeyValue& kv);
  void expire_sessions();

  struct Session {
    ClusterTime last_active = 0;
    std::uint64_t first_outstanding = 0;  // highest bound seen; only grows
    std::map<std::uint64_t, Response> responses;  // seq -> response, seqs >= first_outstanding
  };
  std::map<std::string, KeyValue> kv_;
  mutable std::size_t snapshot_size_hint_ = 0;  // the last snapshot's size (reserve for the next)
  std::map<std::string, LeaseInfo> leases_;
  std::map<std::uint64_t, Session> sessions_;
  std::deque<Event> history_;
  std::size_t history_limit_;
  std::uint64_t history_floor_ = 0;  // events with revision <= floor are gone
  std::uint64_t applied_ = 0;
  std::uint64_t revision_ = 0;
  ClusterTime time_ = 0;
  std::vector<LeaseTransition> transitions_;
};

}  // namespace constellation::lease
