// SPDX-License-Identifier: Apache-2.0
#include "health/monitor.hpp"

#include <algorithm>

namespace constellation::health {

std::string_view phase_name(Phase p) {
  switch (p) {
    case Phase::Running: return "running";
    case Phase::BackingOff: return "backing-off";
    case Phase::Restarting: return "restarting";
    case Phase::Stopped: return "stopped";
  }
  return "unknown";
}

namespace {

int severity(catalog::Health h) {
  switch (h) {
    case catalog::Health::Passing: return 0;
    case catalog::Health::Warning: return 1;
    case catalog::Health::Critical: return 2;
    case catalog::Health::Maintenance: return 3;
  }
  return 2;
}

}  // namespace

Monitor::Inst* Monitor::find(const std::string& name) {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &instances_.at(it->second);
}

const Monitor::Inst* Monitor::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &instances_.at(it->second);
}

void Monitor::add(const std::string& instance, InstanceConfig config, core::Instant now, core::Rng& rng) {
  remove(instance);
  Inst in;
  in.id = next_instance_id_++;
  in.name = instance;
  in.restarts = RestartTracker(config.restart);
  for (auto& c : config.checks) {
    CST_ASSERT(c.interval > core::Duration(0) && c.timeout > core::Duration(0));
    CST_ASSERT(c.thresholds.rise >= 1 && c.thresholds.fall >= 1);
    Check ch;
    ch.state = CheckState(c.thresholds, options_.damping);
    c.jitter = std::clamp(c.jitter, 0.0, 0.5);
    ch.config = std::move(c);
    in.checks.push_back(std::move(ch));
  }
  auto id = in.id;
  by_name_[instance] = id;
  auto& stored = instances_.emplace(id, std::move(in)).first->second;
  started(stored.name, now, rng);
}

bool Monitor::remove(const std::string& instance) {
  auto it = by_name_.find(instance);
  if (it == by_name_.end()) return false;
  auto& in = instances_.at(it->second);
  for (auto& c : in.checks) {
    if (c.in_flight) runs_.erase(c.in_flight);
  }
  instances_.erase(it->second);  // queued timers find no instance and are skipped
  by_name_.erase(it);
  return true;
}

void Monitor::started(const std::string& instance, core::Instant now, core::Rng& rng) {
  Inst* in = find(instance);
  if (!in) return;
  in->phase = Phase::Running;
  ++in->gen;
  in->restarts.started(now);
  for (auto& c : in->checks) {
    if (c.in_flight) runs_.erase(c.in_flight);
    c.in_flight = 0;
    c.state.restart(now);
  }
  schedule_checks(*in, now, rng);
  update_health(*in);
}

void Monitor::schedule_checks(Inst& in, core::Instant now, core::Rng& rng) {
  for (std::uint32_t i = 0; i < in.checks.size(); ++i) {
    auto& c = in.checks[i];
    ++c.gen;
    auto spread = std::min<core::Duration>(c.config.interval, 1s);
    auto offset = core::Duration(static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(spread.count()) + 1)));
    timers_.emplace(now + offset, Timer{in.id, i, TimerKind::Run, c.gen});
  }
}

void Monitor::schedule_next(Inst& in, std::uint32_t index, core::Instant from, core::Rng& rng) {
  auto& c = in.checks[index];
  ++c.gen;
  auto interval = c.config.interval;
  auto span = static_cast<std::int64_t>(static_cast<double>(interval.count()) * c.config.jitter);
  auto delta = span > 0 ? rng.between(-span, span) : 0;
  timers_.emplace(from + interval + core::Duration(delta), Timer{in.id, index, TimerKind::Run, c.gen});
}

void Monitor::exited(const std::string& instance, std::optional<int> exit_code, core::Instant now) {
  Inst* in = find(instance);
  if (!in || in->phase != Phase::Running) return;
  for (auto& c : in->checks) {
    if (c.in_flight) runs_.erase(c.in_flight);
    c.in_flight = 0;
    ++c.gen;
  }
  (void)failure(*in, RestartReason::Exited, exit_code, now);
}

void Monitor::start_failed(const std::string& instance, core::Instant now) {
  Inst* in = find(instance);
  if (!in || in->phase == Phase::Stopped || in->phase == Phase::BackingOff) return;
  (void)failure(*in, RestartReason::Exited, std::nullopt, now);
}

RestartDecision Monitor::failure(Inst& in, RestartReason reason, std::optional<int> exit_code, core::Instant now) {
  ++in.gen;
  if (in.maintenance) {
    // Maintenance: nothing is restarted automatically.
    in.phase = reason == RestartReason::Exited ? Phase::Stopped : in.phase;
    update_health(in);
    return {};
  }
  auto d = in.restarts.on_failure(reason, exit_code, now);
  if (d.restart) {
    in.phase = Phase::BackingOff;
    in.pending_reason = reason;
    in.pending_attempt = d.attempt;
    timers_.emplace(d.at, Timer{in.id, 0, TimerKind::Restart, in.gen});
    events_.push_back(RestartScheduled{in.name, reason, d.attempt, d.delay});
  } else {
    if (reason == RestartReason::Exited) in.phase = Phase::Stopped;
    if (d.gave_up) events_.push_back(GaveUp{in.name, reason, in.restarts.attempts()});
  }
  update_health(in);
  return d;
}

void Monitor::set_maintenance(const std::string& instance, bool on, core::Instant now) {
  Inst* in = find(instance);
  if (!in) return;
  in->maintenance = on;
  for (auto& c : in->checks) c.state.tick(now);
  update_health(*in);
}

void Monitor::reset_restarts(const std::string& instance) {
  if (Inst* in = find(instance)) in->restarts.reset();
}

std::vector<RunCheck> Monitor::poll(core::Instant now, core::Rng& rng) {
  std::vector<RunCheck> runs;
  while (!timers_.empty() && timers_.begin()->first <= now) {
    auto node = timers_.extract(timers_.begin());
    const Timer& t = node.mapped();
    auto it = instances_.find(t.instance);
    if (it == instances_.end()) continue;
    Inst& in = it->second;
    switch (t.kind) {
      case TimerKind::Run: {
        if (t.check >= in.checks.size()) break;
        auto& c = in.checks[t.check];
        if (c.gen != t.gen || in.phase != Phase::Running || c.in_flight) break;
        c.in_flight = next_run_id_++;
        c.run_started = now;
        runs_[c.in_flight] = {in.id, t.check};
        auto deadline = now + c.config.timeout;
        runs.push_back({in.name, t.check, c.in_flight, deadline});
        timers_.emplace(deadline + options_.report_grace, Timer{in.id, t.check, TimerKind::Timeout, c.gen});
        break;
      }
      case TimerKind::Timeout: {
        if (t.check >= in.checks.size()) break;
        auto& c = in.checks[t.check];
        if (c.gen != t.gen || !c.in_flight) break;
        runs_.erase(c.in_flight);
        c.in_flight = 0;
        apply(in, t.check, Outcome::Fail,
              "timed out after " + core::format_duration(c.config.timeout) + " (no result from the runner)", now, rng);
        break;
      }
      case TimerKind::Restart: {
        if (t.gen != in.gen || in.phase != Phase::BackingOff) break;
        in.phase = Phase::Restarting;
        events_.push_back(RestartNow{in.name, in.pending_reason, in.pending_attempt});
        break;
      }
      case TimerKind::Release: {
        if (t.check >= in.checks.size()) break;
        auto& c = in.checks[t.check];
        auto before = c.state.status();
        if (c.state.tick(now)) {
          events_.push_back(
              CheckChanged{in.name, c.config.name, before, c.state.status(), c.state.output(), c.state.failures()});
          update_health(in);
        }
        arm_release(in, t.check);
        break;
      }
    }
  }
  return runs;
}

bool Monitor::report(std::uint64_t run_id, Outcome outcome, std::string output, core::Instant now, core::Rng& rng) {
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return false;
  auto [instance_id, index] = it->second;
  runs_.erase(it);
  auto& in = instances_.at(instance_id);
  auto& c = in.checks[index];
  CST_ASSERT(c.in_flight == run_id);
  c.in_flight = 0;
  apply(in, index, outcome, std::move(output), now, rng);
  return true;
}

void Monitor::apply(Inst& in, std::uint32_t index, Outcome outcome, std::string output, core::Instant now,
                    core::Rng& rng) {
  auto& c = in.checks[index];
  auto before = c.state.status();
  if (c.state.record(outcome, std::move(output), now)) {
    events_.push_back(
        CheckChanged{in.name, c.config.name, before, c.state.status(), c.state.output(), c.state.failures()});
  }
  arm_release(in, index);
  bool fell = c.state.take_fell();
  if (in.phase == Phase::Running) schedule_next(in, index, c.run_started, rng);
  update_health(in);
  if (fell && in.phase == Phase::Running && in.restarts.policy().on_unhealthy && !in.maintenance) {
    // Given up (limit reached), the instance keeps running and being checked: it is reported
    // by its checks — critical while they fail — but no longer restarted.
    if (failure(in, RestartReason::Unhealthy, std::nullopt, now).restart) {
      for (auto& other : in.checks) {
        if (other.in_flight) runs_.erase(other.in_flight);
        other.in_flight = 0;
        ++other.gen;
      }
    }
  }
}

void Monitor::arm_release(Inst& in, std::uint32_t index) {
  auto at = in.checks[index].state.release_at();
  if (at != core::Instant::max()) timers_.emplace(at, Timer{in.id, index, TimerKind::Release, 0});
}

void Monitor::update_health(Inst& in) {
  catalog::Health h = catalog::Health::Passing;
  if (in.maintenance) {
    h = catalog::Health::Maintenance;
  } else if (in.phase != Phase::Running) {
    h = catalog::Health::Critical;
  } else {
    for (const auto& c : in.checks) {
      if (severity(c.state.status()) > severity(h)) h = c.state.status();
    }
  }
  if (h != in.health) {
    events_.push_back(HealthChanged{in.name, in.health, h});
    in.health = h;
  }
}

core::Instant Monitor::next_deadline() const {
  return timers_.empty() ? core::Instant::max() : timers_.begin()->first;
}

std::vector<Event> Monitor::take_events() {
  std::vector<Event> out;
  out.swap(events_);
  return out;
}

catalog::Health Monitor::health(const std::string& instance) const {
  const Inst* in = find(instance);
  return in ? in->health : catalog::Health::Critical;
}

std::optional<Phase> Monitor::phase(const std::string& instance) const {
  const Inst* in = find(instance);
  if (!in) return std::nullopt;
  return in->phase;
}

std::vector<catalog::CheckResult> Monitor::results(const std::string& instance) const {
  std::vector<catalog::CheckResult> out;
  const Inst* in = find(instance);
  if (!in) return out;
  for (const auto& c : in->checks) out.push_back({c.config.name, c.state.status(), c.state.output()});
  return out;
}

int Monitor::restart_attempts(const std::string& instance) const {
  const Inst* in = find(instance);
  return in ? in->restarts.attempts() : 0;
}

std::size_t Monitor::check_count() const {
  std::size_t n = 0;
  for (const auto& [id, in] : instances_) n += in.checks.size();
  return n;
}

}  // namespace constellation::health
