// SPDX-License-Identifier: Apache-2.0
//
// Request budget for a provider account. Cloudflare allows 1,200 requests per 5 minutes per user,
// across every tool and the dashboard, and blocks the account for five minutes when it is
// exceeded; so the writer spends far less (default: a burst of 40, then 1 request per second
// = 300 per 5 minutes, a quarter of the limit) and stops altogether while a retry-after runs.
#pragma once

#include "core/time.hpp"

#include <cstdint>
#include <optional>

namespace constellation::dns {

/// A token bucket on a caller-supplied clock. Not thread-safe.
class TokenBucket {
 public:
  /// `capacity` tokens at most (the burst), refilled at `per_second`; starts full.
  TokenBucket(double capacity, double per_second);

  /// Takes one token if available. Returns nullopt on success, or how long until one is.
  std::optional<core::Duration> try_take(core::Instant now);
  /// Blocks (logically) all takes until `until` — a 429's retry-after.
  void pause_until(core::Instant until);
  /// Tokens available at `now` (for tests and metrics).
  double available(core::Instant now);

  double capacity() const { return capacity_; }
  double per_second() const { return per_second_; }

 private:
  void refill(core::Instant now);
  double capacity_;
  double per_second_;
  double tokens_;
  core::Instant last_;
  bool started_ = false;
  core::Instant paused_until_;
};

/// Parses an HTTP Retry-After value given in seconds ("30"); HTTP dates are not used by the
/// providers here and give nullopt, as do malformed values. Capped at one hour.
std::optional<core::Duration> parse_retry_after(const std::string& value);

}  // namespace constellation::dns
