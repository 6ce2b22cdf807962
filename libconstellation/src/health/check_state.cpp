// SPDX-License-Identifier: Apache-2.0
#include "health/check_state.hpp"

#include <algorithm>
#include <cmath>

namespace constellation::health {

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::Pass: return "pass";
    case Outcome::Warn: return "warn";
    case Outcome::Fail: return "fail";
  }
  return "unknown";
}

void CheckState::restart(core::Instant now) {
  passes_ = fails_ = 0;
  settled_passing_ = false;
  ever_passed_ = false;
  ever_settled_ = false;
  last_warn_ = false;
  fell_ = false;
  start_period_end_ = now + t_.start_period;
  output_ = "starting";
  status_ = derive();
}

double CheckState::penalty(core::Instant now) const {
  if (penalty_ <= 0) return 0;
  double elapsed = std::chrono::duration<double>(now - penalty_at_).count();
  double half = std::chrono::duration<double>(d_.half_life).count();
  if (elapsed <= 0 || half <= 0) return penalty_;
  return penalty_ * std::exp2(-elapsed / half);
}

core::Instant CheckState::release_at() const {
  if (!damped_ || penalty_ <= d_.reuse) return core::Instant::max();
  double half = std::chrono::duration<double>(d_.half_life).count();
  double secs = half * std::log2(penalty_ / d_.reuse);
  return penalty_at_ + std::chrono::duration_cast<core::Duration>(std::chrono::duration<double>(secs)) +
         core::Duration(1);
}

void CheckState::add_penalty(core::Instant now) {
  if (!d_.enabled) return;
  penalty_ = std::min(penalty(now) + d_.penalty, d_.max_penalty);
  penalty_at_ = now;
  if (penalty_ > d_.suppress) damped_ = true;
}

catalog::Health CheckState::derive() const {
  if (damped_) return catalog::Health::Critical;
  if (settled_passing_) {
    return (fails_ > 0 || last_warn_) ? catalog::Health::Warning : catalog::Health::Passing;
  }
  // Recovering after a fall: serving again but below the rise threshold.
  if (ever_settled_ && passes_ > 0) return catalog::Health::Warning;
  return catalog::Health::Critical;
}

bool CheckState::record(Outcome outcome, std::string output, core::Instant now) {
  auto before = status_;
  output_ = std::move(output);
  if (outcome == Outcome::Fail) {
    last_warn_ = false;
    passes_ = 0;
    bool in_start_period = now < start_period_end_ && !ever_passed_;
    if (!in_start_period) {
      ++fails_;
      if (fails_ == t_.fall) fell_ = true;
      if (settled_passing_ && fails_ >= t_.fall) {
        settled_passing_ = false;
        add_penalty(now);
      }
    }
  } else {
    last_warn_ = outcome == Outcome::Warn;
    fails_ = 0;
    ++passes_;
    // Within the start period a single pass ends it, as compose marks a container started.
    if (!settled_passing_ && passes_ >= t_.rise) {
      settled_passing_ = true;
      if (ever_settled_) add_penalty(now);
      ever_settled_ = true;
    }
    ever_passed_ = true;
  }
  tick(now);
  status_ = derive();
  return status_ != before;
}

bool CheckState::tick(core::Instant now) {
  auto before = status_;
  if (damped_ && penalty(now) < d_.reuse) {
    damped_ = false;
    penalty_ = penalty(now);
    penalty_at_ = now;
  }
  status_ = derive();
  return status_ != before;
}

}  // namespace constellation::health
