// SPDX-License-Identifier: Apache-2.0
#include "core/ids.hpp"

#include <doctest/doctest.h>

#include <unordered_set>

using namespace constellation;
using namespace constellation::core;

namespace {
struct TermTag {};
struct IndexTag {};
using Term = StrongId<TermTag, std::uint64_t>;
using LogIndex = StrongId<IndexTag, std::uint64_t>;
}  // namespace

TEST_CASE("strong ids compare and hash within their tag") {
  Term a(1), b(2);
  CHECK(a < b);
  CHECK(a == Term(1));
  static_assert(!std::is_convertible_v<Term, LogIndex>);
  static_assert(!std::is_convertible_v<std::uint64_t, Term>);
  std::unordered_set<Term> set{a, b, Term(1)};
  CHECK(set.size() == 2);
}

TEST_CASE("NodeId round-trips through hex") {
  Rng rng(5);
  NodeId id = NodeId::random(rng);
  CHECK_FALSE(id.is_zero());
  std::string hex = id.to_hex();
  CHECK(hex.size() == 32);
  auto back = NodeId::parse(hex);
  REQUIRE(back);
  CHECK(*back == id);
  CHECK(NodeId::parse("00112233445566778899AABBCCDDEEFF")->to_hex() == "00112233445566778899aabbccddeeff");
  CHECK(NodeId().is_zero());
}

TEST_CASE("NodeId::parse rejects bad input precisely") {
  auto short_id = NodeId::parse("abc");
  REQUIRE_FALSE(short_id);
  CHECK(short_id.error().code() == Code::InvalidArgument);
  CHECK(short_id.error().message().find("got 3 characters") != std::string::npos);
  auto bad = NodeId::parse("0011223344556677889900112233445g");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("position 31") != std::string::npos);
}
