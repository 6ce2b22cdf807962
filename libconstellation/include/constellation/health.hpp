// SPDX-License-Identifier: Apache-2.0
//
// Health checks: run one now (run_health_check), or let a HealthMonitor schedule many and turn
// their results into passing / warning / critical with rise and fall thresholds, flap damping
// and restart decisions with exponential backoff and a limit. The monitor is deterministic: the
// caller passes the time and runs the checks it asks for, so it fits any event loop (and tests).
// See docs/services.md for the semantics.
#pragma once

#include <constellation/catalog.hpp>
#include <constellation/result.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace constellation {

enum class HealthCheckKind {
  /// HTTP request: any 2xx passes (429 warns) unless expect_status is set; optional body match.
  Http = 0,
  /// TCP connect to host:port.
  Tcp = 1,
  /// A command: exit 0 passes, 1 warns, anything else fails.
  Exec = 2,
};

struct HealthCheck {
  /// Unique per instance.
  std::string name;
  HealthCheckKind kind = HealthCheckKind::Http;
  /// Http: URL; Tcp: "host:port" ("[v6]:port").
  std::string target;
  /// Exec: argv (argv[0] is looked up in PATH).
  std::vector<std::string> command;
  /// Http: request method.
  std::string method = "GET";
  /// Http: required status; 0 for any 2xx.
  int expect_status = 0;
  /// Http: a substring the body must contain; empty for none.
  std::string expect_body;
  /// Give up on a run after this long (it counts as a failure). Default 5 s.
  std::chrono::nanoseconds timeout = std::chrono::seconds(5);
  /// Time between runs (each moved by up to ±10 % at random). Default 10 s.
  std::chrono::nanoseconds interval = std::chrono::seconds(10);
  /// Consecutive passes that make a critical check passing. Default 1.
  int rise = 1;
  /// Consecutive failures that make a passing check critical. Default 3.
  int fall = 3;
  /// Failures during this time after a start do not count. Default 0.
  std::chrono::nanoseconds start_period{0};
};

struct HealthCheckResult {
  /// Passing, Warning or Critical.
  HealthStatus status = HealthStatus::Critical;
  /// "HTTP 200", "connection refused", the command's last output (at most 1 KiB).
  std::string output;
  std::chrono::nanoseconds elapsed{0};
};

/// Runs one check now and waits for it (at most its timeout). Thread-safe.
CST_API HealthCheckResult run_health_check(const HealthCheck& check);

/// When a monitored instance that exited or became unhealthy is restarted.
struct RestartSettings {
  /// Restart after a clean exit (compose "always", "unless-stopped").
  bool on_success = false;
  /// Restart after a failed exit ("always", "unless-stopped", "on-failure").
  bool on_failure = false;
  /// Restart when a check reaches its fall threshold.
  bool on_unhealthy = false;
  /// First delay; doubled per consecutive restart up to max_backoff.
  std::chrono::nanoseconds backoff = std::chrono::seconds(1);
  std::chrono::nanoseconds max_backoff = std::chrono::seconds(60);
  /// Consecutive restarts before giving up (0: never).
  int limit = 5;
  /// Running this long resets the count.
  std::chrono::nanoseconds reset_after = std::chrono::minutes(10);
};

/// What the monitor asks its owner to do, or tells it.
struct HealthEvent {
  enum class Kind {
    /// Run check `check` of `instance` and report() the result with `run_id`.
    RunCheck = 0,
    /// A check's status changed (`from` → `to`, with `output`).
    CheckChanged = 1,
    /// An instance's health changed (`from` → `to`).
    HealthChanged = 2,
    /// A restart is scheduled after `delay` (attempt `attempt`).
    RestartScheduled = 3,
    /// Restart the instance now; call started() once it runs.
    Restart = 4,
    /// The restart limit was reached: no more restarts; the instance is reported by its checks.
    GaveUp = 5,
  };
  Kind kind = Kind::RunCheck;
  std::string instance;
  std::string check;
  std::uint64_t run_id = 0;
  HealthStatus from = HealthStatus::Critical;
  HealthStatus to = HealthStatus::Critical;
  std::string output;
  int attempt = 0;
  std::chrono::nanoseconds delay{0};
  /// "exited" or "unhealthy" for the restart kinds.
  std::string reason;
};

/// Schedules checks and derives health on the caller's clock. `now` is any monotonic time in
/// nanoseconds (the same clock for every call). Not thread-safe.
class CST_API HealthMonitor {
 public:
  /// `seed` drives the interval jitter: the same seed and inputs give the same schedule.
  explicit HealthMonitor(std::uint64_t seed = 1);
  ~HealthMonitor();
  HealthMonitor(HealthMonitor&&) noexcept;
  HealthMonitor& operator=(HealthMonitor&&) noexcept;

  /// Starts monitoring an instance running since `now`. Errors: InvalidArgument (a check with a
  /// non-positive interval or timeout, rise or fall below 1, duplicate check names).
  Result<void> add(const std::string& instance, const std::vector<HealthCheck>& checks, const RestartSettings& restart,
                   std::chrono::nanoseconds now);
  /// False if unknown.
  bool remove(const std::string& instance);
  /// The instance was (re)started at `now`.
  void started(const std::string& instance, std::chrono::nanoseconds now);
  /// The instance exited (exit_code < 0: unknown).
  void exited(const std::string& instance, int exit_code, std::chrono::nanoseconds now);
  void set_maintenance(const std::string& instance, bool on, std::chrono::nanoseconds now);

  /// Everything due at `now`: RunCheck requests and other events, in order.
  std::vector<HealthEvent> poll(std::chrono::nanoseconds now);
  /// A result for a RunCheck. False when the run is unknown or already timed out.
  bool report(std::uint64_t run_id, HealthStatus result, const std::string& output, std::chrono::nanoseconds now);
  /// Events produced by report() and the lifecycle calls since the last poll()/take_events().
  std::vector<HealthEvent> take_events();
  /// When poll() next has work; nanoseconds::max() when idle.
  std::chrono::nanoseconds next_deadline() const;

  HealthStatus health(const std::string& instance) const;
  std::vector<CatalogCheck> checks(const std::string& instance) const;
  int restart_attempts(const std::string& instance) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace constellation
