// SPDX-License-Identifier: Apache-2.0
//
// The health monitor of one node: schedules every check of every local instance, turns results
// into check and instance health (CheckState), and decides restarts (RestartTracker). Pure and
// single-threaded: the control loop calls poll() at next_deadline(), hands the RunCheck
// requests to the probe runner (which runs them in parallel elsewhere) and feeds each result
// back with report(). Effects come back as data (take_events()).
//
// Scheduling: a check first runs at a random point in [0, min(interval, 1s)) after its
// instance starts, then every interval from the start of the previous run, moved by a random
// ±jitter × interval (so checks of many instances do not run in lockstep). A run that has not
// reported by its deadline (timeout + grace) counts as a failure ("timed out"); a late result
// for it is ignored. A check is never run twice at once.
#pragma once

#include "catalog/model.hpp"
#include "core/rng.hpp"
#include "core/time.hpp"
#include "health/check_state.hpp"
#include "health/restart.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace constellation::health {

struct CheckConfig {
  std::string name;
  core::Duration interval = 10s;
  core::Duration timeout = 5s;
  Thresholds thresholds;
  /// Each interval is moved by up to ± this fraction of itself. 0..0.5. Default 0.1.
  double jitter = 0.1;
};

struct InstanceConfig {
  std::vector<CheckConfig> checks;
  RestartPolicy restart;
};

struct MonitorOptions {
  DampingOptions damping;
  /// Time after a run's timeout before the monitor counts it as timed out (the runner enforces
  /// the timeout itself; this only covers a runner that never answers). Default 1 s.
  core::Duration report_grace = 1s;
};

/// Run check `check_index` of `instance` now; report the result with `run_id`.
struct RunCheck {
  std::string instance;
  std::size_t check_index = 0;
  std::uint64_t run_id = 0;
  /// The runner should give up at this time (now + timeout).
  core::Instant deadline;
};

/// A check's reported status changed.
struct CheckChanged {
  std::string instance;
  std::string check;
  catalog::Health from = catalog::Health::Critical;
  catalog::Health to = catalog::Health::Critical;
  std::string output;
  /// Consecutive counted failures at the time of the change (compare with the fall threshold).
  int failures = 0;
};

/// An instance's health changed.
struct HealthChanged {
  std::string instance;
  catalog::Health from = catalog::Health::Critical;
  catalog::Health to = catalog::Health::Critical;
};

/// Restart the instance now (stop it first if it is running).
struct RestartNow {
  std::string instance;
  RestartReason reason = RestartReason::Exited;
  int attempt = 0;
};

/// A restart is scheduled after a backoff.
struct RestartScheduled {
  std::string instance;
  RestartReason reason = RestartReason::Exited;
  int attempt = 0;
  core::Duration delay{0};
};

/// The instance will not be restarted again (limit reached); it stays critical.
struct GaveUp {
  std::string instance;
  RestartReason reason = RestartReason::Exited;
  int attempts = 0;
};

using Event = std::variant<CheckChanged, HealthChanged, RestartNow, RestartScheduled, GaveUp>;

/// Where an instance is in its life, as the monitor sees it.
enum class Phase {
  /// Running; checks are scheduled.
  Running,
  /// Exited or unhealthy; a restart is scheduled.
  BackingOff,
  /// A RestartNow was issued; waiting for started().
  Restarting,
  /// Exited and not to be restarted (policy or limit).
  Stopped,
};
std::string_view phase_name(Phase p);

class Monitor {
 public:
  explicit Monitor(MonitorOptions options = {}) : options_(options) {}

  /// Starts monitoring an instance that is running since `now`. Replaces an instance of the
  /// same name (its state is forgotten).
  void add(const std::string& instance, InstanceConfig config, core::Instant now, core::Rng& rng);
  /// Stops monitoring; pending runs and restarts of it are dropped. False if unknown.
  bool remove(const std::string& instance);
  bool contains(const std::string& instance) const { return by_name_.count(instance) > 0; }

  /// The runtime (re)started the instance at `now`: checks restart with their start period.
  void started(const std::string& instance, core::Instant now, core::Rng& rng);
  /// The runtime saw the instance exit (exit_code nullopt when unknown). Ignored while a
  /// RestartNow is being carried out (the runtime stopping it is not a failure).
  void exited(const std::string& instance, std::optional<int> exit_code, core::Instant now);
  /// The runtime could not (re)start the instance: counts as a failed exit, also while
  /// Restarting.
  void start_failed(const std::string& instance, core::Instant now);
  /// Maintenance: reported as such, checks keep running, no restarts. Off returns to normal.
  void set_maintenance(const std::string& instance, bool on, core::Instant now);
  /// Clears a given-up instance's restart count so it is restarted again on the next failure.
  void reset_restarts(const std::string& instance);

  /// Everything due at `now`: checks to run (returned), timed-out runs, scheduled restarts and
  /// damping releases (as events).
  std::vector<RunCheck> poll(core::Instant now, core::Rng& rng);
  /// A result for `run_id`. False (and ignored) when the run is unknown or expired.
  bool report(std::uint64_t run_id, Outcome outcome, std::string output, core::Instant now, core::Rng& rng);

  /// The earliest time poll() has something to do; Instant::max() when idle.
  core::Instant next_deadline() const;

  /// Events since the last call, in order.
  std::vector<Event> take_events();

  /// Health of an instance: Maintenance, Critical unless Running (or given up), Passing with no
  /// checks, otherwise the worst of its checks.
  catalog::Health health(const std::string& instance) const;
  std::optional<Phase> phase(const std::string& instance) const;
  /// Check results with their last output, in configuration order.
  std::vector<catalog::CheckResult> results(const std::string& instance) const;
  int restart_attempts(const std::string& instance) const;
  std::size_t instance_count() const { return by_name_.size(); }
  std::size_t check_count() const;

 private:
  struct Check {
    CheckConfig config;
    CheckState state;
    std::uint64_t in_flight = 0;  // run id, 0 when idle
    core::Instant run_started;
    std::uint64_t gen = 0;        // invalidates queued timers of this check
  };
  struct Inst {
    std::uint64_t id = 0;
    std::string name;
    std::vector<Check> checks;
    RestartTracker restarts;
    Phase phase = Phase::Running;
    bool maintenance = false;
    RestartReason pending_reason = RestartReason::Exited;
    int pending_attempt = 0;
    std::uint64_t gen = 0;  // invalidates queued restart timers
    catalog::Health health = catalog::Health::Critical;
  };
  enum class TimerKind : std::uint8_t { Run, Timeout, Restart, Release };
  struct Timer {
    std::uint64_t instance = 0;
    std::uint32_t check = 0;
    TimerKind kind = TimerKind::Run;
    std::uint64_t gen = 0;
  };

  Inst* find(const std::string& name);
  const Inst* find(const std::string& name) const;
  void schedule_checks(Inst& in, core::Instant now, core::Rng& rng);
  void schedule_next(Inst& in, std::uint32_t index, core::Instant from, core::Rng& rng);
  void apply(Inst& in, std::uint32_t index, Outcome outcome, std::string output, core::Instant now, core::Rng& rng);
  RestartDecision failure(Inst& in, RestartReason reason, std::optional<int> exit_code, core::Instant now);
  void update_health(Inst& in);
  void arm_release(Inst& in, std::uint32_t index);

  MonitorOptions options_;
  std::uint64_t next_instance_id_ = 1;
  std::uint64_t next_run_id_ = 1;
  std::unordered_map<std::uint64_t, Inst> instances_;
  std::map<std::string, std::uint64_t> by_name_;
  // (instance id, check index) of each run in flight.
  std::unordered_map<std::uint64_t, std::pair<std::uint64_t, std::uint32_t>> runs_;
  std::multimap<core::Instant, Timer> timers_;
  std::vector<Event> events_;
};

}  // namespace constellation::health
