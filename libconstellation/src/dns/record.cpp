// SPDX-License-Identifier: Apache-2.0
#include "dns/record.hpp"

#include "dns/name.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>

namespace constellation::dns {

std::string_view type_name(RecordType t) {
  switch (t) {
    case RecordType::A: return "A";
    case RecordType::AAAA: return "AAAA";
    case RecordType::CNAME: return "CNAME";
    case RecordType::TXT: return "TXT";
  }
  return "?";
}

Result<RecordType> parse_type(std::string_view name) {
  std::string up(name);
  for (char& c : up) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  if (up == "A") return RecordType::A;
  if (up == "AAAA") return RecordType::AAAA;
  if (up == "CNAME") return RecordType::CNAME;
  if (up == "TXT") return RecordType::TXT;
  return Error(Code::InvalidArgument, "record type '" + std::string(name) + "' is not one of A, AAAA, CNAME, TXT");
}

bool proxiable(RecordType t) { return t == RecordType::A || t == RecordType::AAAA || t == RecordType::CNAME; }

Result<std::string> canonical_ipv4(std::string_view s) {
  std::array<unsigned, 4> parts{};
  std::size_t idx = 0;
  std::size_t digits = 0;
  unsigned value = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      if (digits == 0 || idx >= 4) return Error(Code::InvalidArgument, "'" + std::string(s) + "' is not an IPv4 address");
      parts[idx++] = value;
      digits = 0;
      value = 0;
      continue;
    }
    if (s[i] < '0' || s[i] > '9' || digits >= 3) return Error(Code::InvalidArgument, "'" + std::string(s) + "' is not an IPv4 address");
    value = value * 10 + static_cast<unsigned>(s[i] - '0');
    ++digits;
    if (value > 255) return Error(Code::InvalidArgument, "'" + std::string(s) + "' is not an IPv4 address");
  }
  if (idx != 4) return Error(Code::InvalidArgument, "'" + std::string(s) + "' is not an IPv4 address");
  return std::to_string(parts[0]) + "." + std::to_string(parts[1]) + "." + std::to_string(parts[2]) + "." +
         std::to_string(parts[3]);
}

Result<std::string> canonical_ipv6(std::string_view s) {
  auto bad = [&] { return Error(Code::InvalidArgument, "'" + std::string(s) + "' is not an IPv6 address"); };
  std::array<std::uint16_t, 8> words{};
  std::vector<std::uint16_t> head, tail;
  bool seen_gap = false;
  std::string_view rest = s;
  if (rest.starts_with("::")) {
    seen_gap = true;
    rest.remove_prefix(2);
  }
  auto* cur = &head;
  if (seen_gap) cur = &tail;
  while (!rest.empty()) {
    std::size_t colon = rest.find(':');
    std::string_view piece = rest.substr(0, colon);
    if (piece.find('.') != std::string_view::npos && colon == std::string_view::npos) {
      auto v4 = canonical_ipv4(piece);
      if (!v4) return bad();
      std::array<unsigned, 4> oct{};
      std::size_t k = 0;
      for (char ch : *v4) {
        if (ch == '.') ++k;
        else oct[k] = oct[k] * 10 + static_cast<unsigned>(ch - '0');
      }
      cur->push_back(static_cast<std::uint16_t>(oct[0] << 8 | oct[1]));
      cur->push_back(static_cast<std::uint16_t>(oct[2] << 8 | oct[3]));
      rest = {};
      break;
    }
    if (piece.empty() || piece.size() > 4) return bad();
    unsigned v = 0;
    for (char ch : piece) {
      v <<= 4;
      if (ch >= '0' && ch <= '9') v |= static_cast<unsigned>(ch - '0');
      else if (ch >= 'a' && ch <= 'f') v |= static_cast<unsigned>(ch - 'a' + 10);
      else if (ch >= 'A' && ch <= 'F') v |= static_cast<unsigned>(ch - 'A' + 10);
      else return bad();
    }
    cur->push_back(static_cast<std::uint16_t>(v));
    if (colon == std::string_view::npos) {
      rest = {};
      break;
    }
    rest.remove_prefix(colon + 1);
    if (rest.starts_with(":")) {
      if (seen_gap) return bad();
      seen_gap = true;
      cur = &tail;
      rest.remove_prefix(1);
    } else if (rest.empty()) {
      return bad();
    }
  }
  const std::size_t n = head.size() + tail.size();
  if (seen_gap ? n > 7 : n != 8) return bad();
  std::copy(head.begin(), head.end(), words.begin());
  std::copy(tail.begin(), tail.end(), words.end() - static_cast<std::ptrdiff_t>(tail.size()));
  // RFC 5952 §4.2: compress the longest run (≥ 2) of zero words, the first one on ties.
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (words[static_cast<std::size_t>(i)] != 0) { ++i; continue; }
    int j = i;
    while (j < 8 && words[static_cast<std::size_t>(j)] == 0) ++j;
    if (j - i > best_len && j - i >= 2) { best = i; best_len = j - i; }
    i = j;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out.push_back(':');
    static constexpr char kHex[] = "0123456789abcdef";
    const unsigned w = words[static_cast<std::size_t>(i)];
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned nib = (w >> shift) & 0xF;
      if (nib != 0 || started || shift == 0) {
        out.push_back(kHex[nib]);
        started = true;
      }
    }
  }
  return out;
}

Result<Record> normalize_record(Record r, const ProviderCaps& caps) {
  CST_TRY_ASSIGN(r.name, normalize_name(r.name));
  switch (r.type) {
    case RecordType::A: { CST_TRY_ASSIGN(r.content, canonical_ipv4(r.content)); break; }
    case RecordType::AAAA: { CST_TRY_ASSIGN(r.content, canonical_ipv6(r.content)); break; }
    case RecordType::CNAME: { CST_TRY_ASSIGN(r.content, normalize_name(r.content)); break; }
    case RecordType::TXT: break;
  }
  if (!caps.proxied || !proxiable(r.type)) r.proxied = false;
  if (caps.auto_ttl) {
    if (r.proxied) r.ttl = 1;  // the provider stores and returns 1 for proxied records
    else if (r.ttl != 1 && r.ttl < caps.min_ttl) r.ttl = caps.min_ttl;
  } else {
    if (r.ttl <= 1) r.ttl = caps.default_ttl;
    if (r.ttl < caps.min_ttl) r.ttl = caps.min_ttl;
  }
  if (!caps.comments) {
    r.comment.clear();
  } else {
    std::replace(r.comment.begin(), r.comment.end(), '\n', ' ');
    std::replace(r.comment.begin(), r.comment.end(), '\r', ' ');
    if (r.comment.size() > caps.max_comment) r.comment.resize(caps.max_comment);
  }
  if (!caps.tags) {
    r.tags.clear();
  } else {
    for (auto& t : r.tags) {
      auto colon = t.find(':');
      for (std::size_t i = 0; i < std::min(colon, t.size()); ++i) {
        if (t[i] >= 'A' && t[i] <= 'Z') t[i] = static_cast<char>(t[i] + 32);
      }
    }
    std::sort(r.tags.begin(), r.tags.end());
    r.tags.erase(std::unique(r.tags.begin(), r.tags.end()), r.tags.end());
  }
  return r;
}

std::string Marker::comment() const { return "managed-by=constellation owner=" + owner; }
std::string Marker::tag() const { return "constellation-owner:" + owner; }

bool Marker::owns(std::string_view c, const std::vector<std::string>& tags) const {
  if (c == comment()) return true;
  const std::string t = tag();
  return std::find(tags.begin(), tags.end(), t) != tags.end();
}

std::string Marker::registry_name(std::string_view name) {
  if (name.starts_with("*.")) return "_constellation-wildcard." + std::string(name.substr(2));
  return "_constellation." + std::string(name);
}

bool Marker::is_registry_name(std::string_view name) {
  return name.starts_with("_constellation.") || name.starts_with("_constellation-wildcard.") ||
         name.starts_with("_constellation-fence.");
}

std::string Marker::registry_entry(RecordType type) const {
  return "heritage=constellation,owner=" + owner + ",type=" + std::string(type_name(type));
}

std::optional<RecordType> Marker::parse_registry_entry(std::string_view txt) const {
  const std::string prefix = "heritage=constellation,owner=" + owner + ",type=";
  if (!txt.starts_with(prefix)) return std::nullopt;
  auto t = parse_type(txt.substr(prefix.size()));
  if (!t) return std::nullopt;
  return *t;
}

Result<void> Marker::validate() const {
  if (owner.empty() || owner.size() > 64) {
    return Error(Code::InvalidArgument, "owner id must be 1 to 64 characters, got '" + owner + "'");
  }
  for (char c : owner) {
    bool okc = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!okc) return Error(Code::InvalidArgument, "owner id '" + owner + "' may hold only letters, digits, '-', '_' and '.'");
  }
  return ok();
}

std::vector<ObservedRecord> apply_registry(const Marker& marker, std::vector<ObservedRecord> listing,
                                           std::vector<ObservedRecord>* registry) {
  // registry name → types claimed by us
  std::map<std::string, std::set<RecordType>> claims;
  std::vector<ObservedRecord> out;
  for (auto& o : listing) {
    if (o.record.type == RecordType::TXT && Marker::is_registry_name(o.record.name)) {
      if (auto t = marker.parse_registry_entry(o.record.content)) claims[o.record.name].insert(*t);
      if (registry) registry->push_back(o);
      continue;
    }
    out.push_back(std::move(o));
  }
  for (auto& o : out) {
    auto it = claims.find(Marker::registry_name(o.record.name));
    o.owned = it != claims.end() && it->second.count(o.record.type) > 0;
  }
  return out;
}

}  // namespace constellation::dns
