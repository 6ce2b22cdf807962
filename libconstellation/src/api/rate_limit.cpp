// SPDX-License-Identifier: Apache-2.0
#include "api/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace constellation::api {

void RateLimiter::refill(Bucket& b, core::Instant now) const {
  double elapsed = std::chrono::duration<double>(now - b.updated).count();
  b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
  b.updated = now;
}

bool RateLimiter::allow(const std::string& key) {
  const core::Instant now = clock_.now();
  std::lock_guard lock(mu_);
  if (now - last_sweep_ > std::chrono::minutes(1)) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      it = now - it->second.updated > std::chrono::minutes(1) ? buckets_.erase(it) : std::next(it);
    }
    last_sweep_ = now;
  }
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh) refill(b, now);
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

int RateLimiter::retry_after_seconds(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) return 1;
  double missing = 1.0 - it->second.tokens;
  return std::max(1, static_cast<int>(std::ceil(missing / rate_)));
}

}  // namespace constellation::api
