// SPDX-License-Identifier: Apache-2.0
//
// Whether and when to restart an instance that exited or became unhealthy: exponential backoff
// with a cap, and a limit on consecutive restarts after which the instance is given up
// (reported critical, no longer restarted) until an operator or a new spec resets it.
#pragma once

#include "core/time.hpp"

#include <optional>
#include <string>

namespace constellation::health {

using namespace std::chrono_literals;

struct RestartPolicy {
  /// Restart after a clean exit (status 0): compose "always" and "unless-stopped".
  bool on_success = false;
  /// Restart after a failed exit (non-zero or unknown status): "always", "unless-stopped",
  /// "on-failure".
  bool on_failure = false;
  /// Restart when a check reaches its fall threshold.
  bool on_unhealthy = false;
  /// on-failure:N — at most N restarts in a row; 0 for no such bound.
  int max_attempts = 0;
  /// Delay before the first restart; doubled for each further consecutive one.
  core::Duration backoff = 1s;
  /// Cap on the delay.
  core::Duration max_backoff = 60s;
  /// Consecutive restarts before giving up; 0 never gives up.
  int limit = 5;
  /// An instance that ran this long since its last start counts as stable: the consecutive
  /// count starts over.
  core::Duration reset_after = 600s;
};

/// Why a restart is wanted.
enum class RestartReason { Exited, Unhealthy };
std::string_view restart_reason_name(RestartReason r);

/// The decision for one exit or health failure.
struct RestartDecision {
  /// True: restart at `at`. False: give up (or the policy does not restart).
  bool restart = false;
  /// True when the instance is given up because a limit was reached (it is reported critical).
  bool gave_up = false;
  core::Instant at;
  /// 1 for the first restart in a row.
  int attempt = 0;
  core::Duration delay{0};
};

/// Consecutive-restart bookkeeping for one instance. Pure.
class RestartTracker {
 public:
  explicit RestartTracker(RestartPolicy policy = {}) : policy_(policy) {}

  /// The instance (re)started at `now`.
  void started(core::Instant now) {
    started_at_ = now;
    running_ = true;
  }

  /// The instance exited with `exit_code` (nullopt when unknown, e.g. an adopted process) or a
  /// check fell (reason Unhealthy). Decides whether and when to restart.
  RestartDecision on_failure(RestartReason reason, std::optional<int> exit_code, core::Instant now);

  /// Forgets the count and the given-up state (operator reset, new spec).
  void reset() {
    attempts_ = 0;
    gave_up_ = false;
  }

  int attempts() const { return attempts_; }
  bool gave_up() const { return gave_up_; }
  const RestartPolicy& policy() const { return policy_; }

  /// The delay before restart number `attempt` (1-based) under `policy`.
  static core::Duration delay_for(const RestartPolicy& policy, int attempt);

 private:
  RestartPolicy policy_;
  core::Instant started_at_;
  bool running_ = false;
  int attempts_ = 0;
  bool gave_up_ = false;
};

}  // namespace constellation::health
