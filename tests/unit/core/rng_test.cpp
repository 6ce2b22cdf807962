// SPDX-License-Identifier: Apache-2.0
#include "core/rng.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <vector>

using namespace constellation::core;

TEST_CASE("Rng is reproducible from its seed") {
  Rng a(42), b(42), c(43);
  std::vector<std::uint64_t> xa, xb, xc;
  for (int i = 0; i < 100; ++i) {
    xa.push_back(a());
    xb.push_back(b());
    xc.push_back(c());
  }
  CHECK(xa == xb);
  CHECK(xa != xc);
}

TEST_CASE("below() stays in range and covers it evenly") {
  Rng r(7);
  std::array<int, 6> counts{};
  const int n = 60000;
  for (int i = 0; i < n; ++i) {
    auto v = r.below(6);
    REQUIRE(v < 6);
    counts[v]++;
  }
  for (int c : counts) CHECK(std::abs(c - n / 6) < n / 60);  // within 10 % of the mean
  CHECK(r.below(1) == 0);
}

TEST_CASE("between(), uniform() and chance()") {
  Rng r(1);
  for (int i = 0; i < 1000; ++i) {
    auto v = r.between(-3, 3);
    CHECK((v >= -3 && v <= 3));
    double u = r.uniform();
    CHECK((u >= 0.0 && u < 1.0));
  }
  CHECK_FALSE(r.chance(0.0));
  CHECK(r.chance(1.0));
  r.between(INT64_MIN, INT64_MAX);  // full range must not hang or overflow
}

TEST_CASE("shuffle is a permutation; fork gives an independent stream") {
  Rng r(9);
  std::vector<int> v{1, 2, 3, 4, 5, 6, 7, 8};
  r.shuffle(std::span<int>(v));
  std::vector<int> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8});
  Rng child = r.fork();
  CHECK(child() != r());
}
