// SPDX-License-Identifier: Apache-2.0
#include "core/bytes.hpp"

#include <doctest/doctest.h>

#include <limits>
#include <string>

using namespace constellation;
using namespace constellation::core;

TEST_CASE("writer and reader round-trip every encoding") {
  ByteWriter w;
  w.u8(0xAB);
  w.u16be(0x1234);
  w.u32be(0xDEADBEEF);
  w.u64be(0x0102030405060708ULL);
  w.varint(0);
  w.varint(127);
  w.varint(128);
  w.varint(std::numeric_limits<std::uint64_t>::max());
  w.svarint(-1);
  w.svarint(std::numeric_limits<std::int64_t>::min());
  w.prefixed(std::string_view("hello"));

  ByteReader r(w.view());
  CHECK(r.u8("a") == 0xAB);
  CHECK(r.u16be("b") == 0x1234);
  CHECK(r.u32be("c") == 0xDEADBEEF);
  CHECK(r.u64be("d") == 0x0102030405060708ULL);
  CHECK(r.varint("e") == 0);
  CHECK(r.varint("f") == 127);
  CHECK(r.varint("g") == 128);
  CHECK(r.varint("h") == std::numeric_limits<std::uint64_t>::max());
  CHECK(r.svarint("i") == -1);
  CHECK(r.svarint("j") == std::numeric_limits<std::int64_t>::min());
  CHECK(r.prefixed_string("k", 16) == "hello");
  CHECK(r.finish("record").has_value());
}

TEST_CASE("varint encodings are minimal and known") {
  ByteWriter w;
  w.varint(300);
  CHECK(to_hex(w.view()) == "ac02");
  w.clear();
  w.varint(std::numeric_limits<std::uint64_t>::max());
  CHECK(w.size() == kMaxVarintBytes);
}

TEST_CASE("truncated input fails with field and offset, and stays failed") {
  const std::uint8_t data[] = {0x00, 0x01, 0x02};
  ByteReader r(ByteView(data, sizeof data));
  CHECK(r.u8("version") == 0);
  CHECK(r.u32be("term") == 0);
  CHECK_FALSE(r.ok());
  auto s = r.status();
  REQUIRE_FALSE(s);
  CHECK(s.error().code() == Code::InvalidArgument);
  CHECK(s.error().message() == "field 'term' at offset 1: truncated: needs 4 bytes, 2 left");
  // Sticky: later reads return nothing and do not change the first error.
  CHECK(r.u8("next") == 0);
  CHECK(r.bytes("blob", 1).empty());
  CHECK(r.remaining() == 0);
  CHECK(r.status().error().message().find("'term'") != std::string::npos);
}

TEST_CASE("over-long and overflowing varints are rejected") {
  const std::uint8_t eleven[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  ByteReader a(ByteView(eleven, sizeof eleven));
  a.varint("n");
  CHECK_FALSE(a.ok());
  CHECK(a.status().error().message().find("overflows 64 bits") != std::string::npos);

  const std::uint8_t unterminated[] = {0x80, 0x80};
  ByteReader b(ByteView(unterminated, sizeof unterminated));
  b.varint("n");
  CHECK(b.status().error().message().find("truncated varint") != std::string::npos);
}

TEST_CASE("length prefixes are bounded before anything is read") {
  ByteWriter w;
  w.varint(1u << 30);  // claims a gigabyte
  w.raw(std::string_view("xyz"));
  ByteReader r(w.view());
  auto b = r.prefixed("payload", 1024);
  CHECK(b.empty());
  CHECK(r.status().error().message().find("exceeds the limit 1024") != std::string::npos);

  ByteWriter w2;
  w2.varint(10);  // within the bound but longer than the input
  w2.raw(std::string_view("abc"));
  ByteReader r2(w2.view());
  CHECK(r2.prefixed("payload", 1024).empty());
  CHECK(r2.status().error().message().find("truncated") != std::string::npos);
}

TEST_CASE("finish() reports trailing bytes; fail() records semantic errors") {
  const std::uint8_t data[] = {1, 2, 3};
  ByteReader r(ByteView(data, sizeof data));
  r.u8("a");
  auto f = r.finish("ping");
  REQUIRE_FALSE(f);
  CHECK(f.error().message() == "ping: 2 unexpected trailing bytes at offset 1");

  ByteReader r2(ByteView(data, sizeof data));
  r2.u8("kind");
  r2.fail("kind", "unknown message kind 1");
  r2.fail("later", "ignored");
  CHECK(r2.status().error().message() == "field 'kind' at offset 1: unknown message kind 1");
}

TEST_CASE("patch_u32be backfills a length") {
  ByteWriter w;
  w.u32be(0);
  w.raw(std::string_view("abcd"));
  w.patch_u32be(0, static_cast<std::uint32_t>(w.size() - 4));
  ByteReader r(w.view());
  CHECK(r.u32be("len") == 4);
}

TEST_CASE("CRC32C matches the standard check values") {
  CHECK(crc32c(as_bytes("123456789")) == 0xE3069283u);
  CHECK(crc32c(as_bytes("")) == 0u);
  // RFC 3720 B.4: 32 bytes of zeros and of 0xFF.
  std::string zeros(32, '\0'), ones(32, '\xff');
  CHECK(crc32c(as_bytes(zeros)) == 0x8A9136AAu);
  CHECK(crc32c(as_bytes(ones)) == 0x62A8AB43u);
  // Extending equals hashing the concatenation, at every split point and odd lengths.
  std::string s = "The quick brown fox jumps over the lazy dog, twice over.";
  for (std::size_t cut = 0; cut <= s.size(); ++cut) {
    auto a = as_bytes(std::string_view(s).substr(0, cut));
    auto b = as_bytes(std::string_view(s).substr(cut));
    REQUIRE(crc32c_extend(crc32c(a), b) == crc32c(as_bytes(s)));
  }
}

TEST_CASE("to_hex") { CHECK(to_hex(as_bytes(std::string_view("\x00\xff\x10", 3))) == "00ff10"); }

TEST_CASE("base64 round-trips and rejects bad input") {
  // RFC 4648 §10 test vectors.
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) {
    CHECK(base64_encode(as_bytes(plain[i])) == coded[i]);
    auto back = base64_decode(coded[i]);
    REQUIRE(back);
    CHECK(as_chars(*back) == plain[i]);
  }
  CHECK(as_chars(*base64_decode("Zm9v\nYmFy")) == "foobar");
  CHECK(base64_decode("Zm9").error().message().find("multiple of 4") != std::string::npos);
  CHECK(base64_decode("Zm!v").error().message().find("'!' at position 2") != std::string::npos);
  CHECK_FALSE(base64_decode("Z===="));
  CHECK_FALSE(base64_decode("Zg==Zg=="));
}
