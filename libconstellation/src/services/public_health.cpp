// SPDX-License-Identifier: Apache-2.0
// The public health API (health.hpp) over health::Monitor and io::probe.
#include <constellation/health.hpp>

#include "health/monitor.hpp"
#include "io/probe/probe.hpp"
#include "services/convert.hpp"

#include <set>

namespace constellation {

namespace {

io::probe::Probe probe_of(const HealthCheck& c) {
  io::probe::Probe p;
  p.kind = c.kind == HealthCheckKind::Http ? io::probe::Kind::Http
           : c.kind == HealthCheckKind::Tcp ? io::probe::Kind::Tcp
                                            : io::probe::Kind::Exec;
  p.target = c.target;
  p.command = c.command;
  p.method = c.method;
  p.expect_status = c.expect_status;
  p.expect_body = c.expect_body;
  p.timeout = c.timeout;
  return p;
}

HealthStatus status_of(health::Outcome o) {
  return o == health::Outcome::Pass ? HealthStatus::Passing
         : o == health::Outcome::Warn ? HealthStatus::Warning
                                      : HealthStatus::Critical;
}

core::Instant at(std::chrono::nanoseconds t) { return core::Instant::from_nanos(t.count()); }

}  // namespace

HealthCheckResult run_health_check(const HealthCheck& check) {
  auto r = io::probe::run(probe_of(check));
  return {status_of(r.outcome), r.output, r.elapsed};
}

struct HealthMonitor::Impl {
  health::Monitor monitor;
  core::Rng rng{1};
  std::vector<HealthEvent> pending;

  void drain() {
    for (auto& ev : monitor.take_events()) {
      HealthEvent out;
      std::visit(
          [&](auto& e) {
            using T = std::decay_t<decltype(e)>;
            out.instance = e.instance;
            if constexpr (std::is_same_v<T, health::CheckChanged>) {
              out.kind = HealthEvent::Kind::CheckChanged;
              out.check = e.check;
              out.from = services::to_public(e.from);
              out.to = services::to_public(e.to);
              out.output = e.output;
            } else if constexpr (std::is_same_v<T, health::HealthChanged>) {
              out.kind = HealthEvent::Kind::HealthChanged;
              out.from = services::to_public(e.from);
              out.to = services::to_public(e.to);
            } else if constexpr (std::is_same_v<T, health::RestartScheduled>) {
              out.kind = HealthEvent::Kind::RestartScheduled;
              out.attempt = e.attempt;
              out.delay = e.delay;
              out.reason = std::string(health::restart_reason_name(e.reason));
            } else if constexpr (std::is_same_v<T, health::RestartNow>) {
              out.kind = HealthEvent::Kind::Restart;
              out.attempt = e.attempt;
              out.reason = std::string(health::restart_reason_name(e.reason));
            } else {
              out.kind = HealthEvent::Kind::GaveUp;
              out.attempt = e.attempts;
              out.reason = std::string(health::restart_reason_name(e.reason));
            }
          },
          ev);
      pending.push_back(std::move(out));
    }
  }
};

HealthMonitor::HealthMonitor(std::uint64_t seed) : impl_(std::make_unique<Impl>()) { impl_->rng.reseed(seed); }
HealthMonitor::~HealthMonitor() = default;
HealthMonitor::HealthMonitor(HealthMonitor&&) noexcept = default;
HealthMonitor& HealthMonitor::operator=(HealthMonitor&&) noexcept = default;

Result<void> HealthMonitor::add(const std::string& instance, const std::vector<HealthCheck>& checks,
                                const RestartSettings& restart, std::chrono::nanoseconds now) {
  health::InstanceConfig c;
  std::set<std::string> names;
  for (const auto& k : checks) {
    if (k.interval.count() <= 0 || k.timeout.count() <= 0) {
      return Error(Code::InvalidArgument, "check '" + k.name + "': interval and timeout must be positive");
    }
    if (k.rise < 1 || k.fall < 1) return Error(Code::InvalidArgument, "check '" + k.name + "': rise and fall must be >= 1");
    if (!names.insert(k.name).second) return Error(Code::InvalidArgument, "duplicate check name '" + k.name + "'");
    health::CheckConfig cc;
    cc.name = k.name;
    cc.interval = k.interval;
    cc.timeout = k.timeout;
    cc.thresholds = {k.rise, k.fall, k.start_period};
    c.checks.push_back(cc);
  }
  c.restart.on_success = restart.on_success;
  c.restart.on_failure = restart.on_failure;
  c.restart.on_unhealthy = restart.on_unhealthy;
  c.restart.backoff = restart.backoff;
  c.restart.max_backoff = restart.max_backoff;
  c.restart.limit = restart.limit;
  c.restart.reset_after = restart.reset_after;
  impl_->monitor.add(instance, std::move(c), at(now), impl_->rng);
  impl_->drain();
  return ok();
}

bool HealthMonitor::remove(const std::string& instance) { return impl_->monitor.remove(instance); }

void HealthMonitor::started(const std::string& instance, std::chrono::nanoseconds now) {
  impl_->monitor.started(instance, at(now), impl_->rng);
  impl_->drain();
}

void HealthMonitor::exited(const std::string& instance, int exit_code, std::chrono::nanoseconds now) {
  impl_->monitor.exited(instance, exit_code < 0 ? std::nullopt : std::optional<int>(exit_code), at(now));
  impl_->drain();
}

void HealthMonitor::set_maintenance(const std::string& instance, bool on, std::chrono::nanoseconds now) {
  impl_->monitor.set_maintenance(instance, on, at(now));
  impl_->drain();
}

std::vector<HealthEvent> HealthMonitor::poll(std::chrono::nanoseconds now) {
  std::vector<HealthEvent> out;
  auto runs = impl_->monitor.poll(at(now), impl_->rng);
  impl_->drain();
  for (auto& r : runs) {
    HealthEvent e;
    e.kind = HealthEvent::Kind::RunCheck;
    e.instance = r.instance;
    e.run_id = r.run_id;
    auto checks = impl_->monitor.results(r.instance);
    if (r.check_index < checks.size()) e.check = checks[r.check_index].name;
    out.push_back(std::move(e));
  }
  out.insert(out.end(), std::make_move_iterator(impl_->pending.begin()), std::make_move_iterator(impl_->pending.end()));
  impl_->pending.clear();
  return out;
}

bool HealthMonitor::report(std::uint64_t run_id, HealthStatus result, const std::string& output,
                           std::chrono::nanoseconds now) {
  auto o = result == HealthStatus::Passing ? health::Outcome::Pass
           : result == HealthStatus::Warning ? health::Outcome::Warn
                                             : health::Outcome::Fail;
  bool ok_ = impl_->monitor.report(run_id, o, output, at(now), impl_->rng);
  impl_->drain();
  return ok_;
}

std::vector<HealthEvent> HealthMonitor::take_events() {
  std::vector<HealthEvent> out;
  out.swap(impl_->pending);
  return out;
}

std::chrono::nanoseconds HealthMonitor::next_deadline() const {
  auto t = impl_->monitor.next_deadline();
  return t == core::Instant::max() ? std::chrono::nanoseconds::max() : t.since_epoch();
}

HealthStatus HealthMonitor::health(const std::string& instance) const {
  return services::to_public(impl_->monitor.health(instance));
}

std::vector<CatalogCheck> HealthMonitor::checks(const std::string& instance) const {
  std::vector<CatalogCheck> out;
  for (const auto& c : impl_->monitor.results(instance)) out.push_back({c.name, services::to_public(c.status), c.output});
  return out;
}

int HealthMonitor::restart_attempts(const std::string& instance) const {
  return impl_->monitor.restart_attempts(instance);
}

}  // namespace constellation
