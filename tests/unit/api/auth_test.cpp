// SPDX-License-Identifier: Apache-2.0
#include "api/auth.hpp"
#include "api/rate_limit.hpp"

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::api;
using namespace std::chrono_literals;

TEST_CASE("bearer tokens authenticate with their role, by secret or by digest") {
  Authenticator auth({{"ops", "0123456789abcdef-ops", Role::Admin},
                      {"ci", "sha256:" + sha256_hex("ci-secret-0123456789"), Role::Write}});
  CHECK_FALSE(auth.open());
  auto ops = auth.authenticate("Bearer 0123456789abcdef-ops");
  REQUIRE(ops);
  CHECK(ops->name == "ops");
  CHECK(ops->role == Role::Admin);
  auto ci = auth.authenticate("Bearer ci-secret-0123456789");
  REQUIRE(ci);
  CHECK(ci->role == Role::Write);

  auto none = auth.authenticate("");
  REQUIRE_FALSE(none);
  CHECK(none.error().code() == Code::PermissionDenied);
  CHECK(none.error().message().find("missing bearer token") == 0);
  CHECK(auth.authenticate("Basic abc").error().message().find("missing bearer token") == 0);
  CHECK(auth.authenticate("Bearer ").error().code() == Code::PermissionDenied);
  CHECK(auth.authenticate("Bearer wrong").error().message() == "unknown token");
  CHECK(auth.authenticate("Bearer sha256:" + sha256_hex("ci-secret-0123456789")).error().message() == "unknown token");
}

TEST_CASE("without tokens everyone is an anonymous admin") {
  Authenticator auth({});
  CHECK(auth.open());
  auto p = auth.authenticate("");
  REQUIRE(p);
  CHECK(p->role == Role::Admin);
}

TEST_CASE("sha256_hex and roles") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(*parse_role("write") == Role::Write);
  CHECK(parse_role("root").error().message() == "expected read, write or admin, got 'root'");
  CHECK(Role::Read < Role::Write);
  CHECK(Role::Write < Role::Admin);
}

TEST_CASE("rate limiter: bursts, refill, per-key buckets") {
  core::ManualClock clock;
  RateLimiter rl(2.0, 3.0, clock);  // 2 per second, bursts of 3
  CHECK(rl.allow("a"));
  CHECK(rl.allow("a"));
  CHECK(rl.allow("a"));
  CHECK_FALSE(rl.allow("a"));
  CHECK(rl.retry_after_seconds("a") == 1);
  CHECK(rl.allow("b"));  // another client has its own bucket
  clock.advance(500ms);  // one token back
  CHECK(rl.allow("a"));
  CHECK_FALSE(rl.allow("a"));
  clock.advance(10s);  // refills to the burst, not beyond
  for (int i = 0; i < 3; ++i) CHECK(rl.allow("a"));
  CHECK_FALSE(rl.allow("a"));
}
