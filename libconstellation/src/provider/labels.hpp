// SPDX-License-Identifier: Apache-2.0
//
// Traefik labels of one instance → the dynamic configuration they describe, following Traefik's
// label decoder (paerser): keys `traefik.<http|tcp|udp>.<section>.<name>.<field>...` and
// `traefik.tls.stores.default.<field>...`, field names matched case-insensitively, values typed by
// the field (schema.hpp). Provider-level labels: `traefik.enable`, and
// `traefik.constellation.network` (the cluster network whose node address goes into this
// instance's server URLs). `traefik.docker.*` and `traefik.swarm.*` are accepted and ignored (they
// describe Docker networks local to one node).
//
// A bad label never stops the rest: the resource it belongs to is dropped and an issue names the
// label, the resource and what is wrong. Unknown `traefik.*` keys outside the decoded prefixes
// (Traefik v1 labels such as traefik.frontend.rule) are reported as warnings and ignored, as
// Traefik ignores them.
#pragma once

#include "provider/dynamic.hpp"
#include "provider/options.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace constellation::provider {

/// A problem with one label.
struct LabelIssue {
  Severity severity = Severity::Error;
  /// The label key.
  std::string label;
  /// The resource it belongs to ("http.routers.web"), "" for provider-level labels.
  std::string resource;
  std::string message;
};

struct DecodedLabels {
  /// traefik.enable, when present and valid.
  std::optional<bool> enable;
  /// traefik.enable is present but not a boolean: the instance is not routed.
  bool enable_invalid = false;
  /// traefik.constellation.network, when present.
  std::string network;
  /// The resources the labels define. Load-balancer bodies keep the instance's own server under
  /// the key "server" (port, scheme, url, weight, preservePath, tls: as written), for the builder.
  Config config;
  std::vector<LabelIssue> issues;
};

/// Decodes the labels for `version` (fields that version lacks are errors). Labels that do not
/// start with "traefik." are ignored.
DecodedLabels decode_labels(const std::map<std::string, std::string>& labels, TraefikVersion version);

/// Go's strconv.ParseBool.
std::optional<bool> parse_go_bool(std::string_view s);

/// A Go duration ("1h30m", "250ms", "-1.5s") or a bare integer (seconds) in canonical label form:
/// bare integers get an "s" suffix, anything else is returned as written. nullopt when invalid.
std::optional<std::string> parse_go_duration(std::string_view s);

}  // namespace constellation::provider
