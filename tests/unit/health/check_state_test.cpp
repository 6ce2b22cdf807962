// SPDX-License-Identifier: Apache-2.0
#include "health/check_state.hpp"

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::health;
using catalog::Health;
using namespace std::chrono_literals;

namespace {

DampingOptions no_damping() {
  DampingOptions d;
  d.enabled = false;
  return d;
}

core::Instant at(int seconds) { return core::Instant::from_nanos(0) + std::chrono::seconds(seconds); }

}  // namespace

TEST_CASE("a new check is critical until it rises") {
  CheckState s({2, 3, 0s}, no_damping());
  s.restart(at(0));
  CHECK(s.status() == Health::Critical);
  CHECK_FALSE(s.record(Outcome::Pass, "ok", at(1)));  // 1 of 2: never passed before, stays critical
  CHECK(s.status() == Health::Critical);
  CHECK(s.record(Outcome::Pass, "ok", at(2)));
  CHECK(s.status() == Health::Passing);
}

TEST_CASE("fall threshold: warning while failing, critical at fall") {
  CheckState s({1, 3, 0s}, no_damping());
  s.restart(at(0));
  s.record(Outcome::Pass, "ok", at(1));
  CHECK(s.record(Outcome::Fail, "500", at(2)));
  CHECK(s.status() == Health::Warning);
  s.record(Outcome::Fail, "500", at(3));
  CHECK(s.status() == Health::Warning);
  CHECK_FALSE(s.take_fell());
  CHECK(s.record(Outcome::Fail, "500", at(4)));
  CHECK(s.status() == Health::Critical);
  CHECK(s.take_fell());
  CHECK_FALSE(s.take_fell());
  CHECK(s.failures() == 3);
  CHECK(s.output() == "500");
}

TEST_CASE("recovering after a fall reports warning until rise") {
  CheckState s({3, 1, 0s}, no_damping());
  s.restart(at(0));
  for (int i = 1; i <= 3; ++i) s.record(Outcome::Pass, "ok", at(i));
  CHECK(s.status() == Health::Passing);
  s.record(Outcome::Fail, "down", at(4));
  CHECK(s.status() == Health::Critical);
  s.record(Outcome::Pass, "ok", at(5));
  CHECK(s.status() == Health::Warning);
  s.record(Outcome::Fail, "down", at(6));
  CHECK(s.status() == Health::Critical);
  for (int i = 7; i <= 9; ++i) s.record(Outcome::Pass, "ok", at(i));
  CHECK(s.status() == Health::Passing);
}

TEST_CASE("a single failure below fall recovers on the next pass") {
  CheckState s({1, 2, 0s}, no_damping());
  s.restart(at(0));
  s.record(Outcome::Pass, "ok", at(1));
  s.record(Outcome::Fail, "x", at(2));
  CHECK(s.status() == Health::Warning);
  s.record(Outcome::Pass, "ok", at(3));
  CHECK(s.status() == Health::Passing);
  CHECK(s.failures() == 0);
}

TEST_CASE("warn results count as up but report warning") {
  CheckState s({1, 1, 0s}, no_damping());
  s.restart(at(0));
  s.record(Outcome::Warn, "disk 91%", at(1));
  CHECK(s.status() == Health::Warning);
  CHECK(s.settled_passing());
  s.record(Outcome::Pass, "ok", at(2));
  CHECK(s.status() == Health::Passing);
}

TEST_CASE("failures in the start period do not count until the first pass") {
  CheckState s({1, 2, 30s}, no_damping());
  s.restart(at(0));
  for (int i = 1; i < 30; ++i) s.record(Outcome::Fail, "starting", at(i));
  CHECK(s.failures() == 0);
  CHECK_FALSE(s.take_fell());
  CHECK(s.status() == Health::Critical);
  s.record(Outcome::Fail, "still down", at(31));
  s.record(Outcome::Fail, "still down", at(32));
  CHECK(s.take_fell());

  s.restart(at(100));
  s.record(Outcome::Pass, "up", at(101));  // a pass ends the start period early
  s.record(Outcome::Fail, "down", at(102));
  CHECK(s.failures() == 1);
}

TEST_CASE("flap damping holds a flapping check critical, then releases it") {
  DampingOptions d;  // penalty 1000, suppress 3000, reuse 750, half-life 60 s
  CheckState s({1, 1, 0s}, d);
  s.restart(at(0));
  s.record(Outcome::Pass, "ok", at(1));  // first rise: not a flap
  CHECK(s.penalty(at(1)) == 0);
  int t = 2;
  for (int i = 0; i < 2; ++i) {
    s.record(Outcome::Fail, "down", at(t++));
    s.record(Outcome::Pass, "ok", at(t++));
  }
  // Four changes within seconds: penalty just under 4000 > 3000.
  CHECK(s.damped());
  CHECK(s.status() == Health::Critical);
  CHECK(s.settled_passing());
  auto release = s.release_at();
  REQUIRE(release != core::Instant::max());
  // log2(~3950/750) half-lives ≈ 2.4 × 60 s.
  CHECK(release > at(t + 130));
  CHECK(release < at(t + 160));
  s.record(Outcome::Pass, "ok", at(t + 60));
  CHECK(s.status() == Health::Critical);
  CHECK(s.tick(release));
  CHECK_FALSE(s.damped());
  CHECK(s.status() == Health::Passing);
}

TEST_CASE("damping penalty is capped and decays") {
  DampingOptions d;
  d.max_penalty = 5000;
  CheckState s({1, 1, 0s}, d);
  s.restart(at(0));
  s.record(Outcome::Pass, "ok", at(0));
  for (int i = 1; i <= 20; ++i) s.record(i % 2 ? Outcome::Fail : Outcome::Pass, "x", at(i));
  CHECK(s.penalty(at(20)) <= 5000.0);
  CHECK(s.penalty(at(80)) == doctest::Approx(s.penalty(at(20)) / 2).epsilon(0.001));
}
