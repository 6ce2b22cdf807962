// SPDX-License-Identifier: Apache-2.0
#include "core/time.hpp"

#include <doctest/doctest.h>

using namespace constellation::core;
using namespace std::chrono_literals;

TEST_CASE("Instant arithmetic") {
  Instant t = Instant::from_nanos(1000);
  CHECK((t + 1us).nanos() == 2000);
  CHECK((t + 1us) - t == 1us);
  CHECK(t - 500ns < t);
  CHECK(Instant::max() + 1h == Instant::max());  // deadlines never wrap
  CHECK((Instant() - 1h).nanos() == -3600000000000LL);
}

TEST_CASE("ManualClock moves only when told") {
  ManualClock c(Instant::from_nanos(5), WallTime{0});
  CHECK(c.now().nanos() == 5);
  c.advance(10ms);
  CHECK(c.now().nanos() == 5 + 10000000);
  CHECK(c.wall_now().unix_nanos == 10000000);
  c.advance_to(Instant::from_nanos(20000005));
  CHECK(c.wall_now().unix_nanos == 20000000);
  c.step_wall(-1h);  // an NTP step moves wall time only
  CHECK(c.now().nanos() == 20000005);
  CHECK(c.wall_now().unix_nanos == 20000000 - 3600000000000LL);
}

TEST_CASE("SystemClock is monotonic") {
  const Clock& c = SystemClock::instance();
  Instant a = c.now();
  Instant b = c.now();
  CHECK(b >= a);
  CHECK(c.wall_now().unix_nanos > 1700000000LL * 1000000000LL);
}

TEST_CASE("RFC 3339 formatting") {
  CHECK(WallTime{0}.to_rfc3339() == "1970-01-01T00:00:00.000000Z");
  CHECK(WallTime{1767225600LL * 1000000000LL + 123456789}.to_rfc3339() == "2026-01-01T00:00:00.123456Z");
  CHECK(WallTime{951782400LL * 1000000000LL}.to_rfc3339() == "2000-02-29T00:00:00.000000Z");  // leap day
  CHECK(WallTime{-1000}.to_rfc3339() == "1969-12-31T23:59:59.999999Z");
}

TEST_CASE("format_duration") {
  CHECK(format_duration(0s) == "0s");
  CHECK(format_duration(250ms) == "250ms");
  CHECK(format_duration(1500ms) == "1.5s");
  CHECK(format_duration(123s) == "2m3s");
  CHECK(format_duration(36h) == "36h0m0s");
  CHECK(format_duration(-2s) == "-2s");
  CHECK(format_duration(999ns) == "999ns");
}
