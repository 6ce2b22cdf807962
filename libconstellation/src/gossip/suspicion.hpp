// SPDX-License-Identifier: Apache-2.0
//
// Lifeguard's local-health-aware suspicion ("dogpile", Lifeguard §IV-B; memberlist suspicion.go):
// a suspicion starts with the longest timeout and shrinks toward the shortest as independent
// members confirm it, so a lone (perhaps sick) accuser waits long and a consensus acts fast.
#pragma once

#include "core/time.hpp"

#include <cstddef>
#include <set>
#include <string>

namespace constellation::gossip {

class Suspicion {
 public:
  /// `from` is the first accuser (not a confirmation); `expected` (K) is how many independent
  /// confirmations bring the timeout down to `min`; the timeout starts at `max`.
  Suspicion(std::string from, std::size_t expected, core::Duration min, core::Duration max, core::Instant start);

  /// timeout = max(min, max - (max - min) * log(C + 1) / log(K + 1)) for C confirmations;
  /// K = 0 gives min.
  static core::Duration timeout(std::size_t confirmations, std::size_t expected, core::Duration min,
                                core::Duration max);

  /// Records an accusation by `from`. True when it is a new independent confirmation (the caller
  /// then re-gossips it); the deadline moves earlier accordingly.
  bool confirm(const std::string& from);

  core::Instant deadline() const { return start_ + timeout(confirmations(), expected_, min_, max_); }
  std::size_t confirmations() const { return accusers_.size() - 1; }

 private:
  std::size_t expected_;
  core::Duration min_, max_;
  core::Instant start_;
  // Invariant: holds the first accuser, so confirmations() = size - 1.
  std::set<std::string> accusers_;
};

/// Lifeguard's Local Health Multiplier (Lifeguard §IV-A; memberlist awareness.go): a saturating
/// score in [0, max) that grows when this node misses acks or nacks or must refute a suspicion
/// of itself, and shrinks on every successful probe. Probe interval and timeout are scaled by
/// (score + 1), so a struggling node probes less and accuses later.
class Awareness {
 public:
  explicit Awareness(std::uint32_t max) : max_(max == 0 ? 1 : max) {}
  void apply(int delta) {
    long v = static_cast<long>(score_) + delta;
    if (v < 0) v = 0;
    if (v > static_cast<long>(max_) - 1) v = static_cast<long>(max_) - 1;
    score_ = static_cast<std::uint32_t>(v);
  }
  std::uint32_t score() const { return score_; }
  core::Duration scale(core::Duration d) const { return d * (score_ + 1); }

 private:
  std::uint32_t max_;
  std::uint32_t score_ = 0;
};

}  // namespace constellation::gossip
