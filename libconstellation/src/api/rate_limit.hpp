// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "core/time.hpp"

#include <map>
#include <mutex>
#include <string>

namespace constellation::api {

/// Token buckets keyed by client (address or token name): `rate` requests per second with bursts
/// of up to `burst`. Thread-safe. Idle buckets are forgotten after a minute, so memory stays
/// bounded by the clients seen recently.
class RateLimiter {
 public:
  RateLimiter(double rate, double burst, const core::Clock& clock) : rate_(rate), burst_(burst), clock_(clock) {}

  /// Takes one token for `key`; false when the bucket is empty (answer 429).
  bool allow(const std::string& key);
  /// Seconds until `key` has a token again (for Retry-After), at least 1.
  int retry_after_seconds(const std::string& key);

 private:
  struct Bucket {
    double tokens;
    core::Instant updated;
  };
  void refill(Bucket& b, core::Instant now) const;
  double rate_;
  double burst_;
  const core::Clock& clock_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
  core::Instant last_sweep_;
};

}  // namespace constellation::api
