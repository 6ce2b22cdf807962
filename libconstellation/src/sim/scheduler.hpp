// SPDX-License-Identifier: Apache-2.0
//
// Virtual time for deterministic simulation: one thread, one event queue, no real clock. Events at
// the same instant run in the order they were scheduled, so a run is a pure function of its seed.
#pragma once

#include "core/time.hpp"

#include <cstdint>
#include <functional>
#include <unordered_set>
#include <vector>

namespace constellation::sim {

using core::Duration;
using core::Instant;

class Scheduler {
 public:
  using Task = std::function<void()>;
  using TimerId = std::uint64_t;

  /// Starts at `start` (default: 1,000 s after the epoch, so "now - x" stays positive).
  explicit Scheduler(Instant start = Instant::from_nanos(1000LL * 1000000000LL)) : now_(start) {}

  Instant now() const { return now_; }

  /// Runs task at t (clamped to now). Returns an id for cancel().
  TimerId at(Instant t, Task task);
  TimerId after(Duration d, Task task) { return at(now_ + d, std::move(task)); }
  /// Cancels a pending event; false if it already ran or was cancelled.
  bool cancel(TimerId id);

  /// Runs the earliest event, moving time to it. False when nothing is pending.
  bool step();
  /// Runs every event due at or before t, then sets now to t.
  void run_until(Instant t);
  void run_for(Duration d) { run_until(now_ + d); }
  /// Runs events until pred() holds (checked after each event) or time passes deadline.
  /// Returns whether pred() held.
  bool run_until(const std::function<bool()>& pred, Instant deadline);

  std::size_t pending() const { return heap_.size() - cancelled_.size(); }
  std::uint64_t events_run() const { return events_run_; }

 private:
  struct Event {
    Instant at;
    std::uint64_t seq;
    TimerId id;
    Task task;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const { return a.at != b.at ? a.at > b.at : a.seq > b.seq; }
  };
  Instant now_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t events_run_ = 0;
  std::vector<Event> heap_;
  std::unordered_set<TimerId> cancelled_;
  std::unordered_set<TimerId> live_;
};

/// A node's view of time: the global virtual clock, drifting at `rate` (1.0 = exact; 1.0001 runs
/// 100 ppm fast) and offset by a constant, plus a wall clock that can be stepped. Implements the
/// core::Clock port so a node's components can be handed "their" clock.
class NodeClock final : public core::Clock {
 public:
  NodeClock(const Scheduler& scheduler, double rate = 1.0, Duration offset = Duration::zero());

  Instant now() const override;
  core::WallTime wall_now() const override;

  double rate() const { return rate_; }
  /// Changes the drift from now on, keeping local time continuous.
  void set_rate(double rate);
  /// Steps the wall clock (an NTP step); monotonic time is unaffected.
  void step_wall(Duration d) { wall_step_ += d; }
  /// The global instant at which this clock will read `local` (for scheduling a node's timer).
  Instant to_global(Instant local) const;

 private:
  const Scheduler& sched_;
  double rate_;
  Instant anchor_global_;
  Instant anchor_local_;
  Duration wall_step_{0};
};

}  // namespace constellation::sim
