// SPDX-License-Identifier: Apache-2.0
//
// The records the cluster wants, computed from a catalog snapshot: host names from the Traefik
// router rules and constellation.dns.* labels of every instance, each pointed at the nodes that
// can serve it (by the zone's target policy) or CNAMEd to a fixed name.
#pragma once

#include "catalog/model.hpp"
#include "dns/config.hpp"
#include "dns/record.hpp"

#include <map>
#include <string>
#include <vector>

namespace constellation::dns {

struct DesiredState {
  /// Zone name → the records wanted in it, sorted, not yet normalised for a provider.
  std::map<std::string, std::vector<Record>> zones;
  /// Host names seen (normalised), with or without a zone.
  std::vector<std::string> hostnames;
  /// Why something was skipped or resolved arbitrarily: a bad rule, a name outside every zone,
  /// conflicting labels, a host name without targets. Sorted, one sentence each.
  std::vector<std::string> notes;

  std::size_t record_count() const;
};

/// Computes the desired records. Deterministic: the same snapshot and config give the same
/// result. Never fails: bad input becomes a note and is skipped.
DesiredState desired_state(const catalog::Snapshot& snapshot, const DnsConfig& config);

}  // namespace constellation::dns
