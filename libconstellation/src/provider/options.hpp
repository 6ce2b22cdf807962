// SPDX-License-Identifier: Apache-2.0
//
// What the Traefik provider renders for, and how it reads the cluster: the target Traefik major
// version, the Docker-provider defaults it mirrors (exposedByDefault, defaultRule), which network
// server addresses come from, which health counts as routable, and what happens to a service with
// no routable server. Plus the diagnostics every stage reports instead of failing.
#pragma once

#include <constellation/result.hpp>

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace constellation::provider {

/// The Traefik major version a configuration is rendered for. Field availability, rule syntax and
/// a few defaults differ (docs/traefik.md, "v2 and v3").
enum class TraefikVersion : std::uint8_t { V2 = 2, V3 = 3 };

/// "v2" or "v3".
std::string_view version_name(TraefikVersion v);
/// Accepts "v2", "2", "v3", "3" (any case). Errors: InvalidArgument.
Result<TraefikVersion> parse_version(std::string_view s);

/// Output syntax. JSON is a subset of YAML, so Traefik's HTTP provider reads both.
enum class Format : std::uint8_t { Json, Yaml };

/// "json" or "yaml".
std::string_view format_name(Format f);
/// Accepts "json", "yaml", "yml" (any case). Errors: InvalidArgument.
Result<Format> parse_format(std::string_view s);

/// Which instance health is routed to.
enum class HealthPolicy : std::uint8_t {
  /// Only instances whose health is passing.
  PassingOnly,
  /// Passing and warning (degraded but serving).
  PassingOrWarning,
};

/// What to do with a load balancer left without any routable server.
enum class EmptyServices : std::uint8_t {
  /// Emit it with `servers: []`: Traefik answers 503 on its routers (what its Docker provider does
  /// with allowEmptyServices). Traefik 2.9.1+ and 3.x accept the empty list.
  Keep,
  /// Remove it and every router that uses it (the router's hosts then fall through to whatever
  /// else matches, or 404).
  Drop,
};

/// Everything the renderer needs besides the cluster state and the target version.
struct Options {
  /// Instances without a `traefik.enable` label are routed (Traefik's exposedByDefault). Default on.
  bool exposed_by_default = true;
  /// Rule of a router that has none (Traefik's defaultRule), a Go-template subset: see
  /// provider/rule_template.hpp. Default "Host(`{{ normalize .Name }}`)".
  std::string default_rule = "Host(`{{ normalize .Name }}`)";
  /// Cluster network whose node addresses go into server URLs when an instance is on several
  /// networks (or lists none) and has no `traefik.constellation.network` label. Empty: the
  /// instance's only network, else the node's only address.
  std::string network;
  /// Default PassingOnly.
  HealthPolicy health = HealthPolicy::PassingOnly;
  /// Default Keep.
  EmptyServices empty_services = EmptyServices::Keep;
  /// Per-node filtering: when non-empty, only routers with at least one of these entry points (or
  /// with no entryPoints, which means all of them) are emitted.
  std::vector<std::string> entry_points;
};

/// Checks the options once (the default rule must compile). Errors: InvalidArgument naming the
/// option.
Result<void> validate(const Options& options);

enum class Severity : std::uint8_t {
  /// Nothing was dropped, but the input is probably not what the user meant.
  Warning = 0,
  /// Part of the configuration (a label, a server, a resource) was dropped.
  Error = 1,
};

std::string_view severity_name(Severity s);

/// One problem found while rendering, tied to where it came from. Rendering never fails because
/// of bad labels: the affected part is dropped, the rest is served, and a Diagnostic says why.
struct Diagnostic {
  Severity severity = Severity::Error;
  /// Node name ("" for problems found when merging the whole cluster).
  std::string node;
  /// Instance id on that node ("" when not about one instance).
  std::string instance;
  /// The instance's compose service as "<project>/<service>" ("<service>" without a project; ""
  /// when not about one instance).
  std::string service;
  /// The resource concerned, e.g. "http.routers.web" ("" when not about one resource).
  std::string resource;
  /// The label key concerned ("" when not about one label).
  std::string label;
  /// What is wrong, as a sentence fragment without the location.
  std::string message;

  friend auto operator<=>(const Diagnostic&, const Diagnostic&) = default;
  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

/// "error: node edge-1, instance web-1, service shop/web, http.routers.web, label
/// traefik.http.routers.web.rule: <message>" (the parts that are empty are left out).
std::string to_string(const Diagnostic& d);

/// Sorts and removes duplicates, so the list is the same whatever order it was produced in.
void normalize(std::vector<Diagnostic>& diagnostics);

}  // namespace constellation::provider
