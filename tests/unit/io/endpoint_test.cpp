// SPDX-License-Identifier: Apache-2.0
#include "io/net/endpoint.hpp"

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::io::net;

TEST_CASE("endpoints parse in every form") {
  CHECK(Endpoint::parse("10.0.0.5:7946")->to_string() == "10.0.0.5:7946");
  CHECK(Endpoint::parse("[fd00::5]:7946")->host == "fd00::5");
  CHECK(Endpoint::parse("[fd00::5]:7946")->to_string() == "[fd00::5]:7946");
  CHECK(Endpoint::parse("node-1.lan:80")->port == 80);
  CHECK(Endpoint::parse("node-1", 7946)->port == 7946);
  CHECK(Endpoint::parse("::1", 7946)->to_string() == "[::1]:7946");
  CHECK(Endpoint::parse("[::1]", 7946)->port == 7946);
}

TEST_CASE("bad endpoints get precise errors") {
  auto msg = [](std::string_view s, std::uint16_t def = 0) { return Endpoint::parse(s, def).error().message(); };
  CHECK(msg("10.0.0.5") == "missing port in '10.0.0.5'");
  CHECK(msg("10.0.0.5:0").find("out of range") != std::string::npos);
  CHECK(msg("10.0.0.5:70000").find("out of range") != std::string::npos);
  CHECK(msg("10.0.0.5:8o").find("bad port") != std::string::npos);
  CHECK(msg("fd00::5:7946").find("unbracketed IPv6") != std::string::npos);
  CHECK(msg("[fd00::5").find("missing ']'") != std::string::npos);
  CHECK(msg("[nope]:1").find("not an IP address") != std::string::npos);
  CHECK(msg("bad host!:1").find("bad host name") != std::string::npos);
  CHECK(msg("").find("empty") != std::string::npos);
}

TEST_CASE("IP addresses are canonicalised") {
  CHECK(IpAddress::parse("FD00:0:0:0:0:0:0:5")->to_string() == "fd00::5");
  CHECK(IpAddress::parse("127.0.0.1")->is_loopback());
  CHECK(IpAddress::parse("::1")->is_loopback());
  CHECK(IpAddress::parse("0.0.0.0")->is_unspecified());
  CHECK_FALSE(IpAddress::parse("256.0.0.1"));
}

TEST_CASE("listen addresses may use port 0") {
  CHECK(Endpoint::parse_listen("127.0.0.1:0")->port == 0);
  CHECK(Endpoint::parse_listen("[::1]:0")->host == "::1");
  CHECK(Endpoint::parse_listen("0.0.0.0:7400")->port == 7400);
  CHECK_FALSE(Endpoint::parse("127.0.0.1:0"));
  CHECK_FALSE(Endpoint::parse_listen("127.0.0.1"));
}
