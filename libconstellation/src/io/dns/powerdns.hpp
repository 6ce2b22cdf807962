// SPDX-License-Identifier: Apache-2.0
//
// PowerDNS Authoritative HTTP API provider (docs/dns.md, "PowerDNS"). Lists a zone with one GET;
// applies a batch as one PATCH of rrsets (REPLACE / DELETE), which PowerDNS applies in one
// transaction — record sets and their TXT registry sets together. PowerDNS has no record
// comments the planner can rely on, so ownership is the TXT registry. Writes are serialised
// (gsqlite3 answers concurrent writes with "database is locked").
#pragma once

#include "io/dns/http.hpp"
#include "io/dns/provider.hpp"

#include <memory>
#include <string>

namespace constellation::io::dns {

struct PowerDnsOptions {
  std::string name = "powerdns";
  /// Path prefix of the API ("" when the transport's base URL is the web server root).
  std::string path_prefix;
  std::string api_key;
  /// The server id in /api/v1/servers/{id}. Default "localhost".
  std::string server_id = "localhost";
  /// TTL used for "automatic" TTLs. Default 300.
  std::uint32_t default_ttl = 300;
};

std::unique_ptr<Provider> make_powerdns_provider(PowerDnsOptions options, Marker marker, std::unique_ptr<HttpTransport> transport);

/// PowerDNS record content ↔ our content: CNAME targets carry a trailing dot; TXT is quoted.
std::string powerdns_content(constellation::dns::RecordType type, const std::string& content);
std::string from_powerdns_content(constellation::dns::RecordType type, const std::string& content);

}  // namespace constellation::io::dns
