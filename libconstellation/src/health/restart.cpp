// SPDX-License-Identifier: Apache-2.0
#include "health/restart.hpp"

#include <algorithm>

namespace constellation::health {

std::string_view restart_reason_name(RestartReason r) {
  return r == RestartReason::Exited ? "exited" : "unhealthy";
}

core::Duration RestartTracker::delay_for(const RestartPolicy& p, int attempt) {
  core::Duration d = p.backoff;
  for (int i = 1; i < attempt && d < p.max_backoff; ++i) d *= 2;
  return std::min(d, p.max_backoff);
}

RestartDecision RestartTracker::on_failure(RestartReason reason, std::optional<int> exit_code, core::Instant now) {
  RestartDecision d;
  if (gave_up_) {
    d.gave_up = true;
    return d;
  }
  bool wanted = reason == RestartReason::Unhealthy
                    ? policy_.on_unhealthy
                    : (exit_code && *exit_code == 0 ? policy_.on_success : policy_.on_failure);
  if (running_ && now - started_at_ >= policy_.reset_after) attempts_ = 0;
  running_ = false;
  if (!wanted) return d;
  bool over_limit = policy_.limit > 0 && attempts_ >= policy_.limit;
  bool over_max = policy_.max_attempts > 0 && attempts_ >= policy_.max_attempts;
  if (over_limit || over_max) {
    gave_up_ = true;
    d.gave_up = true;
    return d;
  }
  ++attempts_;
  d.restart = true;
  d.attempt = attempts_;
  d.delay = delay_for(policy_, attempts_);
  d.at = now + d.delay;
  return d;
}

}  // namespace constellation::health
