// SPDX-License-Identifier: Apache-2.0
#include "dns/budget.hpp"

#include "core/assert.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace constellation::dns {

TokenBucket::TokenBucket(double capacity, double per_second)
    : capacity_(capacity), per_second_(per_second), tokens_(capacity) {
  CST_ASSERT(capacity >= 1 && per_second > 0);
}

void TokenBucket::refill(core::Instant now) {
  if (!started_) {
    started_ = true;
    last_ = now;
    return;
  }
  if (now <= last_) return;
  const double secs = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(capacity_, tokens_ + secs * per_second_);
  last_ = now;
}

std::optional<core::Duration> TokenBucket::try_take(core::Instant now) {
  refill(now);
  if (now < paused_until_) return paused_until_ - now;
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return std::nullopt;
  }
  const double secs = (1.0 - tokens_) / per_second_;
  return std::max<core::Duration>(std::chrono::duration_cast<core::Duration>(std::chrono::duration<double>(secs)),
                                  std::chrono::milliseconds(1));
}

void TokenBucket::pause_until(core::Instant until) {
  if (until > paused_until_) paused_until_ = until;
}

double TokenBucket::available(core::Instant now) {
  refill(now);
  return now < paused_until_ ? 0.0 : tokens_;
}

std::optional<core::Duration> parse_retry_after(const std::string& value) {
  std::size_t b = value.find_first_not_of(" \t");
  std::size_t e = value.find_last_not_of(" \t");
  if (b == std::string::npos) return std::nullopt;
  std::string_view v(value.data() + b, e - b + 1);
  unsigned long secs = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
  if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
  return std::chrono::seconds(std::min<unsigned long>(secs, 3600));
}

}  // namespace constellation::dns
