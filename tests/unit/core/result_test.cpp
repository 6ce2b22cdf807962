// SPDX-License-Identifier: Apache-2.0
#include <constellation/result.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <string>

using namespace constellation;

namespace {
Result<int> parse_positive(int v) {
  if (v <= 0) return Error(Code::InvalidArgument, "value must be positive, got " + std::to_string(v));
  return v;
}

Result<int> doubled(int v) {
  CST_TRY_ASSIGN(int x, parse_positive(v));
  return 2 * x;
}

Result<void> check(int v) {
  CST_TRY(parse_positive(v));
  return ok();
}
}  // namespace

TEST_CASE("Result holds a value or an error") {
  Result<int> good = parse_positive(3);
  REQUIRE(good);
  CHECK(*good == 3);
  CHECK(good.value_or(7) == 3);

  Result<int> bad = parse_positive(-1);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code() == Code::InvalidArgument);
  CHECK(bad.error().message() == "value must be positive, got -1");
  CHECK(bad.value_or(7) == 7);
}

TEST_CASE("CST_TRY and CST_TRY_ASSIGN propagate errors") {
  CHECK(*doubled(4) == 8);
  CHECK(doubled(0).error().code() == Code::InvalidArgument);
  CHECK(check(1).has_value());
  CHECK_FALSE(check(0).has_value());
}

TEST_CASE("Result works with move-only types") {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  REQUIRE(r);
  std::unique_ptr<int> p = std::move(r).value();
  CHECK(*p == 5);
}

TEST_CASE("Error context and names") {
  Error e(Code::NotFound, "no such key");
  CHECK(e.with_context("kv get a/b").message() == "kv get a/b: no such key");
  CHECK(e.message() == "no such key");
  CHECK(e.to_string() == "not_found: no such key");
  CHECK(code_name(Code::PermissionDenied) == "permission_denied");
  CHECK(code_name(static_cast<Code>(99)) == "unknown");
  // Every code has a distinct name.
  for (int a = 1; a <= 10; ++a) {
    for (int b = a + 1; b <= 10; ++b) {
      CHECK(code_name(static_cast<Code>(a)) != code_name(static_cast<Code>(b)));
    }
  }
}
