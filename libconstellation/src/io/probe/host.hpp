// SPDX-License-Identifier: Apache-2.0
//
// Facts about this host for its node record: the addresses of its interfaces (getifaddrs) and,
// when the `tailscale` command exists, the output of `tailscale ip -4`. catalog::resolve_addresses
// turns them into an address per cluster network.
#pragma once

#include <constellation/result.hpp>

#include "catalog/addresses.hpp"

#include <map>
#include <string>

namespace constellation::io::probe {

/// Every address of every interface that is up (IPv6 link-local and zone ids left out).
std::vector<catalog::InterfaceAddress> interface_addresses();

/// Gathers the facts: `configured` as given, the interfaces, and `tailscale ip -4` (run with a
/// 2 s timeout) if `tailscale` is in PATH.
catalog::AddressFacts gather_address_facts(std::map<std::string, std::string> configured);

/// gather_address_facts() then catalog::resolve_addresses(). Errors: InvalidArgument for a bad
/// configured value.
Result<std::map<std::string, std::string>> node_addresses(std::map<std::string, std::string> configured);

}  // namespace constellation::io::probe
