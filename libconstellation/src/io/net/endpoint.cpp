// SPDX-License-Identifier: Apache-2.0
#include "io/net/endpoint.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace constellation::io::net {

Result<IpAddress> IpAddress::parse(std::string_view text) {
  std::string s(text);
  IpAddress a;
  if (s.find(':') != std::string::npos) {
    a.v6 = true;
    if (::inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) return a;
    return Error(Code::InvalidArgument, "'" + s + "' is not an IPv6 address");
  }
  if (::inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  return Error(Code::InvalidArgument, "'" + s + "' is not an IP address");
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  if (!::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf)) return "?";
  return buf;
}

bool IpAddress::is_loopback() const {
  if (!v6) return bytes[0] == 127;
  static constexpr std::array<std::uint8_t, 16> kLoop{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return bytes == kLoop;
}

bool IpAddress::is_unspecified() const {
  for (std::size_t i = 0; i < (v6 ? 16u : 4u); ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

namespace {
Result<std::uint16_t> parse_port(std::string_view p, std::string_view whole, bool allow_zero = false) {
  if (p.empty()) return Error(Code::InvalidArgument, "missing port in '" + std::string(whole) + "'");
  std::uint32_t v = 0;
  for (char c : p) {
    if (c < '0' || c > '9' || v > 65535) {
      return Error(Code::InvalidArgument, "bad port '" + std::string(p) + "' in '" + std::string(whole) + "'");
    }
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if ((v == 0 && !allow_zero) || v > 65535) {
    return Error(Code::InvalidArgument,
                 "port " + std::string(p) + " out of range 1-65535 in '" + std::string(whole) + "'");
  }
  return static_cast<std::uint16_t>(v);
}

bool valid_hostname(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  for (char c : h) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}
}  // namespace

Result<Endpoint> Endpoint::parse(std::string_view text, std::uint16_t default_port) {
  const std::string whole(text);
  if (text.empty()) return Error(Code::InvalidArgument, "empty address");
  Endpoint e;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return Error(Code::InvalidArgument, "missing ']' in '" + whole + "'");
    e.host = std::string(text.substr(1, close - 1));
    if (auto ip = IpAddress::parse(e.host); !ip) return ip.error().with_context("'" + whole + "'");
    auto rest = text.substr(close + 1);
    if (rest.empty()) {
      if (default_port == 0) return Error(Code::InvalidArgument, "missing port in '" + whole + "'");
      e.port = default_port;
      return e;
    }
    if (rest.front() != ':') return Error(Code::InvalidArgument, "expected ':' after ']' in '" + whole + "'");
    CST_TRY_ASSIGN(e.port, parse_port(rest.substr(1), text));
    return e;
  }
  auto colons = std::count(text.begin(), text.end(), ':');
  if (colons > 1) {
    // A bare IPv6 literal: allowed only without a port.
    if (default_port == 0) {
      return Error(Code::InvalidArgument,
                   "unbracketed IPv6 address with a port in '" + whole + "' (write [addr]:port)");
    }
    CST_TRY(IpAddress::parse(text));
    e.host = whole;
    e.port = default_port;
    return e;
  }
  if (colons == 1) {
    auto c = text.find(':');
    e.host = std::string(text.substr(0, c));
    CST_TRY_ASSIGN(e.port, parse_port(text.substr(c + 1), text));
  } else {
    if (default_port == 0) return Error(Code::InvalidArgument, "missing port in '" + whole + "'");
    e.host = whole;
    e.port = default_port;
  }
  if (!valid_hostname(e.host)) return Error(Code::InvalidArgument, "bad host name '" + e.host + "' in '" + whole + "'");
  return e;
}

Result<Endpoint> Endpoint::parse_listen(std::string_view text) {
  if (text.ends_with(":0") && (text.size() < 3 || text[text.size() - 3] != ':')) {
    // Parse with a placeholder port, then put the 0 back.
    std::string with_port(text.substr(0, text.size() - 1));
    with_port.push_back('1');
    CST_TRY_ASSIGN(Endpoint e, parse(with_port));
    e.port = 0;
    return e;
  }
  return parse(text);
}

std::string Endpoint::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace constellation::io::net
