// SPDX-License-Identifier: Apache-2.0
//
// Which address a node advertises on each named cluster network. The adapter gathers the raw
// facts (configuration, the host's interfaces, the output of `tailscale ip -4` when the command
// exists); this pure function applies the rules, so they are tested without a host.
//
// Rules, per network (the first that yields an address wins):
//   configured value — an address literal, or "iface:<name>" for the first IPv4 (else IPv6)
//                      address of that interface;
//   tailscale        — the first IPv4 line of `tailscale ip -4`, else an address of the
//                      interface "tailscale0" or one in 100.64.0.0/10;
//   warp             — an address of an interface named "CloudflareWARP" or starting "warp";
//   publicnet        — the first global IPv4 (not private, shared, loopback or link-local) on
//                      an ordinary interface, else a global IPv6 (2000::/3);
//   backend          — the first private IPv4 (10/8, 172.16/12, 192.168/16) on an ordinary
//                      interface, else the publicnet address, else 127.0.0.1.
// "Ordinary" excludes loopback, tailscale and warp interfaces. Networks other than these four
// come from configuration only.
#pragma once

#include <constellation/result.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace constellation::catalog {

struct InterfaceAddress {
  std::string interface;
  /// IPv4 or IPv6 literal, no brackets, no zone.
  std::string address;
  bool loopback = false;
};

struct AddressFacts {
  /// network → configured value (literal or "iface:<name>").
  std::map<std::string, std::string> configured;
  /// Every address of every interface that is up, in the order the OS lists them.
  std::vector<InterfaceAddress> interfaces;
  /// Standard output of `tailscale ip -4`, when the command exists and succeeded.
  std::optional<std::string> tailscale_output;
};

/// Resolves the addresses by the rules above. Errors: InvalidArgument naming the network for a
/// configured value that is neither an IP literal nor an "iface:" reference to an existing
/// interface.
Result<std::map<std::string, std::string>> resolve_addresses(const AddressFacts& facts);

/// IPv4 dotted quad → its 32-bit value; nullopt if `s` is not exactly that.
std::optional<std::uint32_t> parse_ipv4(std::string_view s);
/// True for a syntactically valid IPv6 literal (no brackets, no zone).
bool is_ipv6(std::string_view s);
/// True for a valid IPv4 or IPv6 literal.
inline bool is_ip(std::string_view s) { return parse_ipv4(s).has_value() || is_ipv6(s); }

}  // namespace constellation::catalog
