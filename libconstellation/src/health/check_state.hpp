// SPDX-License-Identifier: Apache-2.0
//
// What one check's results mean over time: rise/fall thresholds and flap damping.
//
// A check is *settled* passing or critical. From passing, each failure counts; `fall`
// consecutive failures settle it critical (until then it reports Warning: degraded but serving).
// From critical, `rise` consecutive passes settle it passing; before that, passes after a fall
// report Warning (recovering), while a check that has never passed stays Critical. A Warn result
// (exit code 1 of an exec check, as Consul and Nagios use it) counts as up but reports Warning.
// Failures within the start period after an instance (re)starts are not counted, as compose's
// start_period.
//
// Flap damping (route flap damping, RFC 2439): every change of the settled state adds a penalty
// that decays exponentially with a half-life. Above `suppress` the check is held Critical —
// out of rotation instead of flapping in and out — until the penalty decays below `reuse`.
#pragma once

#include "catalog/model.hpp"
#include "core/time.hpp"

#include <string>

namespace constellation::health {

using namespace std::chrono_literals;

/// The result of one run of a check.
enum class Outcome { Pass, Warn, Fail };
std::string_view outcome_name(Outcome o);

struct Thresholds {
  /// Consecutive passes that settle a critical check passing. >= 1.
  int rise = 1;
  /// Consecutive failures that settle a passing check critical. >= 1.
  int fall = 3;
  /// Failures within this time after the instance started are not counted.
  core::Duration start_period = 0s;
};

struct DampingOptions {
  /// Off disables damping entirely.
  bool enabled = true;
  /// Penalty added per settled-state change.
  double penalty = 1000;
  /// Above this the check is held critical. Default 3000: the fourth change within a few
  /// half-lives.
  double suppress = 3000;
  /// Below this a held check is released.
  double reuse = 750;
  /// Time for the penalty to halve. Default 60 s.
  core::Duration half_life = 60s;
  /// Upper bound on the penalty, so a long flapping period does not hold a check for hours.
  double max_penalty = 12000;
};

class CheckState {
 public:
  CheckState() = default;
  CheckState(Thresholds t, DampingOptions d) : t_(t), d_(d) {}

  /// The instance (re)started at `now`: counters reset, the start period begins, and the check
  /// is critical until it passes (a restart is not a flap; the damping penalty is kept).
  void restart(core::Instant now);

  /// Applies one result. Returns true when status() changed.
  bool record(Outcome outcome, std::string output, core::Instant now);

  /// Re-evaluates time-dependent state (damping release). Returns true when status() changed.
  bool tick(core::Instant now);

  catalog::Health status() const { return status_; }
  const std::string& output() const { return output_; }
  /// Counted consecutive failures (reaching `fall` is what triggers a restart).
  int failures() const { return fails_; }
  /// True when the check just reached `fall` counted failures (consumed by the caller).
  bool take_fell() {
    bool f = fell_;
    fell_ = false;
    return f;
  }
  bool settled_passing() const { return settled_passing_; }
  bool damped() const { return damped_; }
  /// The damping penalty decayed to `now`.
  double penalty(core::Instant now) const;
  /// When a damped check will be released if nothing else happens; Instant::max() otherwise.
  core::Instant release_at() const;

 private:
  catalog::Health derive() const;
  void add_penalty(core::Instant now);

  Thresholds t_;
  DampingOptions d_;
  bool settled_passing_ = false;
  bool ever_passed_ = false;
  // Settled passing at least once since the last restart: later passes below `rise` are a
  // recovery (Warning), not a start (Critical).
  bool ever_settled_ = false;
  bool last_warn_ = false;
  bool fell_ = false;
  int passes_ = 0;
  int fails_ = 0;
  core::Instant start_period_end_;
  double penalty_ = 0;
  core::Instant penalty_at_;
  bool damped_ = false;
  std::string output_ = "not run yet";
  catalog::Health status_ = catalog::Health::Critical;
};

}  // namespace constellation::health
