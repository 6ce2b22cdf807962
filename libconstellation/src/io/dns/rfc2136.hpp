// SPDX-License-Identifier: Apache-2.0
//
// RFC 2136 dynamic update with TSIG (HMAC-SHA256) provider (docs/dns.md, "RFC 2136"). Lists a zone
// by a TSIG-signed AXFR; applies a batch as ONE signed UPDATE over TCP: record sets replaced
// (delete rrset + add), TXT registry sets beside them, and — the server-side fence — a
// prerequisite that the zone's fence TXT still holds the value we read, with the update setting
// it to our fencing token. A writer whose token is older than the one in the zone is refused
// by the server itself (NXRRSET), whatever its lease view says (docs/adr/0053-dns-single-writer.md).
#pragma once

#include "io/dns/provider.hpp"
#include "io/dns/tsig.hpp"

#include <memory>
#include <string>

namespace constellation::io::dns {

struct Rfc2136Options {
  std::string name = "rfc2136";
  /// Server address (IPv4 or IPv6 literal, or a host name) and port.
  std::string host = "127.0.0.1";
  int port = 53;
  TsigKey key;
  /// Connect, send and receive timeout for each message. Default 5 s.
  core::Duration timeout = std::chrono::seconds(5);
  /// TTL used for "automatic" TTLs. Default 300.
  std::uint32_t default_ttl = 300;
  /// Keep the fence TXT (_constellation-fence.<zone>) as an UPDATE prerequisite. Default on.
  bool fence = true;
};

std::unique_ptr<Provider> make_rfc2136_provider(Rfc2136Options options, Marker marker, const core::Clock& clock);

/// The fence TXT string of `owner` at `token`: "constellation-fence owner=<owner> token=<token>".
std::string fence_entry(const std::string& owner, std::uint64_t token);

}  // namespace constellation::io::dns
