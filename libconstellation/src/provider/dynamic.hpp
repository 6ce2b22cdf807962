// SPDX-License-Identifier: Apache-2.0
//
// A Traefik dynamic configuration as data: for each section (http.routers, tcp.services, ...)
// the named resources, each a JSON object with Traefik's canonical camelCase keys. This is what
// one instance's labels describe, what the merge of the whole cluster produces and what the
// JSON and YAML emitters write.
#pragma once

#include "core/json.hpp"
#include "provider/schema.hpp"

#include <array>
#include <map>
#include <string>

namespace constellation::provider {

using core::json::Value;

/// Resources by section, then by name (names sorted, so iteration is deterministic).
struct Config {
  std::array<std::map<std::string, Value>, kSectionCount> sections;

  std::map<std::string, Value>& operator[](Section s) { return sections[static_cast<std::size_t>(s)]; }
  const std::map<std::string, Value>& operator[](Section s) const { return sections[static_cast<std::size_t>(s)]; }
  /// True when no section has a resource.
  bool empty() const;
  /// Total number of resources.
  std::size_t size() const;

  friend bool operator==(const Config&, const Config&) = default;
};

/// Sorts the members of every object in v (recursively), so equal configurations compare equal
/// whatever order their labels were read in.
void sort_members(Value& v);

/// The whole configuration as one JSON value: {"http": {"routers": {...}, ...}, "tcp": ...}.
/// Empty sections and protocols are left out; an empty configuration is {}.
Value to_value(const Config& config);
/// The same, moving the resources out of `config`.
Value to_value(Config&& config);

/// The first path where a and b differ ("loadBalancer.healthCheck.path") and the two values
/// there, as "<path>: <a> vs <b>" ("" when equal). For conflict reports.
std::string first_difference(const Value& a, const Value& b);

}  // namespace constellation::provider
