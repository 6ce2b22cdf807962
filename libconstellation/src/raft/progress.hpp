// SPDX-License-Identifier: Apache-2.0
//
// The leader's view of one follower (etcd-raft's Progress): what it has, what to send next, and
// the flow-control window of AppendEntries in flight.
#pragma once

#include "core/assert.hpp"
#include "raft/types.hpp"

#include <deque>
#include <memory>

namespace constellation::raft {

/// A bounded window of AppendEntries in flight to one follower, by count and by bytes.
class Inflights {
 public:
  Inflights(std::size_t max_count, std::size_t max_bytes) : max_count_(max_count), max_bytes_(max_bytes) {}
  /// Records a message ending at `last` carrying `bytes`. Indexes must increase.
  void add(LogIndex last, std::size_t bytes) {
    CST_ASSERT(items_.empty() || items_.back().first < last);
    items_.emplace_back(last, bytes);
    bytes_ += bytes;
  }
  /// Frees every message ending at or before `index` (the follower acknowledged it).
  void free_le(LogIndex index) {
    while (!items_.empty() && items_.front().first <= index) {
      bytes_ -= items_.front().second;
      items_.pop_front();
    }
  }
  void reset() {
    items_.clear();
    bytes_ = 0;
  }
  bool full() const { return items_.size() >= max_count_ || bytes_ >= max_bytes_; }
  std::size_t count() const { return items_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  std::size_t max_count_;
  std::size_t max_bytes_;
  std::deque<std::pair<LogIndex, std::size_t>> items_;
  std::size_t bytes_ = 0;
};

/// How the leader replicates to a follower.
enum class ProgressState : std::uint8_t {
  /// Finding where the logs agree: one AppendEntries at a time, waiting for its answer.
  Probe = 0,
  /// The logs agree up to `match`: AppendEntries are pipelined optimistically up to the window.
  Replicate = 1,
  /// The follower needs entries the leader compacted away: a snapshot is being sent in chunks.
  Snapshot = 2,
};
const char* progress_state_name(ProgressState s);

struct Progress {
  Progress(std::size_t max_inflight_msgs, std::size_t max_inflight_bytes)
      : inflights(max_inflight_msgs, max_inflight_bytes) {}

  // Invariant: match < next.
  LogIndex match;
  LogIndex next{1};
  ProgressState state = ProgressState::Probe;
  /// Probe: an AppendEntries is outstanding; nothing more is sent until an answer or a heartbeat.
  bool probe_sent = false;
  /// Heard from since the last CheckQuorum round.
  bool recent_active = false;
  Inflights inflights;
  /// Highest commit index sent to this follower (Config::defer_commit_broadcast).
  LogIndex sent_commit;
  /// Highest ReadIndex round this follower acknowledged.
  std::uint64_t read_ack = 0;
  bool is_learner = false;

  // Snapshot state: the snapshot being sent and how far it got.
  std::shared_ptr<const Snapshot> snapshot;
  std::uint64_t snap_sent = 0;
  std::uint64_t snap_acked = 0;

  bool paused() const {
    switch (state) {
      case ProgressState::Probe: return probe_sent;
      case ProgressState::Replicate: return inflights.full();
      case ProgressState::Snapshot: return true;
    }
    return true;
  }
  void become_probe() {
    if (state == ProgressState::Snapshot && snapshot) {
      next = LogIndex(std::max(match.value() + 1, snapshot->meta.index.value() + 1));
    } else {
      next = LogIndex(match.value() + 1);
    }
    state = ProgressState::Probe;
    probe_sent = false;
    inflights.reset();
    snapshot.reset();
  }
  void become_replicate() {
    state = ProgressState::Replicate;
    next = LogIndex(match.value() + 1);
    probe_sent = false;
    inflights.reset();
    snapshot.reset();
  }
  void become_snapshot(std::shared_ptr<const Snapshot> snap) {
    state = ProgressState::Snapshot;
    probe_sent = false;
    inflights.reset();
    snapshot = std::move(snap);
    snap_sent = 0;
    snap_acked = 0;
  }
  /// The follower has everything up to n. False if that is old news.
  bool maybe_update(LogIndex n) {
    bool updated = false;
    if (match < n) {
      match = n;
      updated = true;
      probe_sent = false;
    }
    if (next <= n) next = LogIndex(n.value() + 1);
    return updated;
  }
  /// A rejection of the append at `rejected`: back off next. False if the rejection is stale.
  bool maybe_decrease_to(LogIndex rejected, LogIndex hint) {
    if (state == ProgressState::Replicate) {
      if (rejected <= match) return false;
      next = LogIndex(match.value() + 1);
      return true;
    }
    if (LogIndex(next.value() - 1) != rejected) return false;
    next = LogIndex(std::max<std::uint64_t>(std::min(rejected.value(), hint.value() + 1), match.value() + 1));
    probe_sent = false;
    return true;
  }
};

}  // namespace constellation::raft
