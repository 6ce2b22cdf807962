// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "core/assert.hpp"

#include <cstdint>
#include <limits>
#include <span>
#include <utility>

namespace constellation::core {

__extension__ using uint128_t = unsigned __int128;

/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64). Every random
/// choice a pure module makes — probe targets, election timeouts, jitter — draws from an Rng
/// passed in by its owner, so a run is reproduced exactly from its seed. Not cryptographic:
/// keys and nonces come from OpenSSL in the adapters. Not thread-safe; give each thread its own
/// (fork() derives independent streams).
class Rng {
 public:
  using result_type = std::uint64_t;

  explicit Rng(std::uint64_t seed) { reseed(seed); }

  void reseed(std::uint64_t seed) {
    for (auto& word : s_) word = splitmix64(seed);
  }

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  /// 64 uniformly distributed bits.
  result_type operator()() { return next(); }
  result_type next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform integer in [0, bound), bound > 0, without modulo bias (Lemire's method).
  std::uint64_t below(std::uint64_t bound) {
    CST_ASSERT(bound > 0);
    uint128_t m = static_cast<uint128_t>(next()) * bound;
    auto low = static_cast<std::uint64_t>(m);
    if (low < bound) {
      const std::uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        m = static_cast<uint128_t>(next()) * bound;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  /// Uniform integer in [lo, hi] (inclusive), lo <= hi.
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    CST_ASSERT(lo <= hi);
    const auto span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
    if (span == std::numeric_limits<std::uint64_t>::max()) return static_cast<std::int64_t>(next());
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + below(span + 1));
  }

  /// Uniform double in [0, 1), 53 bits of precision.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// True with probability p (p <= 0 never, p >= 1 always).
  bool chance(double p) { return uniform() < p; }

  /// Fisher–Yates shuffle.
  template <class T>
  void shuffle(std::span<T> items) {
    for (std::size_t i = items.size(); i > 1; --i) {
      std::swap(items[i - 1], items[below(i)]);
    }
  }

  /// An independent generator derived from this one (for a child component or a thread).
  Rng fork() { return Rng(next() ^ 0x9e3779b97f4a7c15ULL); }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t s_[4];
};

}  // namespace constellation::core
