// SPDX-License-Identifier: Apache-2.0
#include "dns/budget.hpp"
#include "dns/wire.hpp"

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::dns;
using namespace std::chrono_literals;

TEST_CASE("wire: an UPDATE message round-trips") {
  wire::Message m;
  m.id = 0xBEEF;
  m.opcode = wire::kOpUpdate;
  m.questions.push_back({"example.test", wire::kTypeSOA, wire::kClassIN});
  m.answers.push_back({"_constellation-fence.example.test", wire::kTypeTXT, wire::kClassNONE, 0, {}});
  m.authority.push_back({"www.example.test", wire::kTypeA, wire::kClassANY, 0, {}});
  m.authority.push_back({"www.example.test", wire::kTypeA, wire::kClassIN, 60, wire::rdata_a("192.0.2.1").value()});
  m.authority.push_back({"www.example.test", wire::kTypeAAAA, wire::kClassIN, 60, wire::rdata_aaaa("2001:db8::1").value()});
  m.authority.push_back({"c.example.test", wire::kTypeCNAME, wire::kClassIN, 60, wire::rdata_name("www.example.test").value()});
  m.authority.push_back({"t.example.test", wire::kTypeTXT, wire::kClassIN, 60, wire::rdata_txt(std::string(300, 'x'))});
  auto bytes = wire::encode(m).value();
  auto back = wire::decode(bytes).value();
  CHECK(back == m);
  CHECK(wire::rdata_text(wire::kTypeA, back.authority[1].rdata).value() == "192.0.2.1");
  CHECK(wire::rdata_text(wire::kTypeAAAA, back.authority[2].rdata).value() == "2001:db8::1");
  CHECK(wire::rdata_text(wire::kTypeCNAME, back.authority[3].rdata).value() == "www.example.test");
  CHECK(wire::rdata_text(wire::kTypeTXT, back.authority[4].rdata).value() == std::string(300, 'x'));
}

TEST_CASE("wire: compression pointers are followed, loops and forward pointers rejected") {
  // Header, one question "a.b" A IN, one answer whose name points at offset 12.
  core::Bytes msg = {0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
                     1, 'a', 1, 'b', 0, 0, 1, 0, 1,
                     0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 0xC0, 14, 0xC0, 12};
  // CNAME rdata "b" (pointer to 14) — but rdlength 4 holds two pointers: trailing bytes.
  CHECK_FALSE(wire::decode(msg));
  msg[32] = 2;
  msg.resize(msg.size() - 2);
  auto m = wire::decode(msg).value();
  CHECK(m.answers.at(0).name == "a.b");
  CHECK(wire::rdata_text(wire::kTypeCNAME, m.answers[0].rdata).value() == "b");
  core::Bytes loop = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1};
  CHECK_FALSE(wire::decode(loop));  // points at itself
  core::Bytes forward = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 14, 0, 0, 1, 0, 1};
  CHECK_FALSE(wire::decode(forward));
  core::Bytes huge_count = {0, 1, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0};
  CHECK_FALSE(wire::decode(huge_count));
  CHECK_FALSE(wire::decode(core::Bytes{1, 2, 3}));
  CHECK(wire::rcode_name(8) == "NXRRSET");
  CHECK(wire::rcode_name(16) == "BADSIG");
}

TEST_CASE("wire: escapes in names survive a round trip") {
  wire::Message m;
  m.questions.push_back({"we\\.ird\\032label.example", wire::kTypeTXT, wire::kClassIN});
  auto back = wire::decode(wire::encode(m).value()).value();
  CHECK(back.questions[0].name == "we\\.ird\\032label.example");
  wire::Message bad;
  bad.questions.push_back({std::string(64, 'a') + ".example", 1, 1});
  CHECK_FALSE(wire::encode(bad));
}

TEST_CASE("token bucket: burst, refill, retry-after pause") {
  TokenBucket b(3, 1.0);
  core::Instant t0 = core::Instant::from_nanos(1'000'000'000);
  CHECK_FALSE(b.try_take(t0));
  CHECK_FALSE(b.try_take(t0));
  CHECK_FALSE(b.try_take(t0));
  auto wait = b.try_take(t0);
  REQUIRE(wait);
  CHECK(*wait == 1s);
  CHECK_FALSE(b.try_take(t0 + 1s));
  b.pause_until(t0 + 30s);
  auto paused = b.try_take(t0 + 5s);
  REQUIRE(paused);
  CHECK(*paused == 25s);
  CHECK_FALSE(b.try_take(t0 + 30s));
  CHECK(parse_retry_after("30") == std::optional<core::Duration>(30s));
  CHECK(parse_retry_after(" 7 ") == std::optional<core::Duration>(7s));
  CHECK_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
  CHECK(parse_retry_after("999999") == std::optional<core::Duration>(3600s));
}
