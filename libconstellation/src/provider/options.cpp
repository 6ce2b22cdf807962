// SPDX-License-Identifier: Apache-2.0
#include "provider/options.hpp"

#include "provider/rule_template.hpp"
#include "provider/schema.hpp"

#include <algorithm>

namespace constellation::provider {

std::string_view version_name(TraefikVersion v) { return v == TraefikVersion::V2 ? "v2" : "v3"; }

Result<TraefikVersion> parse_version(std::string_view s) {
  if (iequals(s, "v2") || s == "2") return TraefikVersion::V2;
  if (iequals(s, "v3") || s == "3") return TraefikVersion::V3;
  return Error(Code::InvalidArgument, "unknown Traefik version '" + std::string(s) + "' (expected v2 or v3)");
}

std::string_view format_name(Format f) { return f == Format::Json ? "json" : "yaml"; }

Result<Format> parse_format(std::string_view s) {
  if (iequals(s, "json")) return Format::Json;
  if (iequals(s, "yaml") || iequals(s, "yml")) return Format::Yaml;
  return Error(Code::InvalidArgument, "unknown format '" + std::string(s) + "' (expected json or yaml)");
}

Result<void> validate(const Options& options) {
  if (options.default_rule.empty()) return Error(Code::InvalidArgument, "default_rule: must not be empty");
  auto t = RuleTemplate::compile(options.default_rule);
  if (!t) return Error(Code::InvalidArgument, "default_rule: " + t.error().message());
  for (const auto& ep : options.entry_points) {
    if (ep.empty()) return Error(Code::InvalidArgument, "entry_points: an entry point name is empty");
  }
  return ok();
}

std::string_view severity_name(Severity s) { return s == Severity::Error ? "error" : "warning"; }

std::string to_string(const Diagnostic& d) {
  std::string out(severity_name(d.severity));
  out += ": ";
  std::string where;
  auto add = [&](std::string_view what, const std::string& v) {
    if (v.empty()) return;
    if (!where.empty()) where += ", ";
    where += what;
    where += v;
  };
  add("node ", d.node);
  add("instance ", d.instance);
  add("service ", d.service);
  add("", d.resource);
  add("label ", d.label);
  if (!where.empty()) {
    out += where;
    out += ": ";
  }
  out += d.message;
  return out;
}

void normalize(std::vector<Diagnostic>& diagnostics) {
  std::sort(diagnostics.begin(), diagnostics.end());
  diagnostics.erase(std::unique(diagnostics.begin(), diagnostics.end()), diagnostics.end());
}

}  // namespace constellation::provider
