// SPDX-License-Identifier: Apache-2.0
#include "health/monitor.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace constellation;
using namespace constellation::health;
using catalog::Health;
using namespace std::chrono_literals;

namespace {

core::Instant at_ms(std::int64_t ms) { return core::Instant::from_nanos(0) + std::chrono::milliseconds(ms); }

InstanceConfig one_check(int rise = 1, int fall = 3, core::Duration interval = 1s, core::Duration timeout = 500ms) {
  InstanceConfig c;
  CheckConfig k;
  k.name = "http";
  k.interval = interval;
  k.timeout = timeout;
  k.thresholds = {rise, fall, 0s};
  c.checks.push_back(k);
  c.restart.on_failure = true;
  c.restart.on_success = true;
  c.restart.on_unhealthy = true;
  c.restart.backoff = 1s;
  c.restart.max_backoff = 8s;
  c.restart.limit = 4;
  return c;
}

// Drives a monitor on virtual time: runs every due check with `result(now)` and records events.
struct Driver {
  Monitor m;
  core::Rng rng{1};
  core::Instant now = at_ms(0);
  std::vector<Event> events;
  std::vector<std::pair<core::Instant, std::string>> runs;

  template <class F>
  void run_until(core::Instant end, F result) {
    while (true) {
      auto next = m.next_deadline();
      if (next > end) break;
      now = std::max(now, next);
      for (const auto& r : m.poll(now, rng)) {
        runs.emplace_back(now, r.instance);
        std::optional<Outcome> o = result(now, r);
        if (o) m.report(r.run_id, *o, "out", now, rng);
      }
      auto ev = m.take_events();
      for (auto& e : ev) {
        if (auto* rn = std::get_if<RestartNow>(&e)) m.started(rn->instance, now, rng);  // the runtime restarts it
        events.push_back(std::move(e));
      }
    }
    now = end;
  }

  template <class T>
  std::vector<T> of() const {
    std::vector<T> out;
    for (const auto& e : events) {
      if (auto* x = std::get_if<T>(&e)) out.push_back(*x);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("checks run every interval within the jitter, never twice at once") {
  Driver d;
  d.m.add("web-1", one_check(), d.now, d.rng);
  d.run_until(at_ms(60'000), [](core::Instant, const RunCheck&) { return Outcome::Pass; });
  REQUIRE(d.runs.size() >= 55);
  REQUIRE(d.runs.size() <= 67);
  CHECK(d.runs.front().first <= at_ms(1000));
  for (std::size_t i = 1; i < d.runs.size(); ++i) {
    auto gap = d.runs[i].first - d.runs[i - 1].first;
    CHECK(gap >= 900ms);
    CHECK(gap <= 1100ms);
  }
  CHECK(d.m.health("web-1") == Health::Passing);
}

TEST_CASE("the same seed gives the same schedule") {
  auto schedule = [](std::uint64_t seed) {
    Driver d;
    d.rng.reseed(seed);
    for (int i = 0; i < 20; ++i) d.m.add("svc-" + std::to_string(i), one_check(), d.now, d.rng);
    d.run_until(at_ms(10'000), [](core::Instant, const RunCheck&) { return Outcome::Pass; });
    return d.runs;
  };
  CHECK(schedule(5) == schedule(5));
  CHECK(schedule(5) != schedule(6));
}

TEST_CASE("a failing endpoint goes critical after fall results and is restarted") {
  Driver d;
  d.m.add("web-1", one_check(1, 3), d.now, d.rng);
  bool failing = false;
  d.run_until(at_ms(5'000), [&](core::Instant, const RunCheck&) { return failing ? Outcome::Fail : Outcome::Pass; });
  CHECK(d.m.health("web-1") == Health::Passing);
  failing = true;
  auto fail_start = d.now;
  d.run_until(at_ms(5'000 + 3'500), [&](core::Instant, const RunCheck&) { return Outcome::Fail; });
  auto health = d.of<HealthChanged>();
  REQUIRE(health.size() >= 3);
  // passing -> warning (first failure) -> critical (third)
  CHECK(health[1].to == Health::Warning);
  CHECK(health[2].to == Health::Critical);
  auto sched = d.of<RestartScheduled>();
  REQUIRE(sched.size() == 1);
  CHECK(sched[0].reason == RestartReason::Unhealthy);
  CHECK(sched[0].delay == 1s);
  (void)fail_start;
  d.run_until(at_ms(10'000), [&](core::Instant, const RunCheck&) { return Outcome::Pass; });
  auto now = d.of<RestartNow>();
  REQUIRE(now.size() == 1);
  CHECK(now[0].reason == RestartReason::Unhealthy);
  CHECK(d.m.health("web-1") == Health::Passing);
}

TEST_CASE("a crash loop backs off exponentially up to the cap, then gives up") {
  Monitor m;
  core::Rng rng(3);
  auto cfg = one_check();
  cfg.checks.clear();
  m.add("job-1", cfg, at_ms(0), rng);
  CHECK(m.health("job-1") == Health::Passing);  // no checks: healthy while running
  std::vector<core::Duration> delays;
  core::Instant now = at_ms(0);
  for (int i = 0; i < 6; ++i) {
    now += 100ms;  // crashes right after each start
    m.exited("job-1", 1, now);
    for (auto& e : m.take_events()) {
      if (auto* s = std::get_if<RestartScheduled>(&e)) delays.push_back(s->delay);
      if (std::get_if<GaveUp>(&e)) delays.push_back(core::Duration(-1));
    }
    if (m.phase("job-1") == Phase::Stopped) break;
    now = m.next_deadline();
    m.poll(now, rng);
    auto ev = m.take_events();
    REQUIRE(std::any_of(ev.begin(), ev.end(), [](const Event& e) { return std::holds_alternative<RestartNow>(e); }));
    m.started("job-1", now, rng);
  }
  CHECK(delays == std::vector<core::Duration>{1s, 2s, 4s, 8s, core::Duration(-1)});
  CHECK(m.health("job-1") == Health::Critical);
  CHECK(m.phase("job-1") == Phase::Stopped);
  m.exited("job-1", 1, now + 1s);  // already stopped: nothing
  CHECK(m.take_events().empty());
}

TEST_CASE("a stable run resets the restart count") {
  Monitor m;
  core::Rng rng(3);
  auto cfg = one_check();
  cfg.checks.clear();
  cfg.restart.reset_after = 60s;
  m.add("a", cfg, at_ms(0), rng);
  m.exited("a", 1, at_ms(100));
  m.poll(m.next_deadline(), rng);
  m.started("a", at_ms(1'100), rng);
  CHECK(m.restart_attempts("a") == 1);
  m.exited("a", 1, at_ms(1'100 + 61'000));
  CHECK(m.restart_attempts("a") == 1);  // reset, then this one
  auto ev = m.take_events();
  auto it = std::find_if(ev.rbegin(), ev.rend(), [](const Event& e) { return std::holds_alternative<RestartScheduled>(e); });
  REQUIRE(it != ev.rend());
  CHECK(std::get<RestartScheduled>(*it).delay == 1s);
}

TEST_CASE("restart policy: no restart on clean exit for on-failure, none at all for no") {
  Monitor m;
  core::Rng rng(1);
  auto cfg = one_check();
  cfg.checks.clear();
  cfg.restart.on_success = false;
  m.add("a", cfg, at_ms(0), rng);
  m.take_events();
  m.exited("a", 0, at_ms(10));
  CHECK(m.phase("a") == Phase::Stopped);
  CHECK(m.take_events().size() == 1);  // health -> critical only
  cfg.restart = RestartPolicy{};
  m.add("b", cfg, at_ms(0), rng);
  m.exited("b", 2, at_ms(10));
  CHECK(m.phase("b") == Phase::Stopped);
}

TEST_CASE("a runner that never answers times the run out; late results are ignored") {
  Monitor m;
  core::Rng rng(9);
  m.add("a", one_check(1, 1, 10s, 2s), at_ms(0), rng);
  auto runs = m.poll(m.next_deadline(), rng);
  REQUIRE(runs.size() == 1);
  auto start = m.next_deadline();
  CHECK(m.poll(start - 1ms, rng).empty());
  CHECK(m.poll(runs[0].deadline + 1s, rng).empty());
  CHECK(m.results("a")[0].output.find("timed out") != std::string::npos);
  CHECK_FALSE(m.report(runs[0].run_id, Outcome::Pass, "late", runs[0].deadline + 2s, rng));
  CHECK(m.results("a")[0].status == Health::Critical);
}

TEST_CASE("maintenance overrides health and suppresses restarts") {
  Driver d;
  d.m.add("a", one_check(1, 1), d.now, d.rng);
  d.run_until(at_ms(2'000), [](core::Instant, const RunCheck&) { return Outcome::Pass; });
  d.m.set_maintenance("a", true, d.now);
  CHECK(d.m.health("a") == Health::Maintenance);
  d.run_until(at_ms(6'000), [](core::Instant, const RunCheck&) { return Outcome::Fail; });
  CHECK(d.of<RestartScheduled>().empty());
  CHECK(d.m.health("a") == Health::Maintenance);
  d.m.set_maintenance("a", false, d.now);
  CHECK(d.m.health("a") == Health::Critical);
}

TEST_CASE("removing an instance drops its runs and timers") {
  Monitor m;
  core::Rng rng(2);
  m.add("a", one_check(), at_ms(0), rng);
  auto runs = m.poll(at_ms(1'000), rng);
  REQUIRE(runs.size() == 1);
  CHECK(m.remove("a"));
  CHECK_FALSE(m.remove("a"));
  CHECK_FALSE(m.report(runs[0].run_id, Outcome::Pass, "", at_ms(1'001), rng));
  CHECK(m.poll(at_ms(100'000), rng).empty());
  CHECK(m.next_deadline() == core::Instant::max());
}

TEST_CASE("exits while restarting are the runtime's own stop, not failures") {
  Driver d;
  d.m.add("a", one_check(1, 1), d.now, d.rng);
  d.m.exited("a", 1, at_ms(10));
  d.now = at_ms(2'000);
  d.m.poll(d.now, d.rng);
  CHECK(d.m.phase("a") == Phase::Restarting);
  d.m.exited("a", 137, d.now);
  CHECK(d.m.phase("a") == Phase::Restarting);
  CHECK(d.m.restart_attempts("a") == 1);
  d.m.start_failed("a", d.now);
  CHECK(d.m.phase("a") == Phase::BackingOff);
  CHECK(d.m.restart_attempts("a") == 2);
}

TEST_CASE("after giving up on an unhealthy instance it keeps being checked and reported") {
  Driver d;
  auto cfg = one_check(1, 1);
  cfg.restart.limit = 1;
  d.m.add("a", cfg, d.now, d.rng);
  d.run_until(at_ms(20'000), [](core::Instant, const RunCheck&) { return Outcome::Fail; });
  CHECK(d.of<RestartNow>().size() == 1);
  CHECK(d.of<GaveUp>().size() == 1);
  CHECK(d.m.phase("a") == Phase::Running);
  CHECK(d.m.health("a") == Health::Critical);
  d.run_until(at_ms(25'000), [](core::Instant, const RunCheck&) { return Outcome::Pass; });
  CHECK(d.m.health("a") == Health::Passing);
}
