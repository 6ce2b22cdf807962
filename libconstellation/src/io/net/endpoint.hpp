// SPDX-License-Identifier: Apache-2.0
//
// Network endpoints as users write them — "10.0.0.5:7946", "[fd00::5]:7946", "node-1:7946" —
// parsed once, with IPv4 and IPv6 literals first-class.
#pragma once

#include <constellation/result.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace constellation::io::net {

/// An IP address: 4 or 16 bytes.
struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4

  /// Parses an IPv4 dotted quad or an IPv6 literal (no brackets, no zone). Errors: InvalidArgument.
  static Result<IpAddress> parse(std::string_view text);
  /// Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run compressed).
  std::string to_string() const;
  bool is_loopback() const;
  bool is_unspecified() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

/// A host and port. The host is an IP literal or a DNS name (resolved by whoever connects).
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;

  /// Parses "host:port", "[v6]:port", or — with default_port != 0 — a bare "host" / "[v6]" / v6
  /// literal. Errors: InvalidArgument naming what is wrong ("missing port in 'x'", "port 70000
  /// out of range", "unbracketed IPv6 address with a port").
  static Result<Endpoint> parse(std::string_view text, std::uint16_t default_port = 0);
  /// As parse(), for an address to listen on: port 0 (any free port) is allowed.
  static Result<Endpoint> parse_listen(std::string_view text);
  /// "host:port", with IPv6 literals bracketed.
  std::string to_string() const;
  /// The host as an IP address, if it is a literal.
  Result<IpAddress> ip() const { return IpAddress::parse(host); }
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

}  // namespace constellation::io::net
