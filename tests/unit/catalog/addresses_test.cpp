// SPDX-License-Identifier: Apache-2.0
#include "catalog/addresses.hpp"

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::catalog;

TEST_CASE("IP literal parsing") {
  CHECK(parse_ipv4("10.1.2.3") == 0x0a010203u);
  CHECK_FALSE(parse_ipv4("10.1.2"));
  CHECK_FALSE(parse_ipv4("10.1.2.256"));
  CHECK_FALSE(parse_ipv4("01.1.2.3"));
  CHECK_FALSE(parse_ipv4("1.2.3.4 "));
  CHECK(is_ipv6("::1"));
  CHECK(is_ipv6("::"));
  CHECK(is_ipv6("fe80::1"));
  CHECK(is_ipv6("2001:db8:0:0:0:0:0:1"));
  CHECK(is_ipv6("::ffff:10.0.0.1"));
  CHECK_FALSE(is_ipv6("2001:db8::1::2"));
  CHECK_FALSE(is_ipv6("1:2:3:4:5:6:7:8:9"));
  CHECK_FALSE(is_ipv6("12345::"));
  CHECK_FALSE(is_ipv6(":1"));
  CHECK_FALSE(is_ipv6("1:"));
  CHECK_FALSE(is_ipv6("[::1]"));
}

TEST_CASE("addresses come from configuration, tailscale, and interfaces by the rules") {
  AddressFacts f;
  f.interfaces = {{"lo", "127.0.0.1", true},
                  {"eth0", "203.0.113.7", false},
                  {"eth0", "2001:db8::7", false},
                  {"eth1", "10.1.0.7", false},
                  {"tailscale0", "100.101.102.103", false},
                  {"CloudflareWARP", "172.16.0.2", false}};
  auto r = resolve_addresses(f);
  REQUIRE(r);
  CHECK(r->at("backend") == "10.1.0.7");
  CHECK(r->at("publicnet") == "203.0.113.7");
  CHECK(r->at("tailscale") == "100.101.102.103");
  CHECK(r->at("warp") == "172.16.0.2");

  f.tailscale_output = "100.90.1.1\nfd7a:115c::1\n";
  f.configured["backend"] = "iface:eth0";
  f.configured["storage"] = "192.168.9.9";
  r = resolve_addresses(f);
  REQUIRE(r);
  CHECK(r->at("tailscale") == "100.90.1.1");
  CHECK(r->at("backend") == "203.0.113.7");
  CHECK(r->at("storage") == "192.168.9.9");
}

TEST_CASE("a lone loopback host still has a backend address") {
  AddressFacts f;
  f.interfaces = {{"lo", "127.0.0.1", true}};
  auto r = resolve_addresses(f);
  REQUIRE(r);
  CHECK(r->at("backend") == "127.0.0.1");
  CHECK(r->count("publicnet") == 0);
  CHECK(r->count("tailscale") == 0);
}

TEST_CASE("bad configured values name the network") {
  AddressFacts f;
  f.configured["backend"] = "not-an-ip";
  auto r = resolve_addresses(f);
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("addresses.backend") != std::string::npos);
  f.configured["backend"] = "iface:eth9";
  r = resolve_addresses(f);
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("eth9") != std::string::npos);
}
