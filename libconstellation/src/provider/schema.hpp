// SPDX-License-Identifier: Apache-2.0
//
// The shape of Traefik's dynamic configuration as labels can write it: one table per structure
// (router, load balancer, each middleware, ...) listing its fields with their canonical camelCase
// names, value kinds and the Traefik versions that accept them. The label decoder walks these
// tables (matching names case-insensitively, as Traefik's own decoder does); the tables are also
// the label support matrix of docs/traefik.md.
//
// Sources: Traefik pkg/config/dynamic/{http_config,middlewares,tcp_config,tcp_middlewares,
// udp_config}.go and pkg/tls (v2.11, v3.x), cross-checked against the SchemaStore file-provider
// schemas in ../shared/schemas/traefik.
#pragma once

#include "provider/options.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

namespace constellation::provider {

/// How a field's label value is read and emitted.
enum class FieldKind : std::uint8_t {
  /// Any text, emitted as a string.
  String,
  /// Go strconv.ParseBool: 1 t T TRUE true True 0 f F FALSE false False.
  Bool,
  /// A decimal integer in [min, max], emitted as a number.
  Int,
  /// A Go duration ("1m30s", "250ms") or a bare integer meaning seconds; emitted as a string
  /// ("30" becomes "30s").
  Duration,
  /// Comma-separated, each element trimmed: "a, b" is ["a", "b"].
  StringList,
  /// One more path segment is the key, kept as written: `headers.customrequestheaders.X-Id=1`.
  StringMap,
  /// A nested structure (`type`).
  Struct,
  /// A list of structures addressed by index: `tls.domains[0].main`.
  StructList,
  /// Traefik's "slice as struct": `loadbalancer.server.port` describes the server this instance
  /// contributes to the load balancer's `servers` list.
  ServerSlot,
  /// Any keys below it, string leaves (plugin configuration).
  Raw,
};

/// Which target versions accept a field.
enum class Availability : std::uint8_t { Both, V2Only, V3Only };

/// True when `a` includes version `v`.
constexpr bool available_in(Availability a, TraefikVersion v) {
  return a == Availability::Both || (a == Availability::V2Only) == (v == TraefikVersion::V2);
}

struct TypeDesc;

struct FieldDesc {
  /// Canonical name as Traefik writes it in YAML/JSON (camelCase).
  std::string_view name;
  FieldKind kind = FieldKind::String;
  /// The nested structure for Struct, StructList and ServerSlot.
  const TypeDesc* type = nullptr;
  Availability availability = Availability::Both;
  /// `<field>=true` creates the structure empty and `<field>=false` disables it (Traefik's
  /// allowEmpty: `tls=true`, `compress=true`, `sticky.cookie=true`).
  bool allow_empty = false;
  /// Read from labels but consumed by the builder rather than emitted (server port and scheme).
  bool label_only = false;
  /// Bounds for Int.
  std::int64_t min = std::numeric_limits<std::int64_t>::min();
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
};

struct TypeDesc {
  /// Human name for messages ("http router", "stripPrefix middleware").
  std::string_view name;
  std::span<const FieldDesc> fields;
  /// Exactly one field must be set (a service is one of loadBalancer/weighted/...; a middleware
  /// is one type).
  bool one_of = false;
};

/// The resource kinds labels can define, in output order within their protocol.
enum class Section : std::uint8_t {
  HttpRouters,
  HttpServices,
  HttpMiddlewares,
  HttpServersTransports,
  TcpRouters,
  TcpServices,
  TcpMiddlewares,
  TcpServersTransports,
  UdpRouters,
  UdpServices,
  TlsStores,
};
inline constexpr std::size_t kSectionCount = 11;

struct SectionDesc {
  Section section;
  /// "http", "tcp", "udp", "tls".
  std::string_view protocol;
  /// Canonical key under the protocol: "routers", "serversTransports", "stores".
  std::string_view key;
  /// Shape of one named resource.
  const TypeDesc* type;
  Availability availability;
};

const SectionDesc& section_desc(Section s);
/// All sections, in enum order.
std::span<const SectionDesc> all_sections();
/// "http.routers" etc.
std::string section_path(Section s);

/// The section `protocol.key` (case-insensitive), or nullptr.
const SectionDesc* find_section(std::string_view protocol, std::string_view key);

/// The field of `type` named `name` case-insensitively, or nullptr.
const FieldDesc* find_field(const TypeDesc& type, std::string_view name);

/// The closest field name of `type` to `name` (edit distance <= 2, for "did you mean"), or "".
std::string_view suggest_field(const TypeDesc& type, std::string_view name);

/// True when a and b are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b);

}  // namespace constellation::provider
