// SPDX-License-Identifier: Apache-2.0
#include "gossip/suspicion.hpp"

#include <algorithm>
#include <cmath>

namespace constellation::gossip {

Suspicion::Suspicion(std::string from, std::size_t expected, core::Duration min, core::Duration max,
                     core::Instant start)
    : expected_(expected), min_(min), max_(std::max(min, max)), start_(start) {
  accusers_.insert(std::move(from));
}

core::Duration Suspicion::timeout(std::size_t confirmations, std::size_t expected, core::Duration min,
                                  core::Duration max) {
  if (expected == 0 || max <= min) return min;
  const double frac = std::log(static_cast<double>(confirmations) + 1.0) / std::log(static_cast<double>(expected) + 1.0);
  const double span = static_cast<double>((max - min).count());
  const auto t = max - core::Duration(static_cast<std::int64_t>(std::floor(span * frac)));
  return std::max(min, t);
}

bool Suspicion::confirm(const std::string& from) {
  if (confirmations() >= expected_) return false;
  return accusers_.insert(from).second;
}

}  // namespace constellation::gossip
