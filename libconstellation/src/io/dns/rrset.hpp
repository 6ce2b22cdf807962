// SPDX-License-Identifier: Apache-2.0
//
// For providers that write whole record sets (PowerDNS rrset PATCH, RFC 2136 delete-rrset + add):
// turns a batch of record changes into the final content of every touched (name, type) set,
// plus the TXT registry sets that record our ownership (docs/adr/0051-dns-ownership-marker.md).
#pragma once

#include "dns/plan.hpp"
#include "dns/record.hpp"

#include <string>
#include <vector>

namespace constellation::io::dns {

struct RrsetUpdate {
  std::string name;
  constellation::dns::RecordType type = constellation::dns::RecordType::A;
  std::uint32_t ttl = 300;
  /// Final contents; empty means "delete the set".
  std::vector<std::string> contents;
  friend bool operator==(const RrsetUpdate&, const RrsetUpdate&) = default;
};

/// `listing` is the provider's full current listing of the zone, registry records included
/// (before apply_registry). The result lists record sets in a deterministic order, registry sets
/// last. Entries of other owners in a registry set are kept.
std::vector<RrsetUpdate> rrset_updates(const std::vector<constellation::dns::Change>& changes,
                                       const std::vector<constellation::dns::ObservedRecord>& listing,
                                       const constellation::dns::Marker& marker);

/// Applies rrset updates to a listing (for the adapters' caches).
void apply_rrset_updates(std::vector<constellation::dns::ObservedRecord>& listing, const std::vector<RrsetUpdate>& updates);

}  // namespace constellation::io::dns
