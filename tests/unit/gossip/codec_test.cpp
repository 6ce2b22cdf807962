// SPDX-License-Identifier: Apache-2.0
#include "gossip/messages.hpp"

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::gossip;
using namespace constellation::gossip::wire;

namespace {

std::vector<Message> every_message() {
  return {Ping{1, "b", "a", "10.0.0.1:1", {3, 0x1234567890abcdefULL}},
          PingReq{2, "c", "[::1]:7946", "a", "10.0.0.1:1", false},
          Ack{3, "b", {}},
          Nack{4},
          Suspect{5, "c", "a"},
          Alive{6, "c", "[2001:db8::1]:7946", 9},
          Dead{7, "c", "a"},
          Leave{8, "d"},
          StateDelta{"b", 3, 5, false, {StateEntry{"x", 4, std::string("1")}, StateEntry{"y", 5, std::nullopt}}},
          User{"a", 10, std::string("payload\0with nul", 16)}};
}

}  // namespace

TEST_CASE("every message round-trips alone and in one compound packet") {
  std::vector<core::Bytes> parts;
  for (const auto& m : every_message()) {
    auto one = decode_packet(encode_packet(m));
    REQUIRE(one.has_value());
    REQUIRE(one->messages.size() == 1);
    CHECK(one->messages[0] == m);
    parts.push_back(encode_part(m));
  }
  auto all = decode_packet(encode_packet(parts));
  REQUIRE(all.has_value());
  CHECK(all->messages == every_message());
}

TEST_CASE("packet decoder rejects bad input with an error, never crashes") {
  const auto good = encode_packet(Alive{6, "node-c", "10.0.0.3:7946", 9});
  SUBCASE("empty") { CHECK_FALSE(decode_packet({}).has_value()); }
  SUBCASE("wrong version") {
    auto b = good;
    b[0] = 2;
    auto r = decode_packet(b);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message().find("version") != std::string::npos);
  }
  SUBCASE("every truncation") {
    for (std::size_t n = 2; n < good.size(); ++n) {
      CHECK_FALSE(decode_packet(core::ByteView(good.data(), n)).has_value());
    }
  }
  SUBCASE("a length beyond the input") {
    core::Bytes b{kVersion, static_cast<std::uint8_t>(MsgType::Ping), 0x7f, 1};
    CHECK_FALSE(decode_packet(b).has_value());
  }
  SUBCASE("a name longer than the limit") {
    core::ByteWriter body;
    body.varint(1);
    body.prefixed(std::string(kMaxName + 1, 'n'));
    body.prefixed("a");
    body.prefixed("x");
    core::ByteWriter w;
    w.u8(kVersion);
    w.u8(static_cast<std::uint8_t>(MsgType::Ping));
    w.prefixed(body.view());
    CHECK_FALSE(decode_packet(w.view()).has_value());
  }
  SUBCASE("more than 255 parts") {
    std::vector<core::Bytes> parts(256, encode_part(Nack{1}));
    CHECK_FALSE(decode_packet(encode_packet(parts)).has_value());
  }
  SUBCASE("a huge entry count with no entries behind it") {
    core::ByteWriter body;
    body.prefixed("b");
    body.varint(0);
    body.varint(1);
    body.u8(0);
    body.varint(1u << 19);
    core::ByteWriter w;
    w.u8(kVersion);
    w.u8(static_cast<std::uint8_t>(MsgType::StateDelta));
    w.prefixed(body.view());
    CHECK_FALSE(decode_packet(w.view()).has_value());
  }
}

TEST_CASE("unknown message types and trailing fields are skipped (forward compatibility)") {
  core::ByteWriter w;
  w.u8(kVersion);
  w.u8(200);  // a type from a newer version
  w.prefixed(std::string("future"));
  auto nack = encode_part(Nack{5});
  w.raw(nack);
  // A Nack with an extra trailing field appended by a newer peer.
  core::ByteWriter body;
  body.varint(6);
  body.varint(99);
  w.u8(static_cast<std::uint8_t>(MsgType::Nack));
  w.prefixed(body.view());
  auto r = decode_packet(w.view());
  REQUIRE(r.has_value());
  CHECK(r->unknown == 1);
  REQUIRE(r->messages.size() == 2);
  CHECK(r->messages[0] == Message(Nack{5}));
  CHECK(r->messages[1] == Message(Nack{6}));
}

TEST_CASE("push/pull frames round-trip, compressed only above the threshold") {
  PushPull p;
  p.type = StreamType::PushPullResponse;
  p.targeted = true;
  p.source = "a";
  p.source_address = "[fd00::1]:7946";
  p.digest.push_back(DigestEntry{"b", 2, MemberState::Dead, 4});
  for (int i = 0; i < 50; ++i) {
    p.records.push_back(MemberRecord{"10.0.0." + std::to_string(i) + ":7946", 1, MemberState::Alive,
                                     StateDelta{"n" + std::to_string(i), 0, 2, true,
                                                {StateEntry{"service", 2, std::string(100, 'v')}}}});
  }
  const auto plain = encode_stream(p, 1u << 30);
  const auto packed = encode_stream(p, 1024);
  CHECK(plain[1] == 0);
  CHECK(packed[1] == 1);
  CHECK(packed.size() < plain.size() / 4);
  for (const auto& bytes : {plain, packed}) {
    auto r = decode_stream(bytes, 32u << 20);
    REQUIRE(r.has_value());
    auto* back = std::get_if<PushPull>(&r->body);
    REQUIRE(back);
    CHECK(*back == p);
  }
}

TEST_CASE("stream decoder bounds decompression and rejects inconsistent frames") {
  PushPull p;
  p.source = "a";
  p.records.push_back(MemberRecord{"x:1", 1, MemberState::Alive,
                                   StateDelta{"a", 0, 1, true, {StateEntry{"k", 1, std::string(100000, 'z')}}}});
  const auto packed = encode_stream(p, 1024);
  REQUIRE(packed[1] == 1);
  SUBCASE("raw length above max_stream (a decompression bomb)") { CHECK_FALSE(decode_stream(packed, 4096).has_value()); }
  SUBCASE("raw length that does not match the zstd frame") {
    core::ByteWriter w;
    w.u8(kVersion);
    w.u8(1);
    w.varint(5);
    core::ByteReader r(packed);
    r.u8("v");
    r.u8("f");
    r.varint("len");
    w.raw(r.rest());
    CHECK_FALSE(decode_stream(w.view(), 32u << 20).has_value());
  }
  SUBCASE("garbage after the flags") {
    core::Bytes b{kVersion, 1, 4, 1, 2, 3, 4};
    CHECK_FALSE(decode_stream(b, 1024).has_value());
  }
  SUBCASE("unknown flags and frame types") {
    CHECK_FALSE(decode_stream(core::Bytes{kVersion, 2, 1}, 1024).has_value());
    CHECK_FALSE(decode_stream(core::Bytes{kVersion, 0, 99}, 1024).has_value());
  }
  SUBCASE("an entry version outside (0, version]") {
    PushPull q;
    q.records.push_back(MemberRecord{"x:1", 1, MemberState::Alive, StateDelta{"a", 0, 1, false, {StateEntry{"k", 7, std::nullopt}}}});
    CHECK_FALSE(decode_stream(encode_stream(q, 1u << 20), 1u << 20).has_value());
  }
}

TEST_CASE("a packet sent over a stream carries the same parts") {
  auto bytes = encode_stream_packet({encode_part(Ping{1, "b", "a", "x:1", {}})}, 1024);
  auto r = decode_stream(bytes, 1024);
  REQUIRE(r.has_value());
  auto* pk = std::get_if<DecodedPacket>(&r->body);
  REQUIRE(pk);
  REQUIRE(pk->messages.size() == 1);
  CHECK(pk->messages[0] == Message(Ping{1, "b", "a", "x:1", {}}));
}
