// SPDX-License-Identifier: Apache-2.0
//
// Time as the library sees it. Pure modules never read a clock: the control loop passes `now`
// (an Instant) in, and tests and the simulator drive a ManualClock.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <limits>
#include <string>

namespace constellation::core {

/// Signed span of time with nanosecond resolution (±292 years).
using Duration = std::chrono::nanoseconds;

/// A point on a monotonic timeline — the process's steady clock, or a simulator's virtual
/// clock. Only differences between Instants of the same clock mean anything; an Instant is
/// never written to disk or sent to another node (use cluster time or WallTime for that).
class Instant {
 public:
  constexpr Instant() = default;
  static constexpr Instant from_nanos(std::int64_t ns) { return Instant(ns); }
  /// The latest representable instant: "never" for deadlines.
  static constexpr Instant max() { return Instant(std::numeric_limits<std::int64_t>::max()); }

  constexpr std::int64_t nanos() const { return ns_; }
  constexpr Duration since_epoch() const { return Duration(ns_); }

  constexpr Instant& operator+=(Duration d) {
    ns_ = saturating_add(ns_, d.count());
    return *this;
  }
  constexpr Instant& operator-=(Duration d) {
    ns_ = saturating_add(ns_, -d.count());
    return *this;
  }
  friend constexpr Instant operator+(Instant t, Duration d) { return t += d; }
  friend constexpr Instant operator-(Instant t, Duration d) { return t -= d; }
  friend constexpr Duration operator-(Instant a, Instant b) { return Duration(a.ns_ - b.ns_); }
  friend constexpr auto operator<=>(Instant, Instant) = default;

 private:
  constexpr explicit Instant(std::int64_t ns) : ns_(ns) {}
  // Deadlines computed from Instant::max() must stay at max, not wrap.
  static constexpr std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
    if (b > 0 && a > std::numeric_limits<std::int64_t>::max() - b) return std::numeric_limits<std::int64_t>::max();
    if (b < 0 && a < std::numeric_limits<std::int64_t>::min() - b) return std::numeric_limits<std::int64_t>::min();
    return a + b;
  }
  std::int64_t ns_ = 0;
};

/// Wall-clock time: nanoseconds since the Unix epoch, UTC. For logs, audit records and API
/// output only — it can jump, so no protocol decision is ever based on it.
struct WallTime {
  std::int64_t unix_nanos = 0;

  /// RFC 3339 in UTC with microseconds, e.g. "2026-11-28T14:15:53.123456Z".
  std::string to_rfc3339() const;
  friend constexpr auto operator<=>(WallTime, WallTime) = default;
};

/// The clock port. Implementations must be safe to call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Monotonic time; never goes backwards.
  virtual Instant now() const = 0;
  /// UTC wall time; may jump.
  virtual WallTime wall_now() const = 0;
};

/// The operating system's clocks (CLOCK_MONOTONIC via steady_clock, CLOCK_REALTIME).
class SystemClock final : public Clock {
 public:
  Instant now() const override;
  WallTime wall_now() const override;
  /// A process-wide instance, for code that has no clock injected (apps only).
  static const SystemClock& instance();
};

/// A clock that moves only when told to: for tests and the simulator. Not thread-safe —
/// the simulator and unit tests drive it from one thread.
class ManualClock final : public Clock {
 public:
  /// Starts at `start` on the monotonic line and at `wall` (default 2026-01-01T00:00:00Z).
  explicit ManualClock(Instant start = {}, WallTime wall = {1767225600LL * 1000000000LL}) : now_(start), wall_(wall) {}

  Instant now() const override { return now_; }
  WallTime wall_now() const override { return wall_; }

  /// Moves both clocks forward by d (d >= 0).
  void advance(Duration d);
  /// Jumps the monotonic clock to t (t >= now()), moving wall time by the same amount.
  void advance_to(Instant t);
  /// Steps wall time alone (to simulate an NTP step); the monotonic clock is unaffected.
  void step_wall(Duration d) { wall_.unix_nanos += d.count(); }

 private:
  Instant now_;
  WallTime wall_;
};

/// Human-readable duration for logs and errors: "0s", "250ms", "1.5s", "2m3s", "36h0m0s".
std::string format_duration(Duration d);

}  // namespace constellation::core
