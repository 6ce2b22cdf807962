// SPDX-License-Identifier: Apache-2.0
#include "catalog/codec.hpp"
#include "fixtures.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

using namespace constellation;
using namespace constellation::catalog;
using namespace constellation::catalog::testing;

TEST_CASE("entries round-trip through the binary codec") {
  core::Rng rng(7);
  for (int i = 0; i < 50; ++i) {
    auto e = random_entry(rng, static_cast<std::uint8_t>(1 + i), rng.next(), static_cast<int>(rng.below(10)));
    if (i % 3 == 0 && !e.instances.empty()) {
      e.instances[0].labels["traefik.http.middlewares.auth.basicauth.users"] = "user:$apr1$x$y\n\xe2\x9c\x93";
      e.instances[0].ports.push_back({53, 0, "udp", "127.0.0.1"});
    }
    auto bytes = encode(e);
    auto back = decode(bytes);
    REQUIRE(back.has_value());
    CHECK(*back == e);
    CHECK(encode(*back) == bytes);
  }
}

TEST_CASE("the encoding of a small entry is compact and stable") {
  auto e = entry(1, 2, {instance("web", 1)});
  auto bytes = encode(e);
  CHECK(bytes.size() < 256);
  CHECK(bytes[0] == kEntryFormat);
}

TEST_CASE("every truncation of a valid entry is an error, never a crash") {
  auto bytes = encode(entry(1, 9, {instance("web", 1), instance("api", 2)}));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto r = decode(core::ByteView(bytes.data(), n));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == Code::InvalidArgument);
  }
  auto extra = bytes;
  extra.push_back(0);
  auto r = decode(extra);
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("trailing bytes") != std::string::npos);
}

TEST_CASE("structural violations are Corrupt") {
  auto e = entry(1, 1, {instance("web", 1)});
  auto bytes = encode(e);
  SUBCASE("unknown format") {
    bytes[0] = 9;
    auto r = decode(bytes);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Code::Corrupt);
  }
  SUBCASE("unknown health value") {
    // The instance health byte sits right before the checks count (1) at the end:
    // ... u8 health, varint 1, str name, u8 status, str output.
    std::size_t tail = 1 + 1 + (1 + 4) + 1 + (1 + 8);  // health, count, "http", status, "HTTP 200"
    bytes[bytes.size() - tail] = 7;
    auto r = decode(bytes);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Code::Corrupt);
    CHECK(r.error().message().find("health") != std::string::npos);
  }
  SUBCASE("zero node id") {
    for (int i = 1; i <= 16; ++i) bytes[static_cast<std::size_t>(i)] = 0;
    auto r = decode(bytes);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Code::Corrupt);
  }
}

TEST_CASE("unsorted map keys are rejected") {
  core::ByteWriter w;
  auto e = entry(1, 1);
  e.node.addresses.clear();
  encode(e, w);
  auto bytes = std::move(w).take();
  // Rebuild with two addresses written out of order by hand.
  core::ByteWriter h;
  h.u8(kEntryFormat);
  h.raw(core::ByteView(e.node.id.bytes()));
  h.prefixed(std::string_view("n"));
  h.varint(0);
  h.varint(0);
  h.prefixed(std::string_view("v"));
  h.varint(2);
  h.prefixed(std::string_view("warp"));
  h.prefixed(std::string_view("1.1.1.1"));
  h.prefixed(std::string_view("backend"));
  h.prefixed(std::string_view("1.1.1.2"));
  h.varint(1);
  h.varint(0);
  auto r = decode(h.view());
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Code::Corrupt);
  CHECK(r.error().message().find("strictly increasing") != std::string::npos);
}

TEST_CASE("huge counts are refused before anything is allocated") {
  core::ByteWriter h;
  h.u8(kEntryFormat);
  auto id = node_id(1);
  h.raw(core::ByteView(id.bytes()));
  h.prefixed(std::string_view("n"));
  h.varint(1u << 30);  // roles count
  auto r = decode(h.view());
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Code::InvalidArgument);
}

TEST_CASE("the fuzz seeds are valid entries") {
  for (const char* name : {"empty-node.bin", "two-instances.bin", "critical.bin"}) {
    std::string path = std::string(CST_SOURCE_DIR) + "/tests/fuzz/corpus/catalog_entry/" + name;
    std::ifstream in(path, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE_MESSAGE(!data.empty(), path);
    auto r = decode(core::as_bytes(data));
    REQUIRE_MESSAGE(r.has_value(), r.error().to_string());
    CHECK(encode(*r) == core::Bytes(data.begin(), data.end()));
  }
}
