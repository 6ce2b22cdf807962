// SPDX-License-Identifier: Apache-2.0
//
// What the DNS writer manages: zones, where each zone's records point, and the safety settings.
// Parsed from the "dns" JSON document (docs/dns.md, "Configuration"); provider credentials are
// read by the io/dns adapters from the same document.
#pragma once

#include <constellation/result.hpp>

#include "core/json.hpp"
#include "core/time.hpp"
#include "dns/record.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace constellation::dns {

/// What the writer may do to records it owns (as in external-dns).
enum class Policy : std::uint8_t {
  /// Create, update and delete.
  Sync = 0,
  /// Create and update; never delete.
  UpsertOnly = 1,
  /// Create only.
  CreateOnly = 2,
};
std::string_view policy_name(Policy p);
Result<Policy> parse_policy(std::string_view s);

/// Where a host name's records point.
enum class TargetPolicy : std::uint8_t {
  /// A/AAAA to the public addresses of the live nodes holding the ingress role.
  Ingress = 0,
  /// A/AAAA to the public addresses of the live nodes running a healthy instance that declares it.
  Instances = 1,
  /// One CNAME to a fixed name (ZoneConfig::cname_target or the instance's label).
  Cname = 2,
};
std::string_view target_policy_name(TargetPolicy p);

/// Labels an instance may carry (besides Traefik's router rules). Values are documented in
/// docs/dns.md.
inline constexpr std::string_view kLabelEnable = "constellation.dns.enable";        // "false" opts out
inline constexpr std::string_view kLabelHostnames = "constellation.dns.hostnames";  // "a.example.com,b.example.com"
inline constexpr std::string_view kLabelFromRules = "constellation.dns.rules";      // "false": ignore Traefik rules
inline constexpr std::string_view kLabelTarget = "constellation.dns.target";        // ingress | instances | cname:<name>
inline constexpr std::string_view kLabelTtl = "constellation.dns.ttl";              // seconds
inline constexpr std::string_view kLabelProxied = "constellation.dns.proxied";      // true | false

struct ZoneConfig {
  /// The zone apex, normalised ("example.com").
  std::string name;
  /// Name of the provider (in the config's "providers") that serves this zone.
  std::string provider;
  Policy policy = Policy::Sync;
  TargetPolicy targets = TargetPolicy::Ingress;
  /// CNAME target for TargetPolicy::Cname (normalised).
  std::string cname_target;
  /// Role that marks ingress nodes. Default "ingress".
  std::string ingress_role = "ingress";
  /// Node network whose addresses are published. Default "publicnet".
  std::string network = "publicnet";
  /// Publish A / AAAA records. Default both.
  bool ipv4 = true;
  bool ipv6 = true;
  /// Default TTL in seconds (1 = provider automatic). Default 300.
  std::uint32_t ttl = 300;
  /// Default proxied flag (Cloudflare). Default false.
  bool proxied = false;
};

struct SafetyConfig {
  /// A record set whose name is no longer desired is deleted only after it has been undesired
  /// this long, continuously. Default 10 minutes.
  core::Duration deletion_grace = std::chrono::minutes(10);
  /// Deletions are refused when they would remove more than this share of the owned names of all
  /// zones in one plan... Default 0.5.
  double max_delete_fraction = 0.5;
  /// ...unless they remove at most this many names. Default 3.
  std::size_t delete_floor = 3;
  /// A fresh lease holder deletes nothing for this long after it took the lease (its view of
  /// the cluster may still be filling). Default 60 s.
  core::Duration holder_settle = std::chrono::seconds(60);
};

struct DnsConfig {
  /// Who we are in ownership markers: the cluster id.
  Marker marker{"default"};
  std::vector<ZoneConfig> zones;
  SafetyConfig safety;

  /// The zone a normalised name belongs to (longest match), or nullptr.
  const ZoneConfig* zone_for(std::string_view name) const;
};

/// Parses the "dns" JSON object: {"owner": "...", "zones": [...], "safety": {...}}
/// (docs/dns.md). Unknown keys are errors (typos must not silently disable a guard).
/// Errors: InvalidArgument with the JSON path of the bad field.
Result<DnsConfig> parse_config(const core::json::Value& root);

}  // namespace constellation::dns
