// SPDX-License-Identifier: Apache-2.0
//
// DNS records as the planner sees them, their normalisation, and the ownership marker.
//
// Ownership (docs/adr/0051-dns-ownership-marker.md): every record Constellation writes carries a
// marker naming the owner (the cluster id) — in the record's comment and tags on providers that
// have them (Cloudflare), or in a TXT registry record beside it on providers that do not
// (PowerDNS, RFC 2136). A record without our marker is never changed or deleted.
#pragma once

#include <constellation/result.hpp>

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace constellation::dns {

/// Record types the module writes. Append only: values appear in plans and the C API.
enum class RecordType : std::uint8_t { A = 0, AAAA = 1, CNAME = 2, TXT = 3 };

/// "A", "AAAA", "CNAME", "TXT".
std::string_view type_name(RecordType t);
/// Parses a type name (upper or lower case). Errors: InvalidArgument for other types.
Result<RecordType> parse_type(std::string_view name);

/// One resource record. `name` is normalised (normalize_name), `content` canonical for its type.
struct Record {
  std::string name;
  RecordType type = RecordType::A;
  /// A: dotted quad; AAAA: RFC 5952 text; CNAME: a normalised name; TXT: the text.
  std::string content;
  /// Seconds. 1 means "automatic" on providers that have it (Cloudflare).
  std::uint32_t ttl = 300;
  /// Served through the provider's proxy (Cloudflare only; A/AAAA/CNAME only).
  bool proxied = false;
  /// Provider comment (empty where the provider has none).
  std::string comment;
  /// Provider tags "name:value", sorted, names lower-cased.
  std::vector<std::string> tags;

  friend auto operator<=>(const Record&, const Record&) = default;
  friend bool operator==(const Record&, const Record&) = default;
};

/// A record as a provider listed it.
struct ObservedRecord {
  Record record;
  /// The provider's id for the record (Cloudflare), empty where records have none.
  std::string id;
  /// Carries our ownership marker.
  bool owned = false;

  friend bool operator==(const ObservedRecord&, const ObservedRecord&) = default;
};

/// What a provider can store, so desired records are normalised to what it will give back.
struct ProviderCaps {
  bool comments = false;
  bool tags = false;
  bool proxied = false;
  /// TTL 1 means "automatic" (and a proxied record always reads back as TTL 1).
  bool auto_ttl = false;
  /// Smallest TTL the provider accepts (other than the automatic 1); smaller ones are raised.
  std::uint32_t min_ttl = 1;
  /// TTL used where a record asks for "automatic" but the provider has no such thing.
  std::uint32_t default_ttl = 300;
  /// Longest comment kept (Cloudflare free zones: 100).
  std::size_t max_comment = 100;
  /// Most changes one write request takes (Cloudflare's batch endpoint: 200 on the Free plan;
  /// RFC 2136: what fits one 64 KiB UPDATE). The reconciler cuts batches to this size.
  std::size_t max_batch_changes = 200;
};

/// Canonical text of an IPv4 address ("192.0.2.1"). Errors: InvalidArgument.
Result<std::string> canonical_ipv4(std::string_view text);
/// Canonical RFC 5952 text of an IPv6 address ("2001:db8::1"). Errors: InvalidArgument.
Result<std::string> canonical_ipv6(std::string_view text);

/// `r` rewritten to exactly what `caps`' provider stores and returns: name normalised, content
/// canonical, proxied dropped where unsupported or not proxiable, TTL 1 when proxied, TTL raised
/// to the minimum, comment dropped or trimmed (no newlines), tags sorted, de-duplicated and their
/// names lower-cased (or dropped). Two records equal after normalisation are the same to the
/// provider, so the diff never loops. Errors: InvalidArgument for a bad name or content.
Result<Record> normalize_record(Record r, const ProviderCaps& caps);

/// The owner's marker.
struct Marker {
  /// Identifies the writer: the cluster id (letters, digits, '-', '_', '.'; 1–64 characters).
  std::string owner;

  /// "managed-by=constellation owner=<owner>": the comment written on every record.
  std::string comment() const;
  /// "constellation-owner:<owner>": the tag written on every record where tags exist.
  std::string tag() const;
  /// A record listed with this comment or this tag is ours.
  bool owns(std::string_view comment, const std::vector<std::string>& tags) const;

  // --- TXT registry (providers without comments) ---------------------------------------------
  /// Name of the registry TXT rrset for `name`: "_constellation.<name>", or for a wildcard
  /// "*.rest", "_constellation-wildcard.<rest>".
  static std::string registry_name(std::string_view name);
  /// True for names in the registry namespace (never part of the desired state).
  static bool is_registry_name(std::string_view name);
  /// One registry string: "heritage=constellation,owner=<owner>,type=<TYPE>".
  std::string registry_entry(RecordType type) const;
  /// The type a registry string claims for this owner, or nullopt (another owner, or not ours).
  std::optional<RecordType> parse_registry_entry(std::string_view txt) const;

  /// Validates the owner. Errors: InvalidArgument.
  Result<void> validate() const;
};

/// Marks provider listings for a registry provider: a record is owned when the registry TXT at
/// registry_name(name) holds our entry for its type. Registry records themselves are removed from
/// the returned list (the planner never sees them); `registry` receives them.
std::vector<ObservedRecord> apply_registry(const Marker& marker, std::vector<ObservedRecord> listing,
                                           std::vector<ObservedRecord>* registry = nullptr);

/// True for types that may be proxied (A, AAAA, CNAME).
bool proxiable(RecordType t);

}  // namespace constellation::dns
