// SPDX-License-Identifier: Apache-2.0
//
// Raft consensus with a replicated lease/KV store, embeddable in a host program: one RaftNode per
// process, 1 voter (the embedded default) or 3/5 voters on a network. Every write goes through
// the Raft log (SQLite, fsynced before it is acknowledged); reads are linearizable (ReadIndex).
// Leases hand out fencing tokens: a protected resource must reject a request carrying a token
// older than the newest it has seen (docs/raft.md, "Using leases safely").
#pragma once

#include <constellation/result.hpp>

#include <chrono>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace constellation {

/// How to run one member of a Raft group.
struct RaftOptions {
  /// This member's id: non-zero, unique in the group, never reused for another machine.
  std::uint64_t id = 1;
  /// Directory for raft.db (created if missing, mode 0700). Locked while the node runs.
  std::string data_dir = "constellation-raft";
  /// Every voter's id and Raft address ("host:port"), this node included. One entry (this node)
  /// runs a single-voter group. All members of a new group must be given the same voters.
  std::map<std::uint64_t, std::string> voters;
  /// Address to listen on for Raft traffic. Empty: this node's entry in `voters`.
  std::string listen_address;
  /// Shared secret authenticating Raft traffic (HMAC-SHA256). Required with more than one voter;
  /// at least 16 bytes.
  std::string cluster_key;
  /// true: this node joins an existing group (it starts with no configuration, never campaigns,
  /// and waits for the leader to add it with add_voter()/add_learner()). Use after recovery.
  bool join = false;
  /// Length of one Raft tick. Election timeout = election_ticks ticks, randomized up to twice
  /// that; heartbeats every heartbeat_ticks. Defaults: 50 ms, 10, 2 (elections after 0.5–1 s of
  /// silence, heartbeats every 100 ms). For a LAN/loopback "fast" profile: 10 ms, 10, 2.
  std::chrono::milliseconds tick{50};
  int election_ticks = 10;
  int heartbeat_ticks = 2;
  /// Default deadline of a request (proposals are retried, exactly once, until it passes).
  std::chrono::milliseconds request_timeout{5000};
  /// Compact the log into a snapshot after this many applied entries, once they also add up to
  /// half the size of the last snapshot (a large state is not re-serialised for a small log),
  /// and in any case after 8 times this many. Default 20,000.
  std::uint64_t snapshot_entries = 20000;
  /// Upper bound on the rate difference between any two clocks in the group (0.001 = 0.1 %),
  /// used to shorten a lease's local validity (LeaseGrant::valid_until).
  double max_clock_drift = 0.001;
  /// Minimum level of the JSON log lines written to stderr: debug, info, warn, error, or "off".
  std::string log_level = "warn";
};

/// A key's value and its revisions (Raft indexes of the writes).
struct KvEntry {
  std::string key;
  std::string value;
  std::uint64_t create_revision = 0;
  /// The revision of the last write: what compare-and-set compares against.
  std::uint64_t mod_revision = 0;
  std::uint64_t version = 0;
};

/// A change seen by watch().
struct WatchEvent {
  enum class Kind { Put, Delete };
  Kind kind = Kind::Put;
  std::uint64_t revision = 0;
  KvEntry kv;
};

/// A granted (or renewed) lease.
struct LeaseGrant {
  std::string name;
  std::string holder;
  /// Fencing token: strictly increasing per name, never reused. Attach it to every protected
  /// action; the resource rejects tokens older than the newest it has seen.
  std::uint64_t token = 0;
  /// Expiry in replicated cluster time (nanoseconds; compare with RaftStatus::cluster_time).
  std::uint64_t expiry_cluster_ns = 0;
  /// Local steady-clock instant until which the holder may act: the request's start + ttl,
  /// shortened by the clock-drift bound. Stop acting (or renew) before it.
  std::chrono::steady_clock::time_point valid_until;
};

/// A lease's current record (held or not).
struct LeaseInfo {
  std::string name;
  std::string holder;
  std::uint64_t token = 0;
  std::uint64_t expiry_cluster_ns = 0;
  /// Held at the cluster time of the read.
  bool held = false;
};

struct RaftStatus {
  std::uint64_t id = 0;
  /// "leader", "follower", "candidate" or "pre-candidate".
  std::string role;
  /// The leader's id, 0 if none is known.
  std::uint64_t leader = 0;
  std::uint64_t term = 0;
  std::uint64_t commit_index = 0;
  std::uint64_t applied_index = 0;
  std::uint64_t last_index = 0;
  /// Latest replicated cluster time applied here (nanoseconds).
  std::uint64_t cluster_time = 0;
  std::vector<std::uint64_t> voters;
  std::vector<std::uint64_t> learners;
  /// Non-empty when this node's log is damaged (it neither votes nor campaigns until repaired).
  std::string damage;
};

/// One member of a Raft group. Thread-safe: every method may be called from any thread; blocking
/// methods wait at most their timeout (default RaftOptions::request_timeout) and may be called
/// concurrently (they are batched into the log). Writes submitted to a follower are forwarded to
/// the leader; every write carries this handle's client session, so a retried write applies
/// exactly once.
///
/// Errors common to all requests: Timeout (the deadline passed; a write may still apply),
/// Unavailable (no quorum, or the node is stopping), NotLeader (membership changes only).
class CST_API RaftNode {
 public:
  using Timeout = std::optional<std::chrono::milliseconds>;

  /// Opens the data directory, loads the log (refusing a damaged file with Corrupt), binds the
  /// Raft listener and starts the control loop and storage threads. Errors: InvalidArgument (bad
  /// options, naming the field), Io (cannot bind or open), Unavailable (data directory in use),
  /// Corrupt (raft.db is damaged).
  static Result<std::unique_ptr<RaftNode>> open(RaftOptions options);

  /// Recovery after a majority is lost for good: rewrites this (stopped) node's log so that
  /// `voters` is the configuration, committed. Start the node again with those voters; add fresh
  /// members back with `join = true` and add_voter(). See docs/raft.md. Errors: Io, Corrupt,
  /// InvalidArgument, Unavailable (the node is running).
  static Result<void> recover(const std::string& data_dir, const std::vector<std::uint64_t>& voters);

  ~RaftNode();
  RaftNode(const RaftNode&) = delete;
  RaftNode& operator=(const RaftNode&) = delete;

  // --- KV ---------------------------------------------------------------------------------------
  /// Writes key = value. Returns the revision. Errors: InvalidArgument (empty key).
  Result<std::uint64_t> put(const std::string& key, const std::string& value, Timeout timeout = {});
  /// Writes only if the key's mod revision equals `expected_revision` (0: the key must not exist).
  /// Errors: Conflict (revision differs).
  Result<std::uint64_t> compare_and_set(const std::string& key, const std::string& value,
                                        std::uint64_t expected_revision, Timeout timeout = {});
  /// Deletes the key (only at `expected_revision` when given). Errors: NotFound, Conflict.
  Result<std::uint64_t> erase(const std::string& key, std::optional<std::uint64_t> expected_revision = {},
                              Timeout timeout = {});
  /// Linearizable read. Errors: NotFound.
  Result<KvEntry> get(const std::string& key, Timeout timeout = {});
  /// Linearizable prefix listing, in key order, at most `limit` entries (0: all).
  Result<std::vector<KvEntry>> list(const std::string& prefix, std::size_t limit = 0, Timeout timeout = {});
  /// Blocks until a key under `prefix` changes after `after_revision`, or `wait` passes (then
  /// returns an empty list). Errors: NotFound (the history no longer reaches back that far: list
  /// again and watch from its revision).
  Result<std::vector<WatchEvent>> watch(const std::string& prefix, std::uint64_t after_revision,
                                        std::chrono::milliseconds wait);
  /// The latest revision applied on this node.
  std::uint64_t revision() const;

  // --- leases -------------------------------------------------------------------------------------
  /// Acquires `name` for `holder` for `ttl` of cluster time. Re-acquiring a lease one holds renews
  /// it with the same token. After an expiry (not a release) nobody may take the lease for
  /// `lock_delay`. Errors: Conflict (held by another, or in lock-delay), InvalidArgument.
  Result<LeaseGrant> acquire(const std::string& name, const std::string& holder, std::chrono::milliseconds ttl,
                             std::chrono::milliseconds lock_delay = std::chrono::milliseconds(0), Timeout timeout = {});
  /// Extends a held lease by its ttl. Errors: Conflict (expired or not held with this token).
  Result<LeaseGrant> renew(const std::string& name, const std::string& holder, std::uint64_t token, Timeout timeout = {});
  /// Releases a held lease (no lock-delay). Errors: Conflict, NotFound.
  Result<void> release(const std::string& name, const std::string& holder, std::uint64_t token, Timeout timeout = {});
  /// Linearizable read of a lease's record. Errors: NotFound.
  Result<LeaseInfo> lease(const std::string& name, Timeout timeout = {});
  /// Linearizable read of every lease whose name starts with `prefix` (expired ones included,
  /// with held = false), by name.
  Result<std::vector<LeaseInfo>> leases(const std::string& prefix = {}, Timeout timeout = {});

  // --- asynchronous forms ----------------------------------------------------------------------------
  /// put(), acquire() and renew() without blocking, for servers that answer many clients from a
  /// few threads: each returns at once and `done` runs exactly once with the result — on the
  /// node's control-loop thread, so it must be quick and must not call a blocking RaftNode
  /// method (or on the calling thread, for arguments refused at once or a stopped node).
  void put_async(const std::string& key, const std::string& value, std::function<void(Result<std::uint64_t>)> done,
                 Timeout timeout = {});
  void acquire_async(const std::string& name, const std::string& holder, std::chrono::milliseconds ttl,
                     std::chrono::milliseconds lock_delay, std::function<void(Result<LeaseGrant>)> done,
                     Timeout timeout = {});
  void renew_async(const std::string& name, const std::string& holder, std::uint64_t token,
                   std::function<void(Result<LeaseGrant>)> done, Timeout timeout = {});

  // --- cluster -------------------------------------------------------------------------------------
  RaftStatus status() const;
  /// Blocks until a leader is known (or the timeout); returns its id. Errors: Timeout.
  Result<std::uint64_t> wait_for_leader(Timeout timeout = {});
  /// Hands leadership to `target` (0: the most up-to-date follower) and waits for it to take
  /// over. Errors: InvalidArgument, NotLeader (forwarded requests are not supported), Timeout.
  Result<void> transfer_leadership(std::uint64_t target = 0, Timeout timeout = {});
  /// Membership (leader only; one change at a time). add_* take the new member's Raft address.
  /// Errors: NotLeader, Unavailable (a change is pending), InvalidArgument.
  Result<void> add_voter(std::uint64_t id, const std::string& address, Timeout timeout = {});
  Result<void> add_learner(std::uint64_t id, const std::string& address, Timeout timeout = {});
  Result<void> remove_member(std::uint64_t id, Timeout timeout = {});

  /// Stops the node: a leader first hands leadership to a follower (so the group does not wait
  /// for an election timeout), then the threads stop and the data directory is released.
  /// Idempotent; also done by the destructor.
  void stop();
  /// The bound Raft port.
  int raft_port() const;
  /// Where member `id` listens for Raft traffic ("host:port"): members that joined later, or moved,
  /// are found this way (the agent feeds the addresses its members publish over gossip).
  /// Asynchronous; ignored for this node's own id and after stop().
  void set_peer_address(std::uint64_t id, const std::string& address);

 private:
  struct Impl;
  explicit RaftNode(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace constellation
