// SPDX-License-Identifier: Apache-2.0
#include "core/time.hpp"

#include "core/assert.hpp"

#include <cstdio>

namespace constellation::core {

namespace {
// Days since 1970-01-01 → civil date (proleptic Gregorian), after H. Hinnant's days_from_civil.
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}
}  // namespace

std::string WallTime::to_rfc3339() const {
  std::int64_t secs = unix_nanos / 1000000000;
  std::int64_t frac = unix_nanos % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    secs -= 1;
  }
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d.%06dZ", static_cast<long long>(y), m, d,
                static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60),
                static_cast<int>(frac / 1000));
  return buf;
}

Instant SystemClock::now() const {
  return Instant::from_nanos(
      std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

WallTime SystemClock::wall_now() const {
  return WallTime{std::chrono::duration_cast<Duration>(std::chrono::system_clock::now().time_since_epoch()).count()};
}

const SystemClock& SystemClock::instance() {
  static const SystemClock clock;
  return clock;
}

void ManualClock::advance(Duration d) {
  CST_ASSERT(d.count() >= 0);
  now_ += d;
  wall_.unix_nanos += d.count();
}

void ManualClock::advance_to(Instant t) {
  CST_ASSERT(t >= now_);
  advance(t - now_);
}

std::string format_duration(Duration d) {
  std::int64_t ns = d.count();
  std::string out;
  if (ns < 0) {
    out.push_back('-');
    ns = ns == std::numeric_limits<std::int64_t>::min() ? std::numeric_limits<std::int64_t>::max() : -ns;
  }
  char buf[64];
  if (ns == 0) {
    out += "0s";
  } else if (ns < 1000) {
    std::snprintf(buf, sizeof buf, "%lldns", static_cast<long long>(ns));
    out += buf;
  } else if (ns < 1000000) {
    std::snprintf(buf, sizeof buf, "%.4gus", static_cast<double>(ns) / 1e3);
    out += buf;
  } else if (ns < 1000000000) {
    std::snprintf(buf, sizeof buf, "%.4gms", static_cast<double>(ns) / 1e6);
    out += buf;
  } else if (ns < 60LL * 1000000000) {
    std::snprintf(buf, sizeof buf, "%.4gs", static_cast<double>(ns) / 1e9);
    out += buf;
  } else {
    std::int64_t s = ns / 1000000000;
    std::int64_t h = s / 3600, mi = s / 60 % 60, se = s % 60;
    if (h > 0) {
      std::snprintf(buf, sizeof buf, "%lldh%lldm%llds", static_cast<long long>(h), static_cast<long long>(mi),
                    static_cast<long long>(se));
    } else {
      std::snprintf(buf, sizeof buf, "%lldm%llds", static_cast<long long>(mi), static_cast<long long>(se));
    }
    out += buf;
  }
  return out;
}

}  // namespace constellation::core
