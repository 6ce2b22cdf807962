// SPDX-License-Identifier: Apache-2.0
#include "dns/reconciler.hpp"

#include "core/assert.hpp"

#include <algorithm>

namespace constellation::dns {

std::vector<std::vector<Change>> split_batches(const std::vector<Change>& changes, std::size_t max_changes) {
  CST_ASSERT(max_changes > 0);
  // Group by name, keeping the plan's order of first appearance.
  std::vector<std::string> order;
  std::map<std::string, std::vector<Change>> by_name;
  for (const auto& c : changes) {
    auto [it, inserted] = by_name.try_emplace(c.name());
    if (inserted) order.push_back(c.name());
    it->second.push_back(c);
  }
  std::vector<std::vector<Change>> out;
  std::vector<Change> cur;
  for (const auto& name : order) {
    auto& group = by_name[name];
    if (!cur.empty() && cur.size() + group.size() > max_changes) {
      out.push_back(std::move(cur));
      cur.clear();
    }
    cur.insert(cur.end(), group.begin(), group.end());
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  for (auto& b : out) {
    std::stable_sort(b.begin(), b.end(), [](const Change& a, const Change& c) {
      auto rank = [](ChangeKind k) { return k == ChangeKind::Delete ? 0 : k == ChangeKind::Update ? 1 : 2; };
      return rank(a.kind) < rank(c.kind);
    });
  }
  return out;
}

Reconciler::Reconciler(DnsConfig config, ReconcilerOptions options, LeasePort& lease)
    : config_(std::move(config)), options_(options), lease_(lease) {}

void Reconciler::set_provider_caps(const std::string& provider, const ProviderCaps& caps) { provider_caps_[provider] = caps; }

void Reconciler::set_snapshot(std::shared_ptr<const catalog::Snapshot> snapshot) {
  if (snapshot && (!snapshot_ || snapshot->generation != snapshot_->generation)) snapshot_changed_ = true;
  snapshot_ = std::move(snapshot);
}

void Reconciler::abort(std::string why, core::Instant now, bool backoff, std::optional<core::Duration> retry_after) {
  last_abort_ = std::move(why);
  state_ = State::Idle;
  batches_.clear();
  batch_index_ = 0;
  observed_.clear();
  if (backoff) {
    backoff_ = backoff_.count() == 0 ? options_.backoff_min : std::min(backoff_ * 2, options_.backoff_max);
    core::Duration wait = backoff_;
    if (retry_after && *retry_after > wait) wait = *retry_after;
    backoff_until_ = now + wait;
    next_cycle_at_ = backoff_until_;
  } else {
    next_cycle_at_ = now;
  }
}

Step Reconciler::poll(core::Instant now) {
  Step step;
  if (in_flight_) return step;  // wait for the outstanding result

  const LeaseStatus lease = lease_.status(now);
  if (!lease.token) {
    if (token_) {
      if (state_ != State::Idle) {
        ++stats_.plans_aborted_lease;
        abort("lease lost", now, false);
      }
      token_.reset();
      tracker_.clear();
    }
    step.wake_at = now + options_.interval;
    return step;
  }
  if (token_ != lease.token) {
    // A new term of holding: everything we knew is stale, and the settle period starts.
    if (state_ != State::Idle) {
      ++stats_.plans_aborted_lease;
      abort("fencing token changed", now, false);
    }
    token_ = lease.token;
    holder_since_ = now;
    tracker_.clear();
    next_cycle_at_ = now;
  }

  if (state_ == State::Idle) {
    const bool due = snapshot_ && now >= backoff_until_ && (snapshot_changed_ || now >= next_cycle_at_);
    if (!due) {
      step.wake_at = snapshot_ ? std::max(next_cycle_at_, backoff_until_) : now + options_.interval;
      return step;
    }
    ++stats_.cycles;
    snapshot_changed_ = false;
    planned_generation_ = snapshot_->generation;
    observed_.clear();
    list_index_ = 0;
    state_ = State::Listing;
  }

  if (state_ == State::Listing) {
    if (list_index_ >= config_.zones.size()) {
      make_plan(now);
      if (state_ != State::Applying) {
        step.wake_at = next_cycle_at_;
        return step;
      }
    } else {
      const auto& z = config_.zones[list_index_];
      step.kind = Step::Kind::List;
      step.zone = z.name;
      step.provider = z.provider;
      in_flight_ = true;
      return step;
    }
  }

  // Applying: the fencing check before every batch.
  CST_ASSERT(state_ == State::Applying);
  if (batch_index_ >= batches_.size()) {
    state_ = State::Idle;
    backoff_ = {};
    next_cycle_at_ = std::max(now, after_plan_next_);
    step.wake_at = next_cycle_at_;
    return step;
  }
  if (*lease.token != plan_token_ || lease.valid_until - now < options_.request_timeout) {
    ++stats_.plans_aborted_lease;
    abort("lease lost or about to expire after " + std::to_string(batch_index_) + " of " +
              std::to_string(batches_.size()) + " batches",
          now, false);
    // Do not spin re-planning while the lease is about to lapse: look again a little later.
    next_cycle_at_ = now + options_.backoff_min;
    step.wake_at = next_cycle_at_;
    return step;
  }
  Batch b = batches_[batch_index_];
  b.deadline = std::min(lease.valid_until, now + options_.request_timeout);
  step.kind = Step::Kind::Apply;
  step.zone = b.zone;
  step.provider = b.provider;
  step.batch = std::move(b);
  in_flight_ = true;
  return step;
}

void Reconciler::on_listed(const std::string& zone, Result<std::vector<ObservedRecord>> listing, core::Instant now) {
  in_flight_ = false;
  if (state_ != State::Listing || list_index_ >= config_.zones.size() || config_.zones[list_index_].name != zone) return;
  if (!listing) {
    ++stats_.errors;
    abort("listing zone " + zone + " failed: " + listing.error().message(), now, true);
    return;
  }
  observed_[zone] = std::move(*listing);
  ++list_index_;
}

void Reconciler::make_plan(core::Instant now) {
  DesiredState desired = desired_state(*snapshot_, config_);
  PlanInput in;
  in.config = &config_;
  in.desired = &desired;
  in.observed = std::move(observed_);
  observed_.clear();
  for (const auto& z : config_.zones) {
    auto it = provider_caps_.find(z.provider);
    in.caps[z.name] = it == provider_caps_.end() ? ProviderCaps{} : it->second;
  }
  in.now = now;
  in.snapshot_complete = snapshot_->complete;
  in.holder_since = holder_since_;
  Plan plan = compute_plan(in, tracker_);
  batches_.clear();
  batch_index_ = 0;
  plan_token_ = *token_;
  for (const auto& z : plan.zones) {
    std::size_t max = options_.max_batch_changes;
    if (max == 0) {
      auto it = provider_caps_.find(z.provider);
      max = it == provider_caps_.end() ? ProviderCaps{}.max_batch_changes : it->second.max_batch_changes;
    }
    for (auto& changes : split_batches(z.changes, std::max<std::size_t>(1, max))) {
      Batch b;
      b.id = next_batch_id_++;
      b.zone = z.zone;
      b.provider = z.provider;
      b.changes = std::move(changes);
      b.token = plan_token_;
      batches_.push_back(std::move(b));
    }
  }
  // Held deletions become due while nothing else changes: come back when the first one is.
  core::Instant next = now + options_.interval;
  for (const auto& z : plan.zones) {
    for (const auto& h : z.held) {
      if (h.eligible_at && *h.eligible_at < next) next = std::max(*h.eligible_at, now);
    }
  }
  if (config_.safety.holder_settle.count() > 0 && now < holder_since_ + config_.safety.holder_settle && plan.held_count() > 0) {
    next = std::min(next, holder_since_ + config_.safety.holder_settle);
  }
  next_cycle_at_ = next;
  after_plan_next_ = next;
  last_plan_ = std::move(plan);
  state_ = batches_.empty() ? State::Idle : State::Applying;
}

void Reconciler::on_applied(std::uint64_t batch_id, Result<void> result, core::Instant now, std::optional<core::Duration> retry_after) {
  in_flight_ = false;
  if (state_ != State::Applying || batch_index_ >= batches_.size() || batches_[batch_index_].id != batch_id) return;
  if (!result) {
    ++stats_.errors;
    // A conflict (a name taken meanwhile, a newer fencing token in the zone) means our listing
    // is stale: start over after the shortest backoff, with a fresh listing.
    if (result.error().code() == Code::Conflict) backoff_ = {};
    abort("batch " + std::to_string(batch_id) + " failed: " + result.error().message(), now, true, retry_after);
    return;
  }
  ++stats_.batches_applied;
  stats_.changes_applied += batches_[batch_index_].changes.size();
  ++batch_index_;
}

}  // namespace constellation::dns
